r"""Forest towers of ``fluxnet_fapar``: daily day-time drivers, soil water, greenness and flux truth.

:func:`load_forest_towers` opens the folder through the catalog (entry ``fluxnet_fapar_forest_towers``) or,
for towers the study has never seen, any folder with the same layout, and returns one Dataset on
``(site, time)`` with

* ``t_day`` (degC): the files' ``TA``, which the source defines as a daily mean and which at DE-Tha is
  0.8 degC warmer than the Warm Winter 24-h ``TA_F`` and 0.7 degC above (Tmin+Tmax)/2 on average: a day-time
  mean. ``t_24h`` = (Tmin+Tmax)/2 drives respiration;
* ``daylength`` (h), astronomical (:func:`daylength_hours`); ``par_24h`` the 24-h mean PPFD and ``par_day``
  = ``par_24h`` x 24 / daylength, the day-time mean (umol m-2 s-1) that drives the light response;
* ``vpd`` (hPa), ``precip`` (mm d-1), ``wrel`` (0-1) relative soil water of a bucket of the tower's
  water-holding capacity (:func:`bucket_soil_water`), ``greenness`` inputs ``fapar`` (MODIS, daily as
  interpolated by the source);
* ``gpp`` (g C m-2 d-1, night-time partitioning) and the site table (``igbp``, ``vprm_class``, ``lat``,
  ``lon``, ``whc``, ``koeppen``).

:func:`monthly_truth` takes NEE, GPP and Reco (both partitionings) for the towers in the Warm Winter
monthly table.

Public names: :func:`load_forest_towers`, :func:`daylength_hours`, :func:`bucket_soil_water`,
:func:`monthly_truth`, :func:`monthly_temperature_gap`, :func:`tower_inventory`, :func:`great_circle_km`,
:data:`FAPAR_ENTRY`, :data:`MONTHLY_ENTRY`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from ..io.catalog import open_entry
from ..io.checks import require_units
from ..io.fluxnet_fapar import read_fluxnet_fapar
from .vprm import vprm_class

__all__ = ["load_forest_towers", "great_circle_km", "daylength_hours", "bucket_soil_water", "monthly_truth", "monthly_temperature_gap",
           "tower_inventory", "FAPAR_ENTRY", "MONTHLY_ENTRY"]

#: Catalog entries used by default.
FAPAR_ENTRY = "fluxnet_fapar_forest_towers"
MONTHLY_ENTRY = "fluxnet_monthly_70_sites"


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km, spherical Earth of radius 6371 km) between points given in degrees; broadcasts.

    >>> round(float(great_circle_km(0.0, 0.0, 0.0, 1.0)), 2)
    111.19
    """
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def daylength_hours(lat_deg, doy) -> np.ndarray:
    """Astronomical day length (h) from latitude (deg) and day of year (Cooper's declination).

    Examples
    --------
    >>> round(float(daylength_hours(0.0, 80)), 2)
    12.0
    >>> float(daylength_hours(70.0, 172)), float(daylength_hours(70.0, 355))
    (24.0, 0.0)
    """
    lat = np.radians(np.asarray(lat_deg, float))
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + np.asarray(doy, float)) / 365.0)
    cosw = np.clip(-np.tan(lat) * np.tan(decl), -1.0, 1.0)
    return 24.0 / np.pi * np.arccos(cosw)


def bucket_soil_water(precip_mm_d, pet_mm_d, whc_mm: float, *, n_spinup_years: int = 3) -> np.ndarray:
    """Relative soil water (0-1) of a single bucket of capacity ``whc_mm``.

    ``W[t+1] = clip(W[t] + P - ET, 0, WHC)`` with ``ET = PET * min(1, W / (0.5 WHC))`` (supply limit
    below half capacity). The first year is cycled ``n_spinup_years`` times to set the initial state.
    Missing P or PET count as 0.

    Examples
    --------
    >>> w = bucket_soil_water(np.zeros(10), np.full(10, 5.0), 100.0, n_spinup_years=0)
    >>> bool(np.all(np.diff(w) <= 0))
    True
    """
    p = np.nan_to_num(np.asarray(precip_mm_d, float))
    e = np.nan_to_num(np.asarray(pet_mm_d, float))
    if not np.isfinite(whc_mm) or whc_mm <= 0:
        raise ValueError(f"bucket_soil_water: water-holding capacity must be > 0 mm, got {whc_mm}")
    w = whc_mm
    n1 = min(365, len(p))
    for _ in range(n_spinup_years):
        for i in range(n1):
            w = min(max(w + p[i] - e[i] * min(1.0, w / (0.5 * whc_mm)), 0.0), whc_mm)
    out = np.empty(len(p))
    for i in range(len(p)):
        w = min(max(w + p[i] - e[i] * min(1.0, w / (0.5 * whc_mm)), 0.0), whc_mm)
        out[i] = w / whc_mm
    return out


def _priestley_taylor_pet(t, ppfd_umol):
    """Potential ET (mm d-1): 1.26 Delta/(Delta+gamma) Rn/lambda with Rn = 0.5 SW, SW = PPFD/2.04."""
    sw = ppfd_umol / 2.04  # W m-2 (24-h mean); 2.04 umol J-1 of PAR-to-shortwave (~0.45 PAR fraction)
    rn = np.maximum(0.5 * sw, 0.0) * 86400.0  # J m-2 d-1
    es = 0.6108 * np.exp(17.27 * t / (t + 237.3))
    delta = 4098.0 * es / (t + 237.3) ** 2
    gamma = 0.066
    return 1.26 * delta / (delta + gamma) * rn / 2.45e6


def load_forest_towers(fapar_dir: str | os.PathLike | None = None, *, sites=None) -> xr.Dataset:
    """Load the forest towers with day-time drivers, soil water, fAPAR and GPP (see module doc).

    Parameters
    ----------
    fapar_dir : path, optional
        A folder in the ``fluxnet_fapar`` layout; default the catalog entry :data:`FAPAR_ENTRY`.
    sites : list of str, optional
        Towers to keep.

    Raises
    ------
    DataError
        Units of a driver not as expected (names the file), or a reader error naming tower and file.
    """
    if fapar_dir is None:
        raw = open_entry(FAPAR_ENTRY)
    else:
        raw = read_fluxnet_fapar(Path(fapar_dir), sites=sites)
    if sites is not None and fapar_dir is None:
        raw = raw.sel(site=list(sites))
    src = str(raw.attrs.get("source", fapar_dir))
    for name, units in (("TA", "degC"), ("TMIN", "degC"), ("TMAX", "degC"), ("VPD", "Pa"), ("PPFD", "mol m-2 s-1"),
                        ("P", "kg m-2 s-1"), ("GPP", "g m-2 d-1"), ("FAPAR", "1")):
        if name not in raw:
            raise DataError(f"{src}: variable {name!r} missing (expected the fluxnet_fapar layout)")
        require_units(raw[name], units, source=src)
    doy = pd.DatetimeIndex(raw["time"].values).day_of_year.to_numpy()
    lat = raw["lat"].values
    dl = daylength_hours(lat[:, None], doy[None, :])
    par24 = raw["PPFD"].values * 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        par_day = np.where(dl > 0.5, par24 * 24.0 / np.maximum(dl, 0.5), 0.0)
    par_day = np.where(np.isfinite(par24), par_day, np.nan)
    t24 = 0.5 * (raw["TMIN"].values + raw["TMAX"].values)
    precip = raw["P"].values * 86400.0
    pet = _priestley_taylor_pet(np.nan_to_num(raw["TA"].values, nan=10.0), np.nan_to_num(par24))
    wrel = np.full_like(par24, np.nan)
    for i, s in enumerate(raw["site"].values):
        ok = np.isfinite(raw["TA"].values[i])
        if ok.sum() == 0:
            continue
        a, b = np.flatnonzero(ok)[[0, -1]]
        wrel[i, a:b + 1] = bucket_soil_water(precip[i, a:b + 1], pet[i, a:b + 1], float(raw["whc"].values[i]))
    dims = ("site", "time")
    ds = xr.Dataset({
        "t_day": (dims, raw["TA"].values, {"units": "degC", "long_name": "day-time mean air temperature (source TA)"}),
        "t_24h": (dims, t24, {"units": "degC", "long_name": "(Tmin + Tmax) / 2"}),
        "daylength": (dims, dl, {"units": "h"}),
        "par_24h": (dims, par24, {"units": "umol m-2 s-1", "long_name": "24-h mean PPFD"}),
        "par_day": (dims, par_day, {"units": "umol m-2 s-1", "long_name": "day-time mean PPFD = 24-h mean x 24 / daylength"}),
        "vpd": (dims, raw["VPD"].values / 100.0, {"units": "hPa"}),
        "precip": (dims, precip, {"units": "mm d-1"}),
        "wrel": (dims, wrel, {"units": "1", "long_name": "relative soil water of a bucket (capacity whc)"}),
        "fapar": (dims, raw["FAPAR"].values, {"units": "1", "long_name": "MODIS MCD15A3H fAPAR (source interpolation)"}),
        "fapar_qc": (dims, raw["FAPAR_qc"].values, {"units": "1"}),
        "gpp": (dims, raw["GPP"].values, {"units": "g m-2 d-1", "long_name": "GPP, night-time partitioning"}),
    }, coords={"site": raw["site"].values, "time": raw["time"].values})
    for k in ("igbp", "lat", "lon", "whc", "koeppen", "elev"):
        if k in raw:
            ds[k] = raw[k]
    ds["vprm_class"] = ("site", np.array([vprm_class(c) for c in raw["igbp"].values]))
    ds.attrs.update(source=src, time_scale="daily; light response on day-time means, aggregated to 24 h")
    return ds


def monthly_truth(sites, *, table: xr.Dataset | None = None) -> xr.Dataset:
    """Monthly NEE, GPP and Reco (night-time and day-time partitionings) for ``sites`` in the Warm Winter table.

    Returns a Dataset on ``(site, time)`` (month starts) with ``nee``, ``gpp_nt``, ``gpp_dt``, ``reco_nt``,
    ``reco_dt`` in g C m-2 d-1 and ``ta_24h`` (degC); towers not in the table are left out (listed in
    ``attrs["absent"]``).
    """
    if table is None:
        table = open_entry(MONTHLY_ENTRY)
    present = [s for s in sites if s in table["site"].values]
    sub = table.sel(site=present)
    names = {"NEE_VUT_REF": "nee", "GPP_NT_VUT_REF": "gpp_nt", "GPP_DT_VUT_REF": "gpp_dt",
             "RECO_NT_VUT_REF": "reco_nt", "RECO_DT_VUT_REF": "reco_dt", "TA_F": "ta_24h"}
    out = xr.Dataset({v: sub[k] for k, v in names.items() if k in sub})
    out.attrs.update(absent=[s for s in sites if s not in present], source=str(table.attrs.get("source", MONTHLY_ENTRY)))
    return out


def monthly_temperature_gap(ds: xr.Dataset, truth: xr.Dataset) -> pd.Series:
    """Per tower in both ``ds`` and ``truth``: the mean over months of (monthly mean ``t_day`` - ``ta_24h``), degC.

    ``truth`` is :func:`monthly_truth`'s output (the Warm Winter 24-h ``TA_F`` as ``ta_24h``). Months where either
    is missing are left out; a tower with no such month gets NaN. Towers of ``ds`` not in ``truth`` are not rows
    (an empty Series when none is shared: a folder of towers the Warm Winter table does not hold).
    """
    if "ta_24h" not in truth:
        raise DataError(f"monthly truth from {truth.attrs.get('source', MONTHLY_ENTRY)!r} has no 'ta_24h' (TA_F); "
                        f"variables: {sorted(truth.data_vars)}")
    gaps = {}
    for s in truth["site"].values.tolist():
        if s not in ds["site"].values:
            continue
        monthly = ds["t_day"].sel(site=s).to_series().resample("MS").mean()
        ref = truth["ta_24h"].sel(site=s).to_series()
        diff = (monthly - ref.reindex(monthly.index)).dropna()
        gaps[s] = float(diff.mean()) if len(diff) else np.nan
    return pd.Series(gaps, name="ta_minus_ta_f_degC", dtype=float)


def tower_inventory(ds: xr.Dataset, truth: xr.Dataset | None = None):
    """One row per tower: class, Koeppen, years, days with GPP, mean relative soil water, monthly NEE available."""
    import pandas as pd

    nee = set(truth["site"].values.tolist()) if truth is not None else set()
    rows = []
    for i, s in enumerate(ds["site"].values):
        ok = np.isfinite(ds["t_day"].values[i])
        yrs = pd.DatetimeIndex(ds["time"].values[ok]).year
        rows.append({"site": s, "IGBP": str(ds["igbp"].values[i]), "Koeppen": str(ds["koeppen"].values[i]),
                     "years": f"{yrs.min()}-{yrs.max()}" if ok.any() else "",
                     "GPP days": int(np.isfinite(ds["gpp"].values[i]).sum()),
                     "mean soil water [1]": round(float(np.nanmean(ds["wrel"].values[i])), 2) if ok.any() else None,
                     "monthly NEE (Warm Winter)": s in nee})
    return pd.DataFrame(rows).set_index("site")
