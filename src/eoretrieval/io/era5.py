"""Reader of ERA5 pressure-level wind files as the Copernicus Climate Data Store delivers them (netCDF).

The CDS has delivered two layouts of the same product :cite:`hersbach2020`:

- the **current** one (since 2024): dims ``valid_time`` (int64 seconds since 1970-01-01), ``pressure_level``
  (hPa), ``latitude``, ``longitude``; ``u``/``v`` float32 with ``units = "m s**-1"``, plus scalar ``number`` and
  ``expver`` coordinates;
- the **legacy** one: dims ``time`` (int32 hours since 1900-01-01), ``level`` (int32, ``millibars``),
  ``latitude``, ``longitude``; ``u``/``v`` packed as int16 with ``scale_factor``, ``add_offset`` and
  ``_FillValue``/``missing_value`` -32767.

Both put latitude from north to south, and longitude in [0, 360) for a global request (a subset may hold
negative values). :func:`read_era5_pressure_levels` returns one layout whatever the file's: dims
``(time, level, lat, lon)``, ``lat`` ascending, ``lon`` in [-180, 180) and ascending, ``level`` in hPa, packing
undone. Several files (e.g. one per day or month) are concatenated in time.

Errors (:class:`~eoretrieval.errors.DataError`, naming the file): not found, truncated or unreadable, a missing
variable or dimension, units that are not wind speeds, pressure not in hPa/millibars, a field that is all
fill values, times repeated across files.

Public names: :func:`read_era5_pressure_levels`, :data:`ERA5_WIND_UNITS`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError
from .generic import check_netcdf_complete
from .interface import postprocess_reader

__all__ = ["read_era5_pressure_levels", "read_era5_file", "ERA5_WIND_UNITS"]

#: units strings of wind speed that ERA5 files (and CF) use
ERA5_WIND_UNITS = ("m s**-1", "m s-1", "m/s")
_DIMS = {"valid_time": "time", "time": "time", "pressure_level": "level", "level": "level",
         "latitude": "lat", "longitude": "lon"}
_LEVEL_UNITS = ("hPa", "millibars", "mbar", "hectopascal")


@postprocess_reader(required=None)
def read_era5_file(path: Path, *, variables=("u", "v")) -> xr.Dataset:
    """Read one ERA5 pressure-level netCDF file (either CDS layout) into the project's layout; see the module."""
    check_netcdf_complete(path)
    with xr.open_dataset(path, mask_and_scale=True, decode_times=True) as ds:
        missing = [v for v in variables if v not in ds.data_vars]
        if missing:
            raise DataError(f"{path}: missing variable(s) {missing}; expected ERA5 pressure-level "
                            f"{list(variables)} (found {sorted(ds.data_vars)})")
        ds = ds[list(variables)].load()
    dims = {d: _DIMS[d] for d in ds.dims if d in _DIMS}
    need = {"time", "level", "lat", "lon"}
    if set(dims.values()) != need:
        raise DataError(f"{path}: dimensions {list(ds.dims)}; expected time (valid_time), pressure_level (level), "
                        "latitude, longitude")
    ds = ds.rename(dims)
    ds = ds.drop_vars([c for c in ds.coords if c not in need])
    for v in variables:
        units = str(ds[v].attrs.get("units", ""))
        if units not in ERA5_WIND_UNITS:
            raise DataError(f"{path}: variable {v!r} has units {units!r}; expected a wind speed in one of "
                            f"{list(ERA5_WIND_UNITS)}")
        if not np.isfinite(ds[v].values).any():
            raise DataError(f"{path}: variable {v!r} holds only fill values")
    lev_units = str(ds["level"].attrs.get("units", ""))
    if lev_units not in _LEVEL_UNITS:
        raise DataError(f"{path}: pressure levels in {lev_units!r}; expected one of {list(_LEVEL_UNITS)}")
    lon = ds["lon"].values
    ds = ds.assign_coords(lon=("lon", np.where(lon >= 180.0, lon - 360.0, lon)))
    ds = ds.sortby("lat").sortby("lon").sortby("level")
    ds["level"] = ds["level"].astype(np.float64).assign_attrs(units="hPa", long_name="pressure level")
    ds["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    ds["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    for v in variables:
        ds[v] = ds[v].astype(np.float32).assign_attrs(units="m s-1", long_name=ds[v].attrs.get("long_name", v))
    return ds.transpose("time", "level", "lat", "lon")


def read_era5_pressure_levels(paths, *, variables=("u", "v")) -> xr.Dataset:
    """Read and concatenate in time ERA5 pressure-level files (a glob, a path or a list of paths).

    Returns
    -------
    xr.Dataset
        ``variables`` (m s-1, float32) on ``(time, level, lat, lon)``; ``attrs["source_files"]``.

    Raises
    ------
    DataError
        If no file matches, a file fails :func:`read_era5_file`, files differ in grid or levels, or a time
        appears in two files (naming them).
    """
    from .stations import expand_paths

    files = [Path(p) for p in expand_paths(paths)]
    if not files:
        raise DataError(f"{paths}: no ERA5 file matches")
    parts = [read_era5_file(f, variables=variables) for f in files]
    first = parts[0]
    for f, p in zip(files[1:], parts[1:]):
        for c in ("level", "lat", "lon"):
            if p.sizes[c] != first.sizes[c] or not np.allclose(p[c].values, first[c].values):
                raise DataError(f"{f}: its {c} axis differs from that of {files[0]}; expected one grid")
    ds = xr.concat(parts, "time") if len(parts) > 1 else first
    t = ds["time"].values
    if len(np.unique(t)) != len(t):
        dup = t[np.flatnonzero(np.diff(np.sort(t)) == np.timedelta64(0))[0]]
        raise DataError(f"{[str(f) for f in files]}: time {dup} appears more than once; expected each hour once")
    ds = ds.sortby("time")
    ds.attrs = {"source_files": [os.fspath(f) for f in files], "source": "ERA5 pressure levels (CDS netCDF)"}
    return ds
