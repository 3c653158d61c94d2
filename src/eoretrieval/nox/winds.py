"""Daily boundary-layer winds for the NOx world: real ERA-Interim climatology plus synoptic noise.

The seasonal climatology comes from the ERA-Interim January and July 850 hPa monthly means
shipped in ``data/reanalysis_winds/eraint_uvz.nc`` :cite:`dee2011`, bilinearly regridded to the
model grid and interpolated between January and July with a cosine in day of year,

.. math::

    \\bar{\\mathbf V}(t) = \\mathbf V_{Jan} + (\\mathbf V_{Jul} - \\mathbf V_{Jan})\\,
    \\tfrac{1}{2}\\big(1 - \\cos(2\\pi (d - 15)/365.25)\\big),

scaled by ``wind_scale`` (< 1: the mean wind in the lowest ~500 m used by :cite:`beirle2019`
is weaker than the 850 hPa wind; 0.7 is our assumption). Day-to-day synoptic variability is added
as a non-divergent perturbation :math:`(u', v') = (-\\partial_y\\psi, \\partial_x\\psi)` of a
smooth, seeded, AR(1)-in-time stream function :math:`\\psi`, scaled to an rms of
``synoptic_std`` m s-1 per component.

Public names: :func:`read_era_interim_winds`, :func:`make_winds`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from eoretrieval.config import data_dir
from eoretrieval.errors import DataError
from eoretrieval.nox._fields import ar1_fields

__all__ = ["read_era_interim_winds", "make_winds"]

_ERA_FILE = "reanalysis_winds/eraint_uvz.nc"


def read_era_interim_winds(lat, lon, *, level: int = 850, path=None) -> xr.Dataset:
    """Read the ERA-Interim January/July mean winds at ``level`` hPa on a lat/lon grid.

    The file packs ``u``/``v`` as int16 with ``scale_factor``/``add_offset`` and a NaN
    ``_FillValue`` that xarray cannot honour for integers, so the packing is undone here.

    Parameters
    ----------
    lat, lon : array-like
        Target cell-centre coordinates (degrees north / east, ascending).
    level : int
        Pressure level (hPa): 200, 500 or 850.
    path : path-like, optional
        File; default ``data_dir()/reanalysis_winds/eraint_uvz.nc``.

    Returns
    -------
    xr.Dataset
        ``u``, ``v`` (m s-1) with dims (month, lat, lon), month = [1, 7].

    Raises
    ------
    DataError
        If the file lacks ``u``/``v`` or the level.
    """
    path = data_dir() / _ERA_FILE if path is None else path
    with xr.open_dataset(path, mask_and_scale=False) as raw:
        out = {}
        for name in ("u", "v"):
            if name not in raw:
                raise DataError(f"{path}: variable {name!r} missing; expected ERA-Interim u and v winds")
            if level not in raw["level"].values:
                raise DataError(f"{path}: level {level} hPa missing; found {raw['level'].values.tolist()}")
            var = raw[name].sel(level=level)
            values = var.values.astype(float) * float(var.attrs.get("scale_factor", 1.0)) + float(
                var.attrs.get("add_offset", 0.0))
            da = xr.DataArray(values, dims=("month", "latitude", "longitude"),
                              coords={"month": raw["month"].values, "latitude": raw["latitude"].values,
                                      "longitude": raw["longitude"].values})
            da = da.sortby("latitude")
            da = da.interp(latitude=np.asarray(lat), longitude=np.asarray(lon), method="linear")
            out[name] = da.rename(latitude="lat", longitude="lon").astype(np.float32)
            out[name].attrs = {"units": "m s-1", "long_name": f"ERA-Interim {level} hPa monthly mean {name} wind"}
    return xr.Dataset(out)


def make_winds(lat, lon, dates, *, rng: np.random.Generator, wind_scale: float = 0.7,
               synoptic_std: float = 3.0, synoptic_length_km: float = 400.0,
               synoptic_timescale_days: float = 3.0, level: int = 850) -> xr.Dataset:
    """Daily winds at the 13:30 overpass: seasonal ERA-Interim climatology plus synoptic noise.

    Parameters
    ----------
    lat, lon : array-like
        Cell-centre coordinates (degrees), ascending, uniform spacing.
    dates : pd.DatetimeIndex
        Days.
    rng : np.random.Generator
        Source of randomness (seeded by the caller).
    wind_scale : float
        Factor applied to the 850 hPa climatology to represent the boundary-layer mean wind.
    synoptic_std : float
        Rms of each perturbation component (m s-1).
    synoptic_length_km : float
        Gaussian kernel width of the stream function (km).
    synoptic_timescale_days : float
        e-folding time of the AR(1) stream function (days).

    Returns
    -------
    xr.Dataset
        ``u``, ``v`` (m s-1), dims (time, lat, lon), float32.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    dates = pd.DatetimeIndex(dates)
    clim = read_era_interim_winds(lat, lon, level=level)
    doy = dates.day_of_year.values.astype(float)
    w = 0.5 * (1 - np.cos(2 * np.pi * (doy - 15.0) / 365.25))[:, None, None]
    out = {}
    dy = 6.371e6 * np.radians(lat[1] - lat[0])
    dx = 6.371e6 * np.radians(lon[1] - lon[0]) * np.cos(np.radians(lat))[:, None]
    rho = float(np.exp(-1.0 / synoptic_timescale_days)) if synoptic_timescale_days > 0 else 0.0
    psi = ar1_fields(rng, len(dates), (lat.size, lon.size), synoptic_length_km / (dy / 1e3), rho)
    up = -np.gradient(psi, axis=1) / dy
    vp = np.gradient(psi, axis=2) / dx
    rms = np.sqrt(0.5 * (np.mean(up**2) + np.mean(vp**2)))
    scale = synoptic_std / rms if rms > 0 else 0.0
    pert = {"u": up * scale, "v": vp * scale}
    names = {"u": ("eastward_wind", "boundary-layer eastward wind at overpass"),
             "v": ("northward_wind", "boundary-layer northward wind at overpass")}
    for name in ("u", "v"):
        jan = clim[name].sel(month=1).values[None]
        jul = clim[name].sel(month=7).values[None]
        mean = wind_scale * (jan + (jul - jan) * w)
        out[name] = xr.DataArray(
            (mean + pert[name]).astype(np.float32), dims=("time", "lat", "lon"),
            coords={"time": dates, "lat": lat, "lon": lon},
            attrs={"units": "m s-1", "standard_name": names[name][0], "long_name": names[name][1]})
    return xr.Dataset(out)
