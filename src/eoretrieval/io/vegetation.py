"""Readers for satellite vegetation indices at flux sites and over image tiles.

* :func:`read_mod13a1_table` - MODIS MOD13A1 (C6, 16-day, 500 m) EVI/NDVI and surface reflectances
  (bands 1, 2, 3, 7) at flux-tower pixels, scale factor 1e-4 applied, ``SummaryQA`` filtering.
* :func:`read_mod13a1_sites` - the site list shipped with that table (lat, lon, IGBP).
* :func:`read_modis_evi_csv`, :func:`read_modis_reflectance_csv` - MODIS EVI (MOD13Q1) and
  reflectance (MOD09A1) subsets shipped with VPRMLandSfcModel (US-PFa).
* :func:`read_mod15a2h` - MODIS MOD15A2H fAPAR or LAI over a pixel window around a tower.
* :func:`read_sentinel2_ndvi` - the Sentinel-2 NDVI cube (time, y, x) with cloud/validity masks.

Every variable carries ``units`` (``"1"`` for indices and reflectances, ``m2 m-2`` for LAI).

Public names: :func:`read_mod13a1_table`, :func:`read_mod13a1_sites`, :func:`read_modis_evi_csv`,
:func:`read_modis_reflectance_csv`, :func:`read_mod15a2h`, :func:`read_sentinel2_ndvi`.

References
----------
:cite:`didan2015`, :cite:`myneni2021`
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader
from .fluxnet import _check_file, _read_csv, _require, _select_sites

__all__ = ["read_mod13a1_table", "read_mod13a1_sites", "read_modis_evi_csv",
           "read_modis_reflectance_csv", "read_mod15a2h", "read_sentinel2_ndvi"]

#: MOD13A1 columns -> (output name, long name); all scaled by 1e-4.
_MOD13A1_BANDS = {
    "EVI": ("evi", "enhanced vegetation index"),
    "NDVI": ("ndvi", "normalised difference vegetation index"),
    "sur_refl_b01": ("red", "surface reflectance MODIS band 1 (620-670 nm)"),
    "sur_refl_b02": ("nir", "surface reflectance MODIS band 2 (841-876 nm)"),
    "sur_refl_b03": ("blue", "surface reflectance MODIS band 3 (459-479 nm)"),
    "sur_refl_b07": ("swir2", "surface reflectance MODIS band 7 (2105-2155 nm)"),
}


@postprocess_reader()
def read_mod13a1_table(path: str | os.PathLike, *, sites: Sequence[str] | None = None,
                       max_summary_qa: int = 1) -> xr.Dataset:
    """Read the MOD13A1 flux-site table (one row per site and 16-day composite).

    Parameters
    ----------
    path : path-like
        CSV with ``site, date, EVI, NDVI, sur_refl_b01/02/03/07, SummaryQA, DayOfYear``.
    sites : sequence of str, optional
        Sites to keep; unknown names raise.
    max_summary_qa : int
        Keep composites with ``SummaryQA <= max_summary_qa`` (0 good, 1 marginal, 2 snow/ice,
        3 cloudy). Default 1.

    Returns
    -------
    xr.Dataset
        Dims ``(site, time)`` (composite start date); ``evi, ndvi, red, nir, blue, swir2``
        (units ``"1"``, scale factor 1e-4 applied, values outside the valid range set to NaN),
        ``summary_qa`` and ``acquisition_time`` (date of the pixel's acquisition).

    Raises
    ------
    DataError
        Missing columns, unknown site, truncated file, or no valid composite left.
    """
    path = _check_file(path)
    df = _read_csv(path)
    _require(df, ["site", "date", "SummaryQA", *_MOD13A1_BANDS], path,
             "the MOD13A1 table layout (site, date, EVI, NDVI, sur_refl_b01..b07, SummaryQA)")
    df = _select_sites(df, "site", sites, path, "the MOD13A1 table")
    df = df.assign(time=pd.to_datetime(df["date"], format="%Y-%m-%d", errors="coerce"))
    if df["time"].isna().any():
        raise DataError(f"{path}: column 'date' has values that are not YYYY-MM-DD")
    qa = pd.to_numeric(df["SummaryQA"], errors="coerce")
    good = qa.notna() & (qa <= max_summary_qa)
    site_idx = sorted(df["site"].unique())
    time_idx = pd.DatetimeIndex(sorted(df["time"].unique()))
    out = {}
    for col, (name, long_name) in _MOD13A1_BANDS.items():
        v = pd.to_numeric(df[col], errors="coerce") * 1e-4
        lo = -0.2 if name in ("evi", "ndvi") else 0.0
        v = v.where(good & (v >= lo) & (v <= 1.0))
        piv = pd.DataFrame({"site": df["site"], "time": df["time"], "v": v}).pivot_table(
            index="site", columns="time", values="v", dropna=False, aggfunc="first")
        out[name] = xr.DataArray(piv.reindex(index=site_idx, columns=time_idx).to_numpy(),
                                 dims=("site", "time"), attrs={"units": "1", "long_name": long_name,
                                                                "scale_factor_applied": 1e-4})
    piv = pd.DataFrame({"site": df["site"], "time": df["time"], "v": qa}).pivot_table(
        index="site", columns="time", values="v", dropna=False, aggfunc="first")
    out["summary_qa"] = xr.DataArray(piv.reindex(index=site_idx, columns=time_idx).to_numpy(),
                                     dims=("site", "time"),
                                     attrs={"units": "1", "long_name": "MOD13A1 SummaryQA (0 good .. 3 cloudy)"})
    if "DayOfYear" in df.columns:
        acq = df["time"].dt.year.astype(str) + "-01-01"
        acq = pd.to_datetime(acq) + pd.to_timedelta(pd.to_numeric(df["DayOfYear"], errors="coerce") - 1,
                                                    unit="D")
        # a composite starting in late December can hold January acquisitions of the next year
        acq = acq.where(acq >= df["time"] - pd.Timedelta("1D"), acq + pd.DateOffset(years=1))
        piv = pd.DataFrame({"site": df["site"], "time": df["time"], "v": acq}).pivot_table(
            index="site", columns="time", values="v", dropna=False, aggfunc="first")
        out["acquisition_time"] = xr.DataArray(
            piv.reindex(index=site_idx, columns=time_idx).to_numpy(dtype="datetime64[ns]"),
            dims=("site", "time"), attrs={"long_name": "pixel acquisition date"})
    ds = xr.Dataset(out, coords={"site": site_idx, "time": time_idx.values})
    ds.attrs.update(source=str(path), product="MOD13A1 C6", max_summary_qa=int(max_summary_qa))
    if bool(ds["evi"].isnull().all()):
        raise DataError(f"{path}: no valid EVI left after SummaryQA <= {max_summary_qa} filtering")
    return ds


@postprocess_reader()
def read_mod13a1_sites(path: str | os.PathLike) -> xr.Dataset:
    """Read the MOD13A1 site list (``ID, site, lat, lon, IGBPname``); see :func:`read_fluxnet_sites`."""
    from .fluxnet import read_fluxnet_sites

    return read_fluxnet_sites(path)


def _dated(df: pd.DataFrame, path: Path) -> pd.DatetimeIndex:
    _require(df, ["date_iso"], path, "a date_iso column (YYYY-MM-DD)")
    t = pd.to_datetime(df["date_iso"].astype(str).str[:10], format="%Y-%m-%d", errors="coerce")
    if t.isna().any():
        raise DataError(f"{path}: column 'date_iso' has values that are not YYYY-MM-DD dates")
    return pd.DatetimeIndex(t)


@postprocess_reader()
def read_modis_evi_csv(path: str | os.PathLike) -> xr.Dataset:
    """Read a MODIS EVI subset CSV (``date_iso, evi``; VPRMLandSfcModel layout, EVI in 0-1).

    Raises
    ------
    DataError
        Missing column, EVI outside -0.2..1 (e.g. unscaled integers), all-missing EVI.
    """
    path = _check_file(path)
    df = _read_csv(path)
    _require(df, ["date_iso", "evi"], path, "columns date_iso, evi")
    t = _dated(df, path)
    evi = pd.to_numeric(df["evi"], errors="coerce").to_numpy(float)
    if np.all(np.isnan(evi)):
        raise DataError(f"{path}: variable 'evi' is all missing")
    if np.nanmax(np.abs(evi)) > 1.5:
        raise DataError(f"{path}: variable 'evi' has values up to {np.nanmax(evi):.4g}; expected unitless "
                        "0-1 (scale factor not applied?)")
    ds = xr.Dataset({"evi": ("time", evi, {"units": "1", "long_name": "enhanced vegetation index"})},
                    coords={"time": t.values})
    ds.attrs["source"] = str(path)
    return ds


@postprocess_reader()
def read_modis_reflectance_csv(path: str | os.PathLike) -> xr.Dataset:
    """Read a MODIS surface-reflectance subset CSV (``date_iso, red, nir, blue, swir``, 0-1).

    Rows without any valid band are dropped.

    Raises
    ------
    DataError
        Missing columns, reflectance outside 0..1.5 (e.g. unscaled), nothing valid.
    """
    path = _check_file(path)
    df = _read_csv(path)
    bands = ["red", "nir", "blue", "swir"]
    _require(df, ["date_iso", *bands], path, "columns date_iso, red, nir, blue, swir")
    t = _dated(df, path)
    data = {}
    for b in bands:
        v = pd.to_numeric(df[b], errors="coerce").to_numpy(float)
        if np.isfinite(v).any() and np.nanmax(v) > 1.5:
            raise DataError(f"{path}: variable {b!r} has values up to {np.nanmax(v):.4g}; expected "
                            "reflectance 0-1 (scale factor not applied?)")
        data[b] = ("time", v, {"units": "1", "long_name": f"surface reflectance ({b})"})
    ds = xr.Dataset(data, coords={"time": t.values})
    ds = ds.isel(time=np.flatnonzero(np.isfinite(ds.to_array()).any("variable").values))
    if ds.sizes["time"] == 0:
        raise DataError(f"{path}: no row with a valid reflectance")
    ds.attrs["source"] = str(path)
    return ds


@postprocess_reader()
def read_mod15a2h(path: str | os.PathLike) -> xr.Dataset:
    """Read a MOD15A2H fAPAR or LAI CSV (``date`` + ``fapar`` or ``lai``, one row per window pixel).

    Values outside the valid range (fAPAR 0-1, LAI 0-10 m2 m-2: MODIS fill values are larger)
    become NaN.

    Returns
    -------
    xr.Dataset
        Dims ``(time, pixel)`` with ``fapar`` (units ``"1"``) or ``lai`` (``m2 m-2``).

    Raises
    ------
    DataError
        Neither ``fapar`` nor ``lai`` column, ragged pixel windows, all missing.
    """
    path = _check_file(path)
    df = _read_csv(path)
    var = "fapar" if "fapar" in df.columns else ("lai" if "lai" in df.columns else None)
    if var is None or "date" not in df.columns:
        raise DataError(f"{path}: expected columns date and fapar or lai (MOD15A2H subset layout)")
    t = pd.to_datetime(df["date"], format="%Y-%m-%d", errors="coerce")
    if t.isna().any():
        raise DataError(f"{path}: column 'date' has values that are not YYYY-MM-DD dates")
    counts = t.value_counts()
    if counts.nunique() != 1:
        raise DataError(f"{path}: the pixel window has a varying number of rows per date "
                        f"({sorted(counts.unique())}); expected the same window size for every date")
    npix = int(counts.iloc[0])
    order = np.argsort(t.values, kind="stable")
    vals = pd.to_numeric(df[var], errors="coerce").to_numpy(float)[order]
    hi = 1.0 if var == "fapar" else 10.0
    vals = np.where((vals >= 0) & (vals <= hi), vals, np.nan)
    if np.all(np.isnan(vals)):
        raise DataError(f"{path}: variable {var!r} is all missing or out of range")
    times = pd.DatetimeIndex(np.unique(t.values))
    units = "1" if var == "fapar" else "m2 m-2"
    long_name = "fraction of absorbed PAR (MOD15A2H)" if var == "fapar" else "leaf area index (MOD15A2H)"
    ds = xr.Dataset({var: (("time", "pixel"), vals.reshape(len(times), npix),
                           {"units": units, "long_name": long_name})},
                    coords={"time": times.values, "pixel": np.arange(npix)})
    ds.attrs.update(source=str(path), product="MOD15A2H", window_pixels=npix)
    return ds


@postprocess_reader()
def read_sentinel2_ndvi(path: str | os.PathLike, *, mask_invalid: bool = True) -> xr.Dataset:
    """Read the Sentinel-2 NDVI cube (``NDVI``, ``CLM``, ``IS_DATA``, ``IS_VALID`` on time, y, x).

    Parameters
    ----------
    path : path-like
        netCDF file.
    mask_invalid : bool
        Set NDVI to NaN where ``IS_VALID == 0`` (no data or cloud).

    Returns
    -------
    xr.Dataset
        ``ndvi`` (units ``"1"``) and ``valid`` (bool) on ``(time, y, x)``; ``y`` ascending
        (UTM northing, m); attrs ``crs``; ``valid_fraction`` per time step.

    Raises
    ------
    DataError
        Missing file, missing ``NDVI``, NDVI outside -1..1, no valid pixel at all.
    """
    path = _check_file(path)
    try:
        raw = xr.open_dataset(path, engine="h5netcdf")
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable netCDF file ({err})") from err
    with raw:
        if "NDVI" not in raw:
            raise DataError(f"{path}: variable 'NDVI' not found (expected NDVI, CLM, IS_VALID on time, y, x)")
        ndvi = raw["NDVI"].load().astype("float64")
        valid = raw["IS_VALID"].load().astype(bool) if "IS_VALID" in raw else np.isfinite(ndvi)
        attrs = dict(raw.attrs)
    if np.nanmax(np.abs(ndvi.values)) > 1.0 + 1e-6:
        raise DataError(f"{path}: variable 'NDVI' has values up to {np.nanmax(np.abs(ndvi.values)):.4g}; "
                        "expected -1..1")
    if mask_invalid:
        ndvi = ndvi.where(valid)
    if not bool(valid.any()):
        raise DataError(f"{path}: no valid (cloud-free) pixel in any scene")
    ds = xr.Dataset({"ndvi": ndvi.assign_attrs(units="1", long_name="NDVI (B08-B04)/(B08+B04), L1C TOA"),
                     "valid": valid.assign_attrs(long_name="data present and cloud-free")})
    ds["valid_fraction"] = valid.mean(("y", "x")).assign_attrs(units="1")
    if "y" in ds.coords and ds["y"].size > 1 and float(ds["y"][0]) > float(ds["y"][-1]):
        ds = ds.isel(y=slice(None, None, -1))
    ds.attrs.update({k: v for k, v in attrs.items() if isinstance(v, (str, int, float))})
    ds.attrs["source"] = str(path)
    return ds
