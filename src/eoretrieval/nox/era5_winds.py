"""ERA5 winds for the NOx model: daily boundary-layer winds on the model grid, and format-exact ERA5 files.

- :func:`daily_boundary_layer_winds` turns hourly ERA5 pressure-level winds (read by
  :func:`eoretrieval.io.era5.read_era5_pressure_levels`) into the model's daily winds: for each day the mean over
  the 24 hours that end at the 13:30 local-solar-time overpass (the transport window of a model day, see
  :mod:`eoretrieval.nox.world`; local solar time at the domain's central longitude), averaged over the
  boundary-layer levels (default 1000, 925 and 850 hPa, roughly the lowest 1.5 km; the world's winds stand for
  the mean wind of the lowest ~500 m to 1 km that Beirle et al. use), then bilinearly interpolated to the cell
  centres.
- :func:`write_era5_files` writes winds in the exact layout of the CDS's ERA5 pressure-level netCDF (current
  or legacy, see :mod:`eoretrieval.io.era5`) on the 0.25 deg ERA5 grid: with it a study-1 world's winds go
  through the same reader and daily averaging as real ERA5 files in the round trip of study 2.

Public names: :func:`daily_boundary_layer_winds`, :func:`overpass_window_end_utc`, :func:`write_era5_files`,
:data:`BOUNDARY_LAYER_LEVELS`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

__all__ = ["daily_boundary_layer_winds", "overpass_window_end_utc", "write_era5_files", "BOUNDARY_LAYER_LEVELS"]

#: pressure levels (hPa) averaged into the boundary-layer wind
BOUNDARY_LAYER_LEVELS = (1000.0, 925.0, 850.0)
_OVERPASS_LOCAL_H = 13.5


def overpass_window_end_utc(day, lon_centre: float) -> pd.Timestamp:
    """UTC time of the 13:30 local-solar-time overpass on ``day`` at longitude ``lon_centre`` (degrees east)."""
    return pd.Timestamp(day).normalize() + pd.Timedelta(hours=_OVERPASS_LOCAL_H - float(lon_centre) / 15.0)


def daily_boundary_layer_winds(era5: xr.Dataset, lat, lon, days, *, levels=BOUNDARY_LAYER_LEVELS,
                               min_hours: int = 20) -> xr.Dataset:
    """Daily model winds ``u``, ``v`` (m s-1) on ``(time, lat, lon)`` from hourly ERA5 pressure-level winds.

    Parameters
    ----------
    era5 : xr.Dataset
        From :func:`~eoretrieval.io.era5.read_era5_pressure_levels`: ``u``, ``v`` on ``(time, level, lat, lon)``.
    lat, lon : array-like
        Model cell centres (ascending).
    days : sequence of datetime-like
        Model days; each takes the hours in ``(end - 24 h, end]`` with ``end`` the overpass
        (:func:`overpass_window_end_utc` at the central longitude).
    levels : sequence of float
        Pressure levels (hPa) averaged; all must be in the files.
    min_hours : int
        Fewest hours a window may hold.

    Raises
    ------
    DataError
        If a level is missing, the files' grid does not cover the model grid, or a day's window holds fewer than
        ``min_hours`` hours (naming the files and the day).
    """
    src = era5.attrs.get("source_files", ["<era5>"])
    src = f"{src[0]} ..." if isinstance(src, list) and len(src) > 1 else (src[0] if isinstance(src, list) else src)
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    have = set(np.round(era5["level"].values, 3).tolist())
    missing = [lv for lv in levels if round(float(lv), 3) not in have]
    if missing:
        raise DataError(f"{src}: pressure levels {missing} hPa missing (found {sorted(have)}); the boundary-layer "
                        f"wind averages {list(levels)}")
    for name, model, files in (("lat", lat, era5["lat"].values), ("lon", lon, era5["lon"].values)):
        if model.min() < files.min() or model.max() > files.max():
            raise DataError(f"{src}: the ERA5 grid ({name} {files.min():.2f} to {files.max():.2f}) does not cover the "
                            f"model grid ({model.min():.2f} to {model.max():.2f}); request a larger area")
    bl = era5[["u", "v"]].sel(level=list(levels)).mean("level")
    times = pd.DatetimeIndex(era5["time"].values)
    lon_c = 0.5 * (lon.min() + lon.max())
    out = {"u": [], "v": []}
    days = pd.DatetimeIndex(days)
    for day in days:
        end = overpass_window_end_utc(day, lon_c)
        sel = (times > end - pd.Timedelta(hours=24)) & (times <= end)
        if sel.sum() < min_hours:
            raise DataError(f"{src}: {int(sel.sum())} hours in the 24 h before the overpass of {day:%Y-%m-%d} "
                            f"({end:%Y-%m-%d %H:%M} UTC); expected at least {min_hours}")
        mean = bl.isel(time=np.flatnonzero(sel)).mean("time")
        grid = mean.interp(lat=lat, lon=lon, method="linear")
        for k in out:
            out[k].append(grid[k].values.astype(np.float32))
    coords = {"time": days, "lat": lat, "lon": lon}
    long = f"ERA5 wind, mean over {', '.join(f'{lv:g}' for lv in levels)} hPa and the 24 h before the overpass"
    return xr.Dataset({k: xr.DataArray(np.stack(v), dims=("time", "lat", "lon"), coords=coords,
                                       attrs={"units": "m s-1", "long_name": f"{'eastward' if k == 'u' else 'northward'} "
                                              f"{long}"}) for k, v in out.items()},
                      attrs={"source_files": era5.attrs.get("source_files", [])})


def _era5_axis(lo: float, hi: float, margin: float = 0.5) -> np.ndarray:
    return np.arange(np.floor((lo - margin) * 4) / 4, np.ceil((hi + margin) * 4) / 4 + 1e-9, 0.25)


def write_era5_files(winds: xr.Dataset, folder: str | os.PathLike, *, layout: str = "current",
                     levels=BOUNDARY_LAYER_LEVELS) -> list[Path]:
    """Write daily model winds as hourly ERA5 pressure-level files in a CDS layout, one file per model day.

    The file of day ``d`` holds the 24 hours of its transport window (:func:`overpass_window_end_utc`, hours
    after the previous overpass up to this one), each hour and level carrying the day's wind interpolated (and at
    the edges extrapolated) to the 0.25 deg ERA5 grid around the model domain; latitude north to south, longitude
    as the CDS gives it for a subset in the eastern hemisphere. Read back and averaged by
    :func:`daily_boundary_layer_winds`, the winds return to the model grid up to the two interpolations.

    Parameters
    ----------
    winds : xr.Dataset
        ``u``, ``v`` (m s-1) on ``(time, lat, lon)``.
    layout : {"current", "legacy"}
        The CDS's netCDF layout since 2024 (float32, ``valid_time``, ``pressure_level``) or before it (int16
        packed with ``scale_factor``/``add_offset``, ``time`` in hours since 1900, ``level`` in millibars).

    Returns
    -------
    list of Path
        The files, ``era5_pl_YYYYMMDD.nc``.
    """
    import netCDF4

    if layout not in ("current", "legacy"):
        raise ValueError(f"unknown layout {layout!r}; valid: 'current', 'legacy'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lat_m, lon_m = winds["lat"].values, winds["lon"].values
    lat_e = _era5_axis(lat_m.min(), lat_m.max())[::-1]  # north to south, as the CDS delivers
    lon_e = _era5_axis(lon_m.min(), lon_m.max())
    lon_c = 0.5 * (lon_m.min() + lon_m.max())
    files = []
    for day in pd.DatetimeIndex(winds["time"].values):
        end = overpass_window_end_utc(day, lon_c).floor("h")
        hours = pd.date_range(end - pd.Timedelta(hours=23), end, freq="h")
        day_w = winds[["u", "v"]].sel(time=day).interp(lat=lat_e, lon=lon_e, method="linear",
                                                        kwargs={"fill_value": "extrapolate"})
        path = folder / f"era5_pl_{day:%Y%m%d}.nc"
        tmp = path.with_suffix(".nc.part")
        with netCDF4.Dataset(tmp, "w", format="NETCDF4" if layout == "current" else "NETCDF3_64BIT_OFFSET") as nc:
            tname, lname = ("valid_time", "pressure_level") if layout == "current" else ("time", "level")
            nc.createDimension(tname, len(hours))
            nc.createDimension(lname, len(levels))
            nc.createDimension("latitude", len(lat_e))
            nc.createDimension("longitude", len(lon_e))
            if layout == "current":
                t = nc.createVariable(tname, "i8", (tname,))
                t.units, t.calendar, t.standard_name = "seconds since 1970-01-01", "proleptic_gregorian", "time"
                t[:] = ((hours - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)).values
                lev = nc.createVariable(lname, "f8", (lname,))
                lev.units, lev.long_name, lev.stored_direction = "hPa", "pressure", "decreasing"
            else:
                t = nc.createVariable(tname, "i4", (tname,))
                t.units, t.long_name, t.calendar = "hours since 1900-01-01 00:00:00.0", "time", "gregorian"
                t[:] = ((hours - pd.Timestamp("1900-01-01")) // pd.Timedelta(hours=1)).values
                lev = nc.createVariable(lname, "i4", (lname,))
                lev.units, lev.long_name = "millibars", "pressure_level"
            lev[:] = np.sort(np.asarray(levels, dtype=float))
            la = nc.createVariable("latitude", "f8" if layout == "current" else "f4", ("latitude",))
            la.units, la.standard_name, la.long_name = "degrees_north", "latitude", "latitude"
            la[:] = lat_e
            lo = nc.createVariable("longitude", "f8" if layout == "current" else "f4", ("longitude",))
            lo.units, lo.standard_name, lo.long_name = "degrees_east", "longitude", "longitude"
            lo[:] = lon_e
            if layout == "current":
                num = nc.createVariable("number", "i8", ())
                num.long_name, num.standard_name = "ensemble member numerical id", "realization"
                num.assignValue(0)
                ex = nc.createVariable("expver", str, (tname,))
                for i in range(len(hours)):
                    ex[i] = "0001"
            for name, std, long in (("u", "eastward_wind", "U component of wind"),
                                    ("v", "northward_wind", "V component of wind")):
                field = np.broadcast_to(day_w[name].values[None, None], (len(hours), len(levels), len(lat_e), len(lon_e)))
                dims = (tname, lname, "latitude", "longitude")
                if layout == "current":
                    var = nc.createVariable(name, "f4", dims, fill_value=np.float32(np.nan), zlib=True)
                    var.units, var.standard_name, var.long_name = "m s**-1", std, long
                    var.GRIB_paramId = 131 if name == "u" else 132
                    var.coordinates = "number expver"
                    var[:] = field.astype(np.float32)
                else:
                    vmin, vmax = float(field.min()), float(field.max())
                    # ECMWF's packing (offset at mid-range), kept one step inside the fill value -32767
                    scale = max(vmax - vmin, 1e-6) / (2 ** 16 - 4)
                    offset = 0.5 * (vmin + vmax)
                    var = nc.createVariable(name, "i2", dims, fill_value=np.int16(-32767))
                    var.scale_factor, var.add_offset = scale, offset
                    var.missing_value = np.int16(-32767)
                    var.units, var.standard_name, var.long_name = "m s**-1", std, long
                    var.set_auto_maskandscale(True)
                    var[:] = field
            nc.Conventions = "CF-1.7" if layout == "current" else "CF-1.6"
            nc.institution = "European Centre for Medium-Range Weather Forecasts"
            nc.history = ("written by eoretrieval.nox.era5_winds.write_era5_files in the layout of the CDS ERA5 "
                          f"pressure-level netCDF ({layout}); values from a synthetic NOx world, not ERA5")
        os.replace(tmp, path)
        files.append(path)
    return files
