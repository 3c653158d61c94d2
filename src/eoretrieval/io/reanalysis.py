"""Reader for the shipped ERA-Interim monthly-mean pressure-level sample (``eraint_uvz.nc``).

Public names: :func:`read_era_interim_monthly`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import xarray as xr

from .generic import check_netcdf_complete
from .interface import postprocess_reader

__all__ = ["read_era_interim_monthly"]


@postprocess_reader(required={"u": "m s**-1", "v": "m s**-1"})
def read_era_interim_monthly(path: Path) -> xr.Dataset:
    """Read ERA-Interim monthly means of u, v, z with the project's conventions.

    The file packs int16 values with a NaN ``_FillValue``, which CF does not allow for integers;
    xarray warns and drops the fill value, which is harmless here (no missing values), so that
    one warning is silenced inside this reader only. Latitude/longitude are renamed to ``lat``/``lon``
    and latitude made ascending (STYLE §3).

    Returns
    -------
    xr.Dataset
        ``u``, ``v`` (m s**-1), ``z`` (m**2 s**-2) on dims ``(month, level, lat, lon)``;
        ``level`` in hPa, ``lon`` in [-180, 180).

    References
    ----------
    :cite:`dee2011`
    """
    check_netcdf_complete(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"variable '.*' has non-conforming '_FillValue'")
        with xr.open_dataset(path) as ds:
            ds = ds.load()
    ds = ds.rename({"latitude": "lat", "longitude": "lon"}).sortby("lat")
    ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
    ds["lon"].attrs.update(units="degrees_east", standard_name="longitude")
    ds["level"].attrs.setdefault("units", "hPa")
    return ds
