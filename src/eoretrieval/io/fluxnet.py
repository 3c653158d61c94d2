"""Readers for eddy-covariance flux files in the FLUXNET2015 format and its close relatives.

All readers return an :class:`xarray.Dataset` on a ``time`` dimension (``site`` x ``time`` for the
multi-site monthly table) whose variables keep their FLUXNET2015 names (``NEE_VUT_REF``,
``GPP_NT_VUT_REF``, ``TA_F``, ``SW_IN_F``, ``VPD_F``, ...) and carry ``attrs["units"]``.
``-9999`` and empty cells become NaN. Quality flags are honoured through one threshold,
``qc_threshold``, on the FLUXNET "fraction of measured or good-quality gap-filled data":

* daily (DD), weekly (WW), monthly (MM) and yearly (YY) files carry that fraction (0-1) in
  ``<VAR>_QC``; a value is kept when ``QC >= qc_threshold``;
* half-hourly/hourly (HH/HR) files carry flags 0 (measured), 1 (good gap-fill), 2 (medium),
  3 (poor); flags 0 and 1 count as quality 1, flags 2 and 3 as quality 0, so the same
  threshold applies;
* partitioned fluxes (``GPP_*_<ref>``, ``RECO_*_<ref>``) have no own flag in FLUXNET2015 and use
  ``NEE_<ref>_QC`` (Pastorello et al. 2020).

The time coordinate is the start of the averaging period (``TIMESTAMP`` for DD/MM/YY,
``TIMESTAMP_START`` for HH/HR/WW).

Public names: :func:`read_fluxnet`, :func:`read_fluxnet_monthly_table`, :func:`read_fluxnet_sites`,
:func:`read_bigleaf_halfhourly`, :func:`read_vprm_tower_hourly`, :func:`read_plumber2_daily`,
:func:`read_icos_daily_extract`, :func:`read_flux_file`, :data:`FLUXNET_MISSING`.

References
----------
:cite:`pastorello2020`
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader

__all__ = [
    "FLUXNET_MISSING", "read_fluxnet", "read_fluxnet_monthly_table", "read_fluxnet_sites",
    "read_bigleaf_halfhourly", "read_vprm_tower_hourly", "read_plumber2_daily",
    "read_icos_daily_extract", "read_flux_file", "fluxnet_units",
]

#: Missing-value code of FLUXNET2015 files.
FLUXNET_MISSING = -9999

#: Default quality threshold (fraction of measured or good-quality gap-filled data).
DEFAULT_QC = 0.5

_RES_BY_LEN = {4: "YY", 6: "MM", 8: "DD", 12: "HH"}
_FMT = {"YY": "%Y", "MM": "%Y%m", "DD": "%Y%m%d", "HH": "%Y%m%d%H%M", "WW": "%Y%m%d"}

# plausible ranges (in the expected unit) used to catch wrong units
_RANGES = {
    "degC": (-70.0, 65.0),
    "hPa": (-1.0, 120.0),
    "W m-2": (-200.0, 1500.0),
    "umol m-2 s-1": (-100.0, 3000.0),
}


def fluxnet_units(name: str, resolution: str) -> str:
    """Return the UDUNITS string of a FLUXNET2015 variable at a given resolution.

    Parameters
    ----------
    name : str
        FLUXNET2015 variable name, e.g. ``"NEE_VUT_REF"`` or ``"TA_F"``.
    resolution : {"HH", "HR", "DD", "WW", "MM", "YY"}
        Temporal resolution of the file.

    Returns
    -------
    str
        Units; ``"1"`` for QC fractions and ``""`` when unknown.
    """
    base = name.upper()
    if base.endswith("_QC"):
        return "1" if resolution in ("DD", "WW", "MM", "YY") else "1 (flag 0-3)"
    sub = resolution in ("HH", "HR")
    head = base.split("_")[0]
    if head in ("NEE", "GPP", "RECO", "FC"):
        return "umol m-2 s-1" if sub else ("g m-2 y-1" if resolution == "YY" else "g m-2 d-1")
    if head in ("TA", "TS", "T"):
        return "degC"
    if head in ("SW", "LW", "NETRAD", "G", "LE", "H"):
        return "W m-2"
    if head == "PPFD":
        return "umol m-2 s-1"
    if head == "VPD":
        return "hPa"
    if head == "P":
        return "mm" if sub else ("mm y-1" if resolution == "YY" else "mm d-1")
    if head == "SWC":
        return "%"
    if head in ("WS", "USTAR"):
        return "m s-1"
    if head == "PA":
        return "kPa"
    if head == "CO2":
        return "umol mol-1"
    return ""


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found (expected a FLUXNET2015-format CSV file)")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty (expected a CSV header and data rows)")
    return path


def _check_truncated(path: Path, sep: str = ",") -> None:
    """Raise if the last line has fewer fields than the header (a cut-off download)."""
    with open(path, "rb") as f:
        header = f.readline().decode("utf-8", "replace").rstrip("\r\n")
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read().decode("utf-8", "replace")
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    if not lines or lines[-1].rstrip("\r\n") == header:
        raise DataError(f"{path}: no data rows after the header (truncated file?)")
    n_head = header.count(sep)
    if lines[-1].count(sep) != n_head:
        raise DataError(
            f"{path}: truncated file: last line has {lines[-1].count(sep) + 1} fields, "
            f"header has {n_head + 1}")


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    _check_truncated(path)
    try:
        df = pd.read_csv(path, na_values=[FLUXNET_MISSING, str(FLUXNET_MISSING), "-9999.0"],
                         low_memory=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable CSV file ({err})") from err
    if len(df) == 0:
        raise DataError(f"{path}: no data rows after the header (truncated file?)")
    return df


def _parse_time(values: pd.Series, fmt: str, path: Path, column: str) -> pd.DatetimeIndex:
    text = values.astype("Int64").astype(str) if values.dtype.kind in "if" else values.astype(str)
    t = pd.to_datetime(text, format=fmt, errors="coerce")
    if t.isna().any():
        bad = text[t.isna()].iloc[0]
        raise DataError(f"{path}: column {column!r} has a value {bad!r} that is not a timestamp "
                        f"of format {fmt}")
    return pd.DatetimeIndex(t)


def _qc_column(name: str, columns: Iterable[str]) -> str | None:
    cols = set(columns)
    if f"{name}_QC" in cols:
        return f"{name}_QC"
    parts = name.split("_")
    if parts[0] in ("GPP", "RECO") and len(parts) >= 3:
        cand = "NEE_" + "_".join(parts[2:]) + "_QC"
        if cand in cols:
            return cand
    return None


def _quality(qc: np.ndarray, resolution: str) -> np.ndarray:
    if resolution in ("HH", "HR"):
        return np.where(np.isnan(qc), np.nan, np.where(qc <= 1, 1.0, 0.0))
    return qc


def _check_units(ds: xr.Dataset, path: Path | str) -> None:
    for name, da in ds.data_vars.items():
        units = da.attrs.get("units", "")
        if units not in _RANGES or name.endswith("_QC"):
            continue
        lo, hi = _RANGES[units]
        vals = da.values[np.isfinite(da.values)]
        if vals.size == 0:
            continue
        q01, q99 = np.percentile(vals, [1, 99])
        if q01 < lo or q99 > hi:
            raise DataError(
                f"{path}: variable {name!r} has values {q01:.4g}..{q99:.4g} (1st-99th percentile), "
                f"outside the plausible range {lo}..{hi} for the expected units {units!r} (wrong units?)")


def _finish(ds: xr.Dataset, path: Path | str, variables: Sequence[str] | None) -> xr.Dataset:
    if variables is not None:
        for v in variables:
            if v in ds and bool(ds[v].isnull().all()):
                raise DataError(f"{path}: variable {v!r} is all missing (-9999/NaN) after QC filtering")
    _check_units(ds, path)
    return ds


@postprocess_reader()
def read_fluxnet(path: str | os.PathLike, *, variables: Sequence[str] | None = None,
                 qc_threshold: float | None = DEFAULT_QC, site: str | None = None) -> xr.Dataset:
    """Read one FLUXNET2015-format file (FULLSET/SUBSET, HH, HR, DD, WW, MM or YY).

    The resolution is taken from the timestamp columns: ``TIMESTAMP`` with 4/6/8 digits
    (YY/MM/DD) or ``TIMESTAMP_START``/``TIMESTAMP_END`` (12 digits: HH/HR; 8 digits: WW).

    Parameters
    ----------
    path : path-like
        CSV file, e.g. ``FLX_BE-Lcr_FLUXNET2015_FULLSET_DD_2019-2020_beta-3.csv``.
    variables : sequence of str, optional
        Variables to return (QC columns are read as needed). Default: all columns.
    qc_threshold : float or None
        Minimum fraction of measured/good-quality gap-filled data (0-1) for a value to be kept;
        ``None`` keeps every non-missing value. For HH/HR files flags 0-1 count as good.
    site : str, optional
        Site code; default taken from the ``FLX_<site>_`` file name, else ``"unknown"``.

    Returns
    -------
    xr.Dataset
        Dims ``(time,)``; every variable has ``units`` and ``long_name``; attrs ``site``,
        ``resolution``, ``source``, ``qc_threshold``.

    Raises
    ------
    DataError
        Missing file, no timestamp column, unparseable timestamps, truncated file, a requested
        variable missing or all-missing after QC, implausible values for the expected units.
    """
    path = _check_file(path)
    df = _read_csv(path)
    if "TIMESTAMP" in df.columns:
        tcol = "TIMESTAMP"
    elif "TIMESTAMP_START" in df.columns:
        tcol = "TIMESTAMP_START"
    else:
        raise DataError(f"{path}: no 'TIMESTAMP' or 'TIMESTAMP_START' column "
                        f"(expected a FLUXNET2015-format file; columns start {list(df.columns[:5])})")
    first = str(df[tcol].iloc[0]).split(".")[0]
    resolution = _RES_BY_LEN.get(len(first))
    if tcol == "TIMESTAMP_START" and len(first) == 8:
        resolution = "WW"
    if resolution is None:
        raise DataError(f"{path}: column {tcol!r} value {first!r} has {len(first)} digits; expected "
                        "4 (YY), 6 (MM), 8 (DD/WW) or 12 (HH/HR)")
    if resolution == "HH" and len(df) > 1:
        step = _parse_time(df[tcol].iloc[:2], _FMT["HH"], path, tcol)
        if (step[1] - step[0]) == pd.Timedelta("1h"):
            resolution = "HR"
    time = _parse_time(df[tcol], _FMT[resolution], path, tcol)
    skip = {"TIMESTAMP", "TIMESTAMP_START", "TIMESTAMP_END"}
    names = [c for c in df.columns if c not in skip] if variables is None else list(variables)
    missing = [v for v in names if v not in df.columns]
    if missing:
        raise DataError(f"{path}: variable(s) {missing} not found (expected FLUXNET2015 column names; "
                        f"the file has {len(df.columns)} columns)")
    if site is None:
        stem = path.name
        site = stem.split("_")[1] if stem.startswith("FLX_") else "unknown"
    data = {}
    for v in names:
        vals = pd.to_numeric(df[v], errors="coerce").to_numpy(dtype="float64")
        attrs = {"units": fluxnet_units(v, resolution), "long_name": f"FLUXNET2015 {v}"}
        if qc_threshold is not None and not v.endswith("_QC"):
            qcc = _qc_column(v, df.columns)
            if qcc is not None:
                q = _quality(pd.to_numeric(df[qcc], errors="coerce").to_numpy(dtype="float64"),
                             resolution)
                keep = np.isnan(q) | (q >= qc_threshold)
                vals = np.where(keep, vals, np.nan)
                attrs["quality_control"] = f"{qcc} >= {qc_threshold}"
        data[v] = xr.DataArray(vals, dims="time", attrs=attrs)
    ds = xr.Dataset(data, coords={"time": time.values})
    ds.attrs.update(site=site, resolution=resolution, source=str(path),
                    qc_threshold=-1.0 if qc_threshold is None else float(qc_threshold),
                    time_convention="start of averaging period", missing_value=FLUXNET_MISSING)
    return _finish(ds, path, variables)


@postprocess_reader()
def read_fluxnet_monthly_table(path: str | os.PathLike, *, sites: Sequence[str] | None = None,
                               variables: Sequence[str] | None = None,
                               qc_threshold: float | None = DEFAULT_QC) -> xr.Dataset:
    """Read the concatenated multi-site FLUXNET2015 monthly (MM) table (``SITE_ID`` + ``TIMESTAMP``).

    Parameters
    ----------
    path : path-like
        e.g. ``fluxnet_warmwinter2020_monthly_selected.csv``.
    sites : sequence of str, optional
        Site codes to keep (all by default); an unknown code raises.
    variables, qc_threshold
        As in :func:`read_fluxnet`.

    Returns
    -------
    xr.Dataset
        Dims ``(site, time)``, monthly fluxes in ``g m-2 d-1`` (monthly mean of daily values).

    Raises
    ------
    DataError
        Missing ``SITE_ID``/``TIMESTAMP``, unknown site, missing variable, truncated file.
    """
    path = _check_file(path)
    df = _read_csv(path)
    for col in ("SITE_ID", "TIMESTAMP"):
        if col not in df.columns:
            raise DataError(f"{path}: column {col!r} not found (expected a multi-site FLUXNET2015 "
                            "monthly table with SITE_ID and TIMESTAMP=YYYYMM)")
    df = _select_sites(df, "SITE_ID", sites, path, "the table")
    df = df.assign(time=_parse_time(df["TIMESTAMP"], "%Y%m", path, "TIMESTAMP"))
    names = [c for c in df.columns if c not in ("SITE_ID", "TIMESTAMP", "time")] \
        if variables is None else list(variables)
    missing = [v for v in names if v not in df.columns]
    if missing:
        raise DataError(f"{path}: variable(s) {missing} not found in the monthly table")
    out = {}
    for v in names:
        vals = pd.to_numeric(df[v], errors="coerce").astype("float64")
        attrs = {"units": fluxnet_units(v, "MM"), "long_name": f"FLUXNET2015 {v} (monthly)"}
        if qc_threshold is not None and not v.endswith("_QC"):
            qcc = _qc_column(v, df.columns)
            if qcc is not None:
                q = pd.to_numeric(df[qcc], errors="coerce")
                vals = vals.where(q.isna() | (q >= qc_threshold))
                attrs["quality_control"] = f"{qcc} >= {qc_threshold}"
        piv = pd.DataFrame({"site": df["SITE_ID"].values, "time": df["time"].values,
                            "v": vals.values}).pivot_table(index="site", columns="time", values="v",
                                                           dropna=False, aggfunc="first")
        out[v] = (piv, attrs)
    site_idx = sorted(df["SITE_ID"].unique())
    time_idx = pd.DatetimeIndex(sorted(df["time"].unique()))
    ds = xr.Dataset({v: xr.DataArray(p.reindex(index=site_idx, columns=time_idx).to_numpy(),
                                     dims=("site", "time"), attrs=a) for v, (p, a) in out.items()},
                    coords={"site": site_idx, "time": time_idx.values})
    ds.attrs.update(resolution="MM", source=str(path),
                    qc_threshold=-1.0 if qc_threshold is None else float(qc_threshold),
                    time_convention="start of averaging period")
    return _finish(ds, path, variables)


@postprocess_reader()
def read_fluxnet_sites(path: str | os.PathLike) -> xr.Dataset:
    """Read a FLUXNET site list (``SiteCode, SiteName, Latitude, Longitude, IGBPCode``).

    Also accepts the phenofit layout (``site, lat, lon, IGBPname``).

    Returns
    -------
    xr.Dataset
        Dim ``site`` with ``lat`` (degrees_north), ``lon`` (degrees_east), ``igbp`` and ``name``.
    """
    path = _check_file(path)
    df = _read_csv(path)
    rename = {"SiteCode": "site", "SiteName": "name", "Latitude": "lat", "Longitude": "lon",
              "IGBPCode": "igbp", "IGBPname": "igbp"}
    df = df.rename(columns=rename)
    for col in ("site", "lat", "lon", "igbp"):
        if col not in df.columns:
            raise DataError(f"{path}: column for {col!r} not found (expected SiteCode/Latitude/"
                            "Longitude/IGBPCode or site/lat/lon/IGBPname)")
    if "name" not in df.columns:
        df["name"] = df["site"]
    ds = xr.Dataset({"lat": ("site", df["lat"].to_numpy(float), {"units": "degrees_north"}),
                     "lon": ("site", df["lon"].to_numpy(float), {"units": "degrees_east"}),
                     "igbp": ("site", df["igbp"].astype(str).to_numpy()),
                     "name": ("site", df["name"].astype(str).to_numpy())},
                    coords={"site": df["site"].astype(str).to_numpy()})
    ds.attrs["source"] = str(path)
    return ds


def _select_sites(df: pd.DataFrame, column: str, sites: Iterable[str] | None, path: Path, what: str) -> pd.DataFrame:
    """Keep the rows of ``sites`` (all if None); an unknown site raises a DataError naming the file."""
    if sites is None:
        return df
    unknown = sorted(set(sites) - set(df[column]))
    if unknown:
        raise DataError(f"{path}: site(s) {unknown} not in {what} (it has {sorted(df[column].unique())})")
    return df[df[column].isin(list(sites))]


def _require(df: pd.DataFrame, cols: Iterable[str], path: Path, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{path}: column(s) {missing} not found (expected {what})")


def _to_dataset(columns: dict, time, path: Path, attrs: dict, requested) -> xr.Dataset:
    ds = xr.Dataset({k: xr.DataArray(np.asarray(v, dtype="float64"), dims="time", attrs=a)
                     for k, (v, a) in columns.items()}, coords={"time": pd.DatetimeIndex(time).values})
    ds.attrs.update(source=str(path), **attrs)
    return _finish(ds, path, requested)


@postprocess_reader()
def read_bigleaf_halfhourly(path: str | os.PathLike, *, qc_threshold: float | None = DEFAULT_QC,
                            site: str = "AT-Neu") -> xr.Dataset:
    """Read the half-hourly FLUXNET2015 extract of the R package ``bigleaf`` (``AT_Neu_Jul_2010``).

    Columns are mapped to FLUXNET2015 names and units: ``Tair`` -> ``TA_F`` (degC),
    ``PPFD`` -> ``PPFD_IN`` (umol m-2 s-1), ``VPD`` (kPa) -> ``VPD_F`` (hPa, x10),
    ``NEE``/``GPP``/``Reco`` -> ``NEE_VUT_USTAR50``/``GPP_NT_VUT_USTAR50``/``RECO_NT_VUT_USTAR50``
    (umol m-2 s-1), ``LE``/``H`` -> ``LE_F_MDS``/``H_F_MDS``. ``*_qc`` flags 0-1 count as good;
    ``Reco`` uses the NEE flag.

    Raises
    ------
    DataError
        Missing time or flux columns, truncated file, implausible values.
    """
    path = _check_file(path)
    df = _read_csv(path)
    _require(df, ["year", "doy", "hour", "Tair", "PPFD", "VPD", "NEE", "GPP", "Reco"], path,
             "the bigleaf half-hourly layout (year, doy, hour, Tair, PPFD, VPD, NEE, GPP, Reco)")
    time = (pd.to_datetime(df["year"].astype(int).astype(str), format="%Y")
            + pd.to_timedelta(df["doy"] - 1, unit="D") + pd.to_timedelta(df["hour"], unit="h"))
    mapping = [("TA_F", "Tair", 1.0, "Tair_qc"), ("PPFD_IN", "PPFD", 1.0, "PPFD_qc"),
               ("VPD_F", "VPD", 10.0, "VPD_qc"), ("NEE_VUT_USTAR50", "NEE", 1.0, "NEE_qc"),
               ("GPP_NT_VUT_USTAR50", "GPP", 1.0, "GPP_qc"), ("RECO_NT_VUT_USTAR50", "Reco", 1.0, "NEE_qc"),
               ("LE_F_MDS", "LE", 1.0, "LE_qc"), ("H_F_MDS", "H", 1.0, "H_qc")]
    cols = {}
    for new, old, fac, qc in mapping:
        if old not in df.columns:
            continue
        vals = pd.to_numeric(df[old], errors="coerce").to_numpy(float) * fac
        attrs = {"units": fluxnet_units(new, "HH"), "long_name": f"{new} (bigleaf column {old!r})"}
        if qc_threshold is not None and qc in df.columns:
            q = _quality(pd.to_numeric(df[qc], errors="coerce").to_numpy(float), "HH")
            vals = np.where(np.isnan(q) | (q >= qc_threshold), vals, np.nan)
            attrs["quality_control"] = f"{qc} <= 1"
        cols[new] = (vals, attrs)
    return _to_dataset(cols, time, path, {"site": site, "resolution": "HH",
                                          "time_convention": "local standard time, period start"},
                       ["TA_F", "PPFD_IN", "NEE_VUT_USTAR50"])


@postprocess_reader()
def read_vprm_tower_hourly(path: str | os.PathLike, *, site: str = "US-PFa") -> xr.Dataset:
    """Read the hourly tower file of the R package VPRMLandSfcModel (``datetime, TA, FC, PAR``).

    ``FC`` (CO2 flux, not gap-filled, umol m-2 s-1) keeps its FLUXNET name; ``TA`` -> ``TA_F``
    (degC), ``PAR`` -> ``PPFD_IN`` (umol m-2 s-1). No QC flags exist in this file.

    Raises
    ------
    DataError
        Missing columns, truncated file, unparseable datetimes.
    """
    path = _check_file(path)
    df = _read_csv(path)
    _require(df, ["datetime", "TA", "FC", "PAR"], path, "columns datetime, TA, FC, PAR")
    time = pd.to_datetime(df["datetime"], format="%Y-%m-%d %H:%M", errors="coerce")
    if time.isna().any():
        raise DataError(f"{path}: column 'datetime' has values that are not 'YYYY-MM-DD HH:MM'")
    cols = {"TA_F": (df["TA"].to_numpy(float), {"units": "degC", "long_name": "air temperature"}),
            "FC": (df["FC"].to_numpy(float), {"units": "umol m-2 s-1",
                                              "long_name": "CO2 flux (NEE without storage), not gap-filled"}),
            "PPFD_IN": (df["PAR"].to_numpy(float), {"units": "umol m-2 s-1",
                                                    "long_name": "photosynthetic photon flux density"})}
    return _to_dataset(cols, time, path, {"site": site, "resolution": "HR",
                                          "time_convention": "undocumented (probably UTC)"},
                       ["TA_F", "FC", "PPFD_IN"])


@postprocess_reader()
def read_plumber2_daily(path: str | os.PathLike, *, site: str = "AU-How") -> xr.Dataset:
    """Read a PLUMBER2/CalLMIP daily aggregate CSV (``time, NEE_daily, Qle_daily, Qh_daily``).

    ``NEE_daily`` -> ``NEE_VUT_REF`` (g m-2 d-1), ``Qle_daily`` -> ``LE_F_MDS``, ``Qh_daily`` ->
    ``H_F_MDS`` (W m-2). Days with more than 25 % gap-filled half-hours are already empty.
    """
    path = _check_file(path)
    df = _read_csv(path)
    _require(df, ["time", "NEE_daily"], path, "columns time, NEE_daily (PLUMBER2 daily layout)")
    time = pd.to_datetime(df["time"], format="%Y-%m-%d", errors="coerce")
    if time.isna().any():
        raise DataError(f"{path}: column 'time' has values that are not YYYY-MM-DD dates")
    cols = {"NEE_VUT_REF": (df["NEE_daily"].to_numpy(float),
                            {"units": "g m-2 d-1", "long_name": "daily NEE (PLUMBER2 NEE_daily)"})}
    for new, old in (("LE_F_MDS", "Qle_daily"), ("H_F_MDS", "Qh_daily")):
        if old in df.columns:
            cols[new] = (df[old].to_numpy(float), {"units": "W m-2", "long_name": old})
    return _to_dataset(cols, time, path, {"site": site, "resolution": "DD"}, ["NEE_VUT_REF"])


@postprocess_reader()
def read_icos_daily_extract(path: str | os.PathLike, *, qc_threshold: float | None = DEFAULT_QC,
                            site: str = "CH-Oe2") -> xr.Dataset:
    """Read the CH-Oe2 daily extract (FLUXNET2015 DD names, empty cells as missing).

    Adds ``TA_F`` = (``TA_F_min_HH`` + ``TA_F_max_HH``)/2 (an approximation of the daily mean,
    flagged in ``long_name``) and ``RECO_NT_VUT_REF`` = ``NEE_VUT_REF`` + ``GPP_NT_VUT_REF``
    (the night-time partitioning identity; the extract has no RECO column).
    """
    ds = read_fluxnet(path, qc_threshold=qc_threshold, site=site)
    for v in ("TA_F_MDS_DAY", "TA_F_min_HH", "TA_F_max_HH", "SW_IN_F_MDS", "NEE_VUT_REF", "GPP_NT_VUT_REF"):
        if v not in ds:
            raise DataError(f"{path}: variable {v!r} not found (expected the ICOS daily extract layout)")
    ds["TA_F"] = ((ds["TA_F_min_HH"] + ds["TA_F_max_HH"]) / 2).assign_attrs(
        units="degC", long_name="daily mean air temperature approximated as (Tmin + Tmax)/2")
    ds["SW_IN_F"] = ds["SW_IN_F_MDS"].assign_attrs(long_name="incoming shortwave (SW_IN_F_MDS)")
    ds["RECO_NT_VUT_REF"] = (ds["NEE_VUT_REF"] + ds["GPP_NT_VUT_REF"]).assign_attrs(
        units="g m-2 d-1", long_name="ecosystem respiration = NEE + GPP_NT (night-time partitioning identity)")
    return ds


@postprocess_reader()
def read_flux_file(path: str | os.PathLike, *, qc_threshold: float | None = DEFAULT_QC,
                   site: str | None = None) -> xr.Dataset:
    """Read any supported flux file, choosing the reader from its header.

    Dispatch: ``SITE_ID`` -> :func:`read_fluxnet_monthly_table`; ``TA_F_min_HH`` ->
    :func:`read_icos_daily_extract`; ``Tair`` + ``doy`` -> :func:`read_bigleaf_halfhourly`;
    ``FC`` + ``PAR`` -> :func:`read_vprm_tower_hourly`; ``NEE_daily`` -> :func:`read_plumber2_daily`;
    ``TIMESTAMP``/``TIMESTAMP_START`` -> :func:`read_fluxnet`.
    """
    path = _check_file(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().strip().split(",")
    kw = {} if site is None else {"site": site}
    if "SITE_ID" in header:
        return read_fluxnet_monthly_table(path, qc_threshold=qc_threshold)
    if "TA_F_min_HH" in header:
        return read_icos_daily_extract(path, qc_threshold=qc_threshold, **kw)
    if "Tair" in header and "doy" in header:
        return read_bigleaf_halfhourly(path, qc_threshold=qc_threshold, **kw)
    if "FC" in header and "PAR" in header:
        return read_vprm_tower_hourly(path, **kw)
    if "NEE_daily" in header:
        return read_plumber2_daily(path, **kw)
    return read_fluxnet(path, qc_threshold=qc_threshold, site=site)
