"""Readers of generic formats: netCDF (any engine xarray has), CSV tables, Natural Earth shapefiles.

Public names: :func:`read_netcdf`, :func:`read_csv_table`, :func:`read_shapefile`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader

__all__ = ["read_netcdf", "read_csv_table", "read_shapefile", "check_netcdf_complete"]


def check_netcdf_complete(path: Path) -> None:
    """Raise :class:`DataError` if a netCDF-3 (classic/64-bit offset) file is truncated.

    netCDF-C opens a truncated classic file without complaint and returns fill values for the
    missing bytes; parsing the whole file with :mod:`scipy.io` (no memory map) detects the short read.
    netCDF-4/HDF5 files report truncation themselves when opened.
    """
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:3] != b"CDF":
        return
    from scipy.io import netcdf_file

    try:
        with netcdf_file(path, "r", mmap=False) as nc:
            nc.variables.keys()
    except (ValueError, TypeError, OSError) as err:
        raise DataError(f"{path}: truncated or corrupt netCDF-3 file; expected the full data section "
                        f"of every variable ({type(err).__name__}: {err})") from err


@postprocess_reader()
def read_netcdf(path: Path, *, variables: list[str] | None = None, engine: str | None = None) -> xr.Dataset:
    """Read a netCDF file fully into memory and close it.

    Parameters
    ----------
    path : path
        netCDF3/netCDF4 file.
    variables : list of str, optional
        Keep only these data variables (each must exist).
    engine : str, optional
        xarray engine (default: xarray's choice).

    Returns
    -------
    xr.Dataset
        With ``attrs['source_file']``.

    Raises
    ------
    DataError
        File missing, truncated, or a requested variable absent.
    """
    check_netcdf_complete(path)
    with xr.open_dataset(path, engine=engine) as ds:
        if variables is not None:
            missing = [v for v in variables if v not in ds]
            if missing:
                raise DataError(f"{path}: missing variables {missing}; present: {sorted(map(str, ds.data_vars))}")
            ds = ds[variables]
        return ds.load()


@postprocess_reader()
def read_csv_table(path: Path, *, index: str | None = None, columns: list[str] | None = None,
                   na_values: tuple = (-9999, "-9999")) -> xr.Dataset:
    """Read a CSV table (optionally gzipped) into a Dataset with one ``record`` (or ``index``) dimension.

    Parameters
    ----------
    index : str, optional
        Column to use as the dimension coordinate.
    columns : list of str, optional
        Columns that must exist (others are kept too).

    Raises
    ------
    DataError
        Missing required columns or an empty table.
    """
    df = pd.read_csv(path, na_values=list(na_values), low_memory=False)
    if df.empty:
        raise DataError(f"{path}: table has no rows; expected at least one record")
    missing = [c for c in (columns or []) + ([index] if index else []) if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; present: {list(df.columns)[:30]}")
    df.columns = [str(c).replace(" ", "_").replace("(", "").replace(")", "") for c in df.columns]
    if index:
        df = df.set_index(index.replace(" ", "_"))
    else:
        df.index.name = "record"
    return xr.Dataset.from_dataframe(df)


@postprocess_reader()
def read_shapefile(path: Path) -> xr.Dataset:
    """Read the attribute table and bounding boxes of an ESRI shapefile (pyshp, no GDAL).

    Returns
    -------
    xr.Dataset
        One ``feature`` dimension; each attribute field is a variable; ``lon_min, lat_min, lon_max,
        lat_max`` (degrees) give each feature's bounding box; ``attrs['geometry_type']``.
    """
    import shapefile  # pyshp, a cartopy dependency

    with shapefile.Reader(str(path)) as shp:
        fields = [f[0] for f in shp.fields[1:]]
        records = shp.records()
        shapes = shp.shapes()
        gtype = shp.shapeTypeName
    if not shapes:
        raise DataError(f"{path}: shapefile has no features")
    data = {name: ("feature", [r[i] for r in records]) for i, name in enumerate(fields)}
    bbox = np.array([s.bbox if hasattr(s, "bbox") else [np.nan] * 4 for s in shapes], dtype=float)
    for j, name in enumerate(["lon_min", "lat_min", "lon_max", "lat_max"]):
        data[name] = ("feature", bbox[:, j], {"units": "degrees"})
    return xr.Dataset(data, attrs={"geometry_type": gtype})
