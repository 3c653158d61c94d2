"""Reader of the ``fluxnet_fapar`` layout: daily tower weather, GPP and MODIS fAPAR per forest tower.

A folder holds ``sites.csv`` (one row per tower: ``site, igbp, lat, lon, elev_m, koeppen, first_year,
last_year, whc_mm, ...``) and one gzipped CSV per tower, ``<SITE>_daily_fapar.csv.gz``, with the columns
of ``data/fluxnet_fapar/SOURCE.md`` (units in the column names). The readers rename the columns to short
names and put the units in ``attrs["units"]``:

========================  ==============  ===================
file column               variable        units
========================  ==============  ===================
``TA_degC``               ``TA``          degC
``TMIN_degC``             ``TMIN``        degC
``TMAX_degC``             ``TMAX``        degC
``VPD_Pa``                ``VPD``         Pa
``PPFD_mol_m2_s``         ``PPFD``        mol m-2 s-1
``PA_Pa``                 ``PA``          Pa
``P_kg_m2_s``             ``P``           kg m-2 s-1
``GPP_gC_m2_d``           ``GPP``         g m-2 d-1
``GPP_UNC_gC_m2_d``       ``GPP_UNC``     g m-2 d-1
``FAPAR_MODIS_raw``       ``FAPAR_raw``   1
``FAPAR_MODIS_qc``        ``FAPAR_qc``    1
``FAPAR_MODIS_interp``    ``FAPAR``       1
========================  ==============  ===================

Every check names the file and the tower: a file whose name or ``site`` argument disagrees, a tower of
``sites.csv`` without its file (or a file without its row), a missing column, and fAPAR that is not a
0-1 fraction (percent or unscaled MODIS integers), and drivers outside their physically possible range in the
file's units (kelvin for degC, hPa for Pa, umol for mol, mm per day for kg m-2 s-1) raise
:class:`eoretrieval.errors.DataError`; nothing is dropped silently.

Public names: :func:`read_fluxnet_fapar_sites`, :func:`read_fluxnet_fapar_daily`,
:func:`read_fluxnet_fapar`, :func:`fapar_file`, :data:`FAPAR_COLUMNS`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader

__all__ = ["read_fluxnet_fapar_sites", "read_fluxnet_fapar_daily", "read_fluxnet_fapar", "fapar_file",
           "FAPAR_COLUMNS"]

#: file column -> (variable, units, long name)
FAPAR_COLUMNS = {
    "TA_degC": ("TA", "degC", "air temperature, daily mean as defined by the source (likely day-time)"),
    "TMIN_degC": ("TMIN", "degC", "daily minimum air temperature"),
    "TMAX_degC": ("TMAX", "degC", "daily maximum air temperature"),
    "VPD_Pa": ("VPD", "Pa", "vapour pressure deficit"),
    "PPFD_mol_m2_s": ("PPFD", "mol m-2 s-1", "photosynthetic photon flux density, 24-h mean"),
    "PA_Pa": ("PA", "Pa", "air pressure"),
    "P_kg_m2_s": ("P", "kg m-2 s-1", "precipitation rate"),
    "GPP_gC_m2_d": ("GPP", "g m-2 d-1", "GPP, FLUXNET2015 night-time partitioning (VUT REF), filtered by the source"),
    "GPP_UNC_gC_m2_d": ("GPP_UNC", "g m-2 d-1", "GPP uncertainty"),
    "FAPAR_MODIS_raw": ("FAPAR_raw", "1", "MODIS MCD15A3H fAPAR, 4-day composites as retrieved"),
    "FAPAR_MODIS_qc": ("FAPAR_qc", "1", "MODIS MCD15A3H fAPAR after the source's quality filter"),
    "FAPAR_MODIS_interp": ("FAPAR", "1", "MODIS fAPAR, daily, linearly interpolated by the source"),
}
#: physically possible ranges in the file's units (not fitted to any data): a value outside names the units it was
#: likely written in. VPD additionally must exceed 100 Pa somewhere in a record of a year or more (hPa or kPa).
_PLAUSIBLE = {
    "TA_degC": (-90.0, 65.0, "degC (kelvin?)"), "TMIN_degC": (-90.0, 65.0, "degC (kelvin?)"),
    "TMAX_degC": (-90.0, 65.0, "degC (kelvin?)"), "VPD_Pa": (0.0, 12000.0, "Pa"),
    "PPFD_mol_m2_s": (-1e-5, 0.0025, "mol m-2 s-1 (umol m-2 s-1?)"), "PA_Pa": (30000.0, 110000.0, "Pa (hPa or kPa?)"),
    "P_kg_m2_s": (0.0, 0.02, "kg m-2 s-1 (mm per day or hour?)"), "GPP_gC_m2_d": (-30.0, 60.0, "g C m-2 d-1"),
}
_SITE_COLUMNS = ["site", "igbp", "lat", "lon", "whc_mm"]
_SUFFIX = "_daily_fapar.csv.gz"


def fapar_file(folder: str | os.PathLike, site: str) -> Path:
    """Path of the daily file of ``site`` in a ``fluxnet_fapar`` folder (``<SITE>_daily_fapar.csv.gz``)."""
    return Path(folder) / f"{site}{_SUFFIX}"


@postprocess_reader()
def read_fluxnet_fapar_sites(path: str | os.PathLike) -> xr.Dataset:
    """Read ``sites.csv`` of a ``fluxnet_fapar`` folder.

    Returns
    -------
    xr.Dataset
        Dim ``site``: ``igbp``, ``lat`` (degrees_north), ``lon`` (degrees_east), ``elev`` (m),
        ``koeppen``, ``first_year``, ``last_year``, ``whc`` (mm, water-holding capacity), ``n_days``,
        ``n_gpp``, ``n_fapar_qc``.

    Raises
    ------
    DataError
        Missing column, duplicate site, latitude/longitude out of range (names the file).
    """
    path = Path(path)
    df = pd.read_csv(path)
    missing = [c for c in _SITE_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: columns {missing} missing; expected at least {_SITE_COLUMNS}")
    dup = df["site"][df["site"].duplicated()].tolist()
    if dup:
        raise DataError(f"{path}: duplicate site rows {dup}")
    if (df["lat"].abs() > 90).any() or (df["lon"].abs() > 180).any():
        raise DataError(f"{path}: latitude/longitude out of range (expected degrees)")
    data = {"igbp": ("site", df["igbp"].astype(str).to_numpy()),
            "lat": ("site", df["lat"].to_numpy(float), {"units": "degrees_north"}),
            "lon": ("site", df["lon"].to_numpy(float), {"units": "degrees_east"}),
            "whc": ("site", df["whc_mm"].to_numpy(float), {"units": "mm",
                                                           "long_name": "root-zone water-holding capacity"})}
    for col, name, units in (("elev_m", "elev", "m"), ("koeppen", "koeppen", None), ("first_year", "first_year", None),
                             ("last_year", "last_year", None), ("n_days", "n_days", None), ("n_gpp", "n_gpp", None),
                             ("n_fapar_qc", "n_fapar_qc", None)):
        if col in df.columns:
            vals = df[col].astype(str).to_numpy() if col == "koeppen" else df[col].to_numpy()
            data[name] = ("site", vals, {"units": units} if units else {})
    ds = xr.Dataset(data, coords={"site": df["site"].astype(str).to_numpy()})
    ds.attrs["source"] = str(path)
    return ds


def _site_from_name(path: Path) -> str:
    name = path.name
    if not name.endswith(_SUFFIX):
        raise DataError(f"{path}: file name does not follow '<SITE>{_SUFFIX}'; cannot tell which tower it is")
    return name[: -len(_SUFFIX)]


@postprocess_reader()
def read_fluxnet_fapar_daily(path: str | os.PathLike, *, site: str | None = None) -> xr.Dataset:
    """Read one tower's ``<SITE>_daily_fapar.csv.gz``.

    Parameters
    ----------
    path : path
    site : str, optional
        Tower the caller expects; must match the file name.

    Returns
    -------
    xr.Dataset
        Dim ``time`` (days), the variables of :data:`FAPAR_COLUMNS` with units; ``attrs["site"]``.

    Raises
    ------
    DataError
        File of another tower, missing columns, unparsable or duplicated dates, fAPAR outside 0-1
        (percent or unscaled integers) - each message names the file and the tower.
    """
    path = Path(path)
    file_site = _site_from_name(path)
    if site is not None and site != file_site:
        raise DataError(f"{path}: file belongs to tower {file_site!r}, but tower {site!r} was requested")
    df = pd.read_csv(path)
    missing = [c for c in ["date", *FAPAR_COLUMNS] if c not in df.columns]
    if missing:
        raise DataError(f"{path} (tower {file_site}): columns {missing} missing; expected date and {list(FAPAR_COLUMNS)}")
    try:
        t = pd.DatetimeIndex(pd.to_datetime(df["date"], format="%Y-%m-%d"))
    except (ValueError, TypeError) as err:
        raise DataError(f"{path} (tower {file_site}): column 'date' is not ISO YYYY-MM-DD ({err})") from err
    if t.has_duplicates or not t.is_monotonic_increasing:
        raise DataError(f"{path} (tower {file_site}): dates duplicated or not increasing")
    data = {}
    for col, (name, units, long_name) in FAPAR_COLUMNS.items():
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        attrs = {"units": units, "long_name": long_name}
        if name == "FAPAR_raw":  # MODIS fill codes 249-255 (x 0.01) in the raw retrievals: not a fraction
            fill = (v > 2.485) & (v <= 2.55 + 1e-6)
            v = np.where(fill, np.nan, v)
            attrs["modis_fill_codes_set_missing"] = int(fill.sum())
        if col in _PLAUSIBLE and np.isfinite(v).any():
            lo, hi, expected = _PLAUSIBLE[col]
            if np.nanmin(v) < lo or np.nanmax(v) > hi:
                raise DataError(f"{path} (tower {file_site}): {col} ranges {np.nanmin(v):.4g}..{np.nanmax(v):.4g}, outside "
                                f"the possible {lo:g}..{hi:g}; expected {expected}")
            if col == "VPD_Pa" and np.isfinite(v).sum() >= 365 and np.nanmax(v) < 100.0:
                raise DataError(f"{path} (tower {file_site}): {col} never exceeds {np.nanmax(v):.4g} in "
                                f"{int(np.isfinite(v).sum())} days; expected Pa (hPa or kPa?)")
        if units == "1" and np.isfinite(v).any() and (np.nanmax(v) > 1.0 + 1e-6 or np.nanmin(v) < -1e-6):
            raise DataError(f"{path} (tower {file_site}): {col} ranges {np.nanmin(v):.4g}..{np.nanmax(v):.4g}; "
                            "expected a 0-1 fraction (percent or unscaled MODIS integers?)")
        data[name] = ("time", v, attrs)
    ds = xr.Dataset(data, coords={"time": t.values})
    ds.attrs.update(site=file_site, source=str(path))
    return ds


@postprocess_reader()
def read_fluxnet_fapar(folder: str | os.PathLike, *, sites: Iterable[str] | None = None) -> xr.Dataset:
    """Read a whole ``fluxnet_fapar`` folder onto one ``(site, time)`` grid.

    Parameters
    ----------
    folder : path
        ``sites.csv`` plus ``<SITE>_daily_fapar.csv.gz`` per tower.
    sites : list of str, optional
        Towers to read (default every row of ``sites.csv``).

    Returns
    -------
    xr.Dataset
        The daily variables on ``(site, time)`` (NaN outside a tower's record) and the site table's
        variables on ``site``.

    Raises
    ------
    DataError
        ``sites.csv`` missing; a requested tower not in ``sites.csv``; a tower without its file; a tower
        file without a row in ``sites.csv``; any error of :func:`read_fluxnet_fapar_daily`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected sites.csv plus <SITE>{_SUFFIX} files)")
    table = read_fluxnet_fapar_sites(folder / "sites.csv")
    listed = table["site"].values.tolist()
    files = sorted(p for p in folder.glob(f"*{_SUFFIX}"))
    orphans = sorted(set(_site_from_name(p) for p in files) - set(listed))
    if orphans:
        raise DataError(f"{folder}: tower files {orphans} have no row in {folder / 'sites.csv'}")
    wanted = listed if sites is None else list(sites)
    unknown = [s for s in wanted if s not in listed]
    if unknown:
        raise DataError(f"{folder / 'sites.csv'}: tower(s) {unknown} not listed (it has {listed})")
    parts = []
    for s in wanted:
        f = fapar_file(folder, s)
        if not f.exists():
            raise DataError(f"{f}: daily file of tower {s!r} (listed in {folder / 'sites.csv'}) not found")
        parts.append(read_fluxnet_fapar_daily(f, site=s).expand_dims(site=[s]))
    ds = xr.concat(parts, dim="site", join="outer", combine_attrs="drop_conflicts")
    for k in table.data_vars:
        ds[k] = table[k].sel(site=wanted)
    for name, (_, units, long_name) in ((v[0], v) for v in FAPAR_COLUMNS.values()):
        ds[name].attrs.update(units=units, long_name=long_name)
    ds.attrs.pop("site", None)
    ds.attrs.update(source=str(folder), layout="fluxnet_fapar")
    return ds
