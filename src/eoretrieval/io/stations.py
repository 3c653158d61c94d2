"""Readers of ground-station NO2 and of real TROPOMI point time series, with quality control.

Two real data sets are shipped (``data/ground_no2``, ``data/tropomi_no2``, each with its ``SOURCE.md``):

- the Beijing Multi-Site Air-Quality data (12 national-network stations, hourly NO2 in ug m-3 with matched
  meteorology, 2013-03 to 2017-02; :cite:`zhang2017beijing`), read by :func:`read_prsa_station` (one file)
  and :func:`read_beijing_stations` (several files → dims ``(site, time)``);
- daily TROPOMI tropospheric NO2 at six cities in Oman (2024, openEO point aggregation of the L2 product),
  read by :func:`read_openeo_no2_point` (one file) and :func:`read_oman_no2_cities` (several → ``(city, time)``).

Quality control (:func:`qc_hourly_no2`) flags values outside a plausible range, stuck sensors (the same value
repeated for ``stuck_hours`` hours or more) and isolated spikes; flagged values become NaN and the counts are
kept in ``attrs``.

Public names: :func:`read_prsa_station`, :func:`read_beijing_stations`, :func:`qc_hourly_no2`,
:func:`read_openeo_no2_point`, :func:`read_oman_no2_cities`, :data:`WIND_DIRECTIONS`, :data:`AVOGADRO`.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader

__all__ = ["read_prsa_station", "read_beijing_stations", "qc_hourly_no2", "read_openeo_no2_point",
           "read_oman_no2_cities", "expand_paths", "WIND_DIRECTIONS", "AVOGADRO"]

#: Avogadro constant (mol-1), exact since the 2019 SI redefinition
AVOGADRO = 6.02214076e23

#: 16-point compass directions → direction the wind blows FROM (degrees clockwise from north)
WIND_DIRECTIONS = {name: 22.5 * i for i, name in enumerate(
    ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"])}

_PRSA_COLUMNS = {"year", "month", "day", "hour", "NO2", "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM", "station"}
_MET = {  # column -> (name, units, long_name, plausible range)
    "TEMP": ("temp", "degC", "air temperature", (-40.0, 50.0)),
    "PRES": ("pres", "hPa", "surface air pressure", (950.0, 1060.0)),
    "DEWP": ("dewp", "degC", "dew-point temperature", (-50.0, 40.0)),
    "RAIN": ("rain", "mm", "hourly precipitation", (0.0, 100.0)),
    "WSPM": ("wspd", "m s-1", "wind speed", (0.0, 40.0)),
}


def expand_paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Return a sorted list of files from a path, a glob pattern or a list of either.

    Raises
    ------
    DataError
        If nothing matches (the message gives the pattern).
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[Path] = []
    for item in items:
        s = str(item)
        if any(ch in s for ch in "*?["):
            hits = sorted(_glob.glob(s))
            if not hits:
                raise DataError(f"{s}: no file matches this pattern")
            out.extend(Path(h) for h in hits)
        else:
            out.append(Path(s))
    if not out:
        raise DataError("no input files given")
    return out


def qc_hourly_no2(no2: xr.DataArray, *, valid_range: tuple[float, float] = (1.0, 400.0), stuck_hours: int = 6,
                  stuck_min: float = 5.0, spike_factor: float = 4.0, spike_min: float = 80.0) -> xr.DataArray:
    """Quality-control an hourly NO2 series (ug m-3): range, stuck sensor and spike tests.

    - range: values outside ``valid_range`` (ug m-3) are flagged (the national network reports
      >= 1-2 ug m-3; hourly values above 400 ug m-3 are rare even at kerbsides);
    - stuck sensor: runs of ``stuck_hours`` or more identical consecutive values above ``stuck_min`` are flagged
      (runs at the detection limit, 2-5 ug m-3 at clean rural sites at night, are real and kept);
    - spike: a value exceeding both ``spike_factor`` x and ``spike_min`` above the mean of its two neighbours.

    Parameters
    ----------
    no2 : xr.DataArray
        Hourly NO2, dims ``(time,)`` (regular hourly axis), units ug m-3.

    Returns
    -------
    xr.DataArray
        Copy with flagged values set to NaN; ``attrs['qc_range']``, ``['qc_stuck']``, ``['qc_spike']``
        give the number of values flagged by each test.

    Raises
    ------
    DataError
        If the units are not ug m-3 or the time axis is not hourly.
    """
    if no2.attrs.get("units") not in ("ug m-3", "µg m-3", "ug/m3"):
        raise DataError(f"qc_hourly_no2: NO2 has units {no2.attrs.get('units')!r}, expected 'ug m-3'")
    t = pd.DatetimeIndex(no2["time"].values)
    if len(t) > 1 and not (np.diff(t.values) == np.timedelta64(1, "h")).all():
        raise DataError("qc_hourly_no2: time axis is not regular hourly")
    v = no2.values.astype(float).copy()
    lo, hi = valid_range
    bad_range = np.isfinite(v) & ((v < lo) | (v > hi))
    # stuck sensor: identical consecutive finite values
    s = pd.Series(v)
    run_id = (s != s.shift()).cumsum()
    run_len = s.groupby(run_id).transform("size").to_numpy()
    bad_stuck = np.isfinite(v) & (run_len >= stuck_hours) & (v > stuck_min)
    # spikes against the neighbours' mean
    neigh = (np.r_[np.nan, v[:-1]] + np.r_[v[1:], np.nan]) / 2.0
    with np.errstate(invalid="ignore"):
        bad_spike = np.isfinite(neigh) & (v > spike_factor * neigh) & (v - neigh > spike_min)
    bad = bad_range | bad_stuck | bad_spike
    v[bad] = np.nan
    out = no2.copy(data=v)
    out.attrs.update(qc_range=int(bad_range.sum()), qc_stuck=int((bad_stuck & ~bad_range).sum()),
                     qc_spike=int((bad_spike & ~bad_range & ~bad_stuck).sum()),
                     qc_rules=f"range {valid_range} ug m-3; stuck >= {stuck_hours} h above {stuck_min} ug m-3; spike > {spike_factor}x and "
                              f"+{spike_min} ug m-3 over neighbours")
    return out


@postprocess_reader(required={"no2": "ug m-3", "temp": "degC", "wspd": "m s-1"})
def read_prsa_station(path: str | os.PathLike, *, qc: bool = True) -> xr.Dataset:
    """Read one station file of the Beijing Multi-Site Air-Quality data (``PRSA_Data_<station>_*.csv[.gz]``).

    Parameters
    ----------
    path : path-like
        CSV (optionally gzip) with columns ``year, month, day, hour, NO2, TEMP, PRES, DEWP, RAIN, wd, WSPM, station``.
    qc : bool
        Apply :func:`qc_hourly_no2` to NO2 and range checks to the meteorology.

    Returns
    -------
    xr.Dataset
        dims ``(time,)`` hourly, **local time** (Beijing, UTC+8; ``attrs['timezone']``); variables ``no2``
        (ug m-3), ``temp``, ``dewp`` (degC), ``pres`` (hPa), ``rain`` (mm), ``wspd`` (m s-1), ``wdir``
        (degree, from), ``u``, ``v`` (m s-1, wind components from speed and direction); scalar coord ``site``.

    Raises
    ------
    DataError
        Missing columns, several stations in one file, or no valid NO2 at all.
    """
    df = pd.read_csv(path, usecols=lambda c: c in _PRSA_COLUMNS)
    missing = _PRSA_COLUMNS - set(df.columns)
    if missing:
        raise DataError(f"{path}: missing columns {sorted(missing)}; expected the PRSA layout "
                        f"{sorted(_PRSA_COLUMNS)}")
    stations = df["station"].dropna().unique()
    if len(stations) != 1:
        raise DataError(f"{path}: expected one station per file, found {list(stations)[:5]}")
    time = pd.to_datetime(df[["year", "month", "day", "hour"]])
    if time.duplicated().any():
        raise DataError(f"{path}: duplicated hours (e.g. {time[time.duplicated()].iloc[0]})")
    df.index = time
    full = pd.date_range(time.min(), time.max(), freq="h")
    df = df.reindex(full)
    ds = xr.Dataset(coords={"time": ("time", full.values), "site": str(stations[0])})
    ds["no2"] = ("time", df["NO2"].to_numpy(float), {"units": "ug m-3", "long_name": "NO2 mass concentration",
                                                     "standard_name": "mass_concentration_of_nitrogen_dioxide_in_air"})
    for col, (name, units, long_name, (lo, hi)) in _MET.items():
        vals = df[col].to_numpy(float)
        if qc:
            vals = np.where((vals < lo) | (vals > hi), np.nan, vals)
        ds[name] = ("time", vals, {"units": units, "long_name": long_name})
    wd = df["wd"].map(WIND_DIRECTIONS).to_numpy(float)
    unknown = set(df["wd"].dropna().unique()) - set(WIND_DIRECTIONS)
    if unknown:
        raise DataError(f"{path}: unknown wind directions {sorted(unknown)}; expected 16-point compass names")
    ds["wdir"] = ("time", wd, {"units": "degree", "long_name": "wind direction (from), 16-point compass"})
    rad = np.deg2rad(wd)
    ds["u"] = ("time", -ds["wspd"].values * np.sin(rad), {"units": "m s-1", "long_name": "eastward wind"})
    ds["v"] = ("time", -ds["wspd"].values * np.cos(rad), {"units": "m s-1", "long_name": "northward wind"})
    if qc:
        ds["no2"] = qc_hourly_no2(ds["no2"])
    if not np.isfinite(ds["no2"].values).any():
        raise DataError(f"{path}: no valid NO2 value (all missing or flagged by QC)")
    ds.attrs.update(timezone="UTC+8 (Beijing local time)", source_dataset="Beijing Multi-Site Air-Quality Data (UCI 501)",
                    qc_applied=int(qc))
    return ds


def read_beijing_stations(paths: str | os.PathLike | Iterable[str | os.PathLike], *, qc: bool = True) -> xr.Dataset:
    """Read several PRSA station files into one Dataset with dims ``(site, time)``.

    Parameters
    ----------
    paths : path, glob pattern or list of them
    qc : bool
        Passed to :func:`read_prsa_station`.

    Returns
    -------
    xr.Dataset
        As :func:`read_prsa_station` with a leading ``site`` dim (sorted by name); ``attrs['qc_counts']`` lists
        the NO2 values flagged per station and test.
    """
    parts, counts = [], {}
    for p in expand_paths(paths):
        ds = read_prsa_station(p, qc=qc)
        counts[str(ds.site.values)] = {k: ds["no2"].attrs.get(k, 0) for k in ("qc_range", "qc_stuck", "qc_spike")}
        parts.append(ds.expand_dims("site"))
    sites = [str(d.site.values[0]) for d in parts]
    if len(set(sites)) != len(sites):
        raise DataError(f"stations given twice: {sorted(s for s in sites if sites.count(s) > 1)}")
    out = xr.concat(parts, dim="site", join="outer", combine_attrs="drop_conflicts").sortby("site")
    out.attrs["qc_counts"] = str(counts)
    out.attrs["n_sites"] = len(sites)
    return out


@postprocess_reader(required={"no2": "mol m-2"})
def read_openeo_no2_point(path: str | os.PathLike, *, units: str = "mol m-2",
                          plausible: tuple[float, float] = (-5e-4, 5e-3)) -> xr.Dataset:
    """Read one openEO point time series of TROPOMI tropospheric NO2 (``NO2_<year>_<city>.nc``).

    The files carry no units attribute; the values are the L2 tropospheric column in mol m-2 (SOURCE.md).
    The reader checks that the values are in a plausible range for that unit, so that a file in other units
    (e.g. molec cm-2, 1e15-1e16) is rejected rather than silently misread.

    Returns
    -------
    xr.Dataset
        dims ``(time,)`` (UTC dates); ``no2`` in mol m-2 and ``no2_molec_cm2`` in molec cm-2
        (explicit conversion, x N_A / 1e4); scalar coords ``city``, ``lat``, ``lon``.

    Raises
    ------
    DataError
        Missing ``NO2`` variable, values outside ``plausible`` (wrong units), or no valid value.
    """
    with xr.open_dataset(path, engine="h5netcdf") as raw:
        raw = raw.load()
    if "NO2" not in raw:
        raise DataError(f"{path}: missing variable 'NO2'; present: {sorted(map(str, raw.data_vars))}")
    found = raw["NO2"].attrs.get("units", units)
    if found != units:
        raise DataError(f"{path}: variable 'NO2' has units {found!r}, expected {units!r}")
    vals = raw["NO2"].squeeze(drop=True)
    if vals.ndim != 1:
        raise DataError(f"{path}: expected one feature (point), found NO2 with dims {raw['NO2'].dims}")
    v = vals.values.astype(float)
    if not np.isfinite(v).any():
        raise DataError(f"{path}: variable 'NO2' has no valid value")
    lo, hi = plausible
    if np.nanmin(v) < lo or np.nanmax(v) > hi:
        raise DataError(f"{path}: NO2 values in [{np.nanmin(v):.3g}, {np.nanmax(v):.3g}] outside the plausible range "
                        f"[{lo:g}, {hi:g}] for a tropospheric column in {units!r} (wrong units?)")
    tname = vals.dims[0]
    time = pd.DatetimeIndex(pd.to_datetime(raw[tname].values)).normalize()
    name = Path(path).stem.split("_", 2)[-1]
    if "feature_names" in raw:
        fn = np.asarray(raw["feature_names"].values).ravel()
        if fn.size == 1:
            name = fn[0].decode() if isinstance(fn[0], bytes) else str(fn[0])
    lat = float(np.asarray(raw["lat"].values).ravel()[0]) if "lat" in raw.variables else np.nan
    lon = float(np.asarray(raw["lon"].values).ravel()[0]) if "lon" in raw.variables else np.nan
    ds = xr.Dataset(coords={"time": ("time", time.values), "city": name, "lat": lat, "lon": lon})
    ds["no2"] = ("time", v, {"units": "mol m-2", "long_name": "TROPOMI tropospheric NO2 column (daily, point)",
                            "standard_name": "troposphere_mole_content_of_nitrogen_dioxide"})
    ds["no2_molec_cm2"] = ("time", v * AVOGADRO / 1e4, {"units": "molec cm-2",
                                                       "long_name": "TROPOMI tropospheric NO2 column (daily, point)"})
    ds = ds.sortby("time")
    ds.attrs.update(source_dataset="Copernicus Sentinel-5P TROPOMI L2 NO2 via openEO (point aggregation)")
    return ds


def read_oman_no2_cities(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> xr.Dataset:
    """Read several openEO city files into one Dataset with dims ``(city, time)`` (daily, NaN where no retrieval).

    Returns
    -------
    xr.Dataset
        ``no2`` (mol m-2), ``no2_molec_cm2`` (molec cm-2); coords ``lat(city)``, ``lon(city)``.
    """
    parts = [read_openeo_no2_point(p) for p in expand_paths(paths)]
    parts = [d.reset_coords(["lat", "lon"]).expand_dims("city") for d in parts]
    out = xr.concat(parts, dim="city", join="outer", combine_attrs="drop_conflicts")
    out = out.set_coords(["lat", "lon"])
    out["lat"] = out["lat"].isel(time=0, drop=True) if "time" in out["lat"].dims else out["lat"]
    out["lon"] = out["lon"].isel(time=0, drop=True) if "time" in out["lon"].dims else out["lon"]
    for v in ("no2", "no2_molec_cm2"):
        out[v].attrs = parts[0][v].attrs
    return out.sortby("city")
