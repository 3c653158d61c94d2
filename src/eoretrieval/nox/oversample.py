"""Area-weighted oversampling of TROPOMI L2 orbits onto a regular lat/lon grid, daily, with xarray + dask.

The value of a grid cell on a day is the mean of the valid pixel values weighted by the area each pixel
shares with the cell :cite:`sun2018oversampling`:

.. math:: \\bar x_c = \\frac{\\sum_i A_{ic}\\,w_i\\,x_i}{\\sum_i A_{ic}\\,w_i},

with :math:`A_{ic}` the overlap area of pixel *i* (its quadrilateral from the four corners) and cell *c*,
and :math:`w_i = 1` (``weighting="area"``) or :math:`1/\\sigma_i^2` (``"area_precision"``). The overlap is
computed by sub-pixel quadrature: each pixel is divided into ``n_sub`` x ``n_sub`` equal parts (bilinear in
its corners), each carrying :math:`1/n_{sub}^2` of the pixel area; this converges to the exact polygon
overlap as ``n_sub`` grows and is exact for pixels whose sub-parts do not straddle cell edges. The observed
fraction of a cell is :math:`\\sum_i A_{ic} / A_c`; cells observed over less than ``min_coverage`` are NaN.

:func:`oversample_daily` groups orbit files by local solar day and builds one dask task per day; the same
graph runs in-process (``scheduler=None``, synchronous) or on a ``dask.distributed`` cluster (an address or a
``Client``), with identical results.

Public names: :func:`pixel_subpoints`, :func:`oversample_orbit`, :func:`oversample_files`,
:func:`oversample_daily`, :func:`orbit_day`.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from ..io.stations import expand_paths
from ..io.tropomi import read_tropomi_no2

__all__ = ["pixel_subpoints", "oversample_orbit", "oversample_files", "oversample_daily", "orbit_day"]

_KM_PER_DEG = 111.195
_NAME = re.compile(r"S5P_\w{4}_L2__NO2____(\d{8}T\d{6})_(\d{8}T\d{6})_")


def pixel_subpoints(lat_bounds: np.ndarray, lon_bounds: np.ndarray, n_sub: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sub-pixel centres (bilinear in the 4 corners, cyclic order) and each pixel's area.

    Parameters
    ----------
    lat_bounds, lon_bounds : ndarray, shape (n_pixel, 4)
    n_sub : int

    Returns
    -------
    lat, lon : ndarray, shape (n_pixel, n_sub * n_sub)
    area : ndarray, shape (n_pixel,), km2 (shoelace formula in a local equirectangular plane)
    """
    f = (np.arange(n_sub) + 0.5) / n_sub
    a, b = [g.ravel() for g in np.meshgrid(f, f, indexing="ij")]
    w = np.stack([(1 - a) * (1 - b), (1 - a) * b, a * b, a * (1 - b)], axis=0)  # (4, n_sub^2)
    lat = lat_bounds @ w
    lon = lon_bounds @ w
    coslat = np.cos(np.deg2rad(lat_bounds.mean(axis=1, keepdims=True)))
    x = lon_bounds * coslat * _KM_PER_DEG
    y = lat_bounds * _KM_PER_DEG
    area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1))
    return lat, lon, area


def _cell_areas(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    dy = abs(float(lat[1] - lat[0])) * _KM_PER_DEG
    dx = abs(float(lon[1] - lon[0])) * _KM_PER_DEG * np.cos(np.deg2rad(lat))
    return np.broadcast_to((dy * dx)[:, None], (lat.size, lon.size))


def oversample_orbit(orbit: xr.Dataset, lat: np.ndarray, lon: np.ndarray, *, n_sub: int = 5,
                     weighting: str = "area") -> np.ndarray:
    """Sums of one orbit on the grid: array ``(3, nlat, nlon)`` = (sum w A x, sum w A, sum A) for valid pixels.

    ``lat``, ``lon`` are the ascending, regularly spaced cell centres of the grid.
    """
    if weighting not in ("area", "area_precision"):
        raise ValueError(f"weighting must be 'area' or 'area_precision', got {weighting!r}")
    for name in ("no2", "lat_bounds", "lon_bounds"):
        if name not in orbit.variables:
            raise DataError(f"{orbit.attrs.get('source_file', '<orbit>')}: missing {name!r}; read it with read_tropomi_no2")
    if orbit["no2"].attrs.get("units") != "mol m-2":
        raise DataError(f"{orbit.attrs.get('source_file', '<orbit>')}: no2 has units {orbit['no2'].attrs.get('units')!r}, "
                        "expected 'mol m-2'")
    x = orbit["no2"].values.ravel()
    ok = np.isfinite(x)
    out = np.zeros((3, lat.size, lon.size))
    if not ok.any():
        return out
    lb = orbit["lat_bounds"].values.reshape(-1, 4)[ok]
    ob = orbit["lon_bounds"].values.reshape(-1, 4)[ok]
    plat, plon, area = pixel_subpoints(lb, ob, n_sub)
    w = np.ones(ok.sum())
    if weighting == "area_precision":
        sig = orbit["no2_precision"].values.ravel()[ok]
        w = 1.0 / np.where(np.isfinite(sig) & (sig > 0), sig, np.nan) ** 2
        w = np.nan_to_num(w)
    dlat, dlon = float(lat[1] - lat[0]), float(lon[1] - lon[0])
    iy = np.floor((plat - (lat[0] - dlat / 2)) / dlat).astype(np.int64)
    ix = np.floor((plon - (lon[0] - dlon / 2)) / dlon).astype(np.int64)
    inside = (iy >= 0) & (iy < lat.size) & (ix >= 0) & (ix < lon.size)
    flat = (iy * lon.size + ix)[inside]
    a_sub = np.broadcast_to((area / n_sub ** 2)[:, None], plat.shape)[inside]
    w_sub = np.broadcast_to(w[:, None], plat.shape)[inside]
    x_sub = np.broadcast_to(x[ok][:, None], plat.shape)[inside]
    n = lat.size * lon.size
    out[0] = np.bincount(flat, weights=w_sub * a_sub * x_sub, minlength=n).reshape(lat.size, lon.size)
    out[1] = np.bincount(flat, weights=w_sub * a_sub, minlength=n).reshape(lat.size, lon.size)
    out[2] = np.bincount(flat, weights=a_sub, minlength=n).reshape(lat.size, lon.size)
    return out


def oversample_files(files: Sequence[str | os.PathLike], lat: np.ndarray, lon: np.ndarray, *, qa_min: float = 0.75,
                     n_sub: int = 5, weighting: str = "area") -> np.ndarray:
    """Accumulate :func:`oversample_orbit` over several orbit files (one day); returns ``(3, nlat, nlon)``.

    A file whose pixels are all flagged contributes nothing (it is a normal case for an orbit over clouds).
    """
    lat, lon = np.asarray(lat), np.asarray(lon)
    bbox = (lat[0] - 1, lat[-1] + 1, lon[0] - 1, lon[-1] + 1)
    total = np.zeros((3, lat.size, lon.size))
    for f in files:
        try:
            orbit = read_tropomi_no2(f, qa_min=qa_min, bbox=bbox)
        except DataError as err:
            if "no pixel" in str(err):
                continue
            raise
        total += oversample_orbit(orbit, lat, lon, n_sub=n_sub, weighting=weighting)
    return total


def orbit_day(path: str | os.PathLike, *, lon_center: float) -> pd.Timestamp:
    """Local solar day of an orbit file: its start time (from the name, else ``time_coverage_start``)
    shifted by ``lon_center / 15`` hours."""
    m = _NAME.search(Path(path).name)
    if m:
        start = pd.Timestamp(m.group(1))
    else:
        import netCDF4

        try:
            with netCDF4.Dataset(path) as nc:
                start = pd.Timestamp(nc.time_coverage_start).tz_localize(None)
        except (OSError, AttributeError) as err:
            raise DataError(f"{path}: cannot tell the orbit's time (no S5P file name, no time_coverage_start): {err}") from err
    return (start + pd.Timedelta(hours=lon_center / 15.0)).normalize()


def oversample_daily(files, lat: np.ndarray, lon: np.ndarray, *, qa_min: float = 0.75, n_sub: int = 5,
                     weighting: str = "area", min_coverage: float = 0.5, days=None, scheduler=None) -> xr.Dataset:
    """Oversample orbit files onto the grid, one map per local solar day, through dask.

    Parameters
    ----------
    files : path, glob pattern or list
        TROPOMI L2 NO2 orbit files.
    lat, lon : array-like
        Ascending, regular cell centres (degrees).
    qa_min, n_sub, weighting
        See :func:`oversample_orbit` and :func:`eoretrieval.io.tropomi.read_tropomi_no2`.
    min_coverage : float
        Minimum observed fraction of a cell's area for a valid value.
    days : sequence of datetime-like, optional
        Keep only these days.
    scheduler : None, str or distributed.Client
        None: in-process (synchronous); ``"threads"``/``"processes"``; a scheduler address
        (``"tcp://..."``) or a ``Client``: run on that cluster.

    Returns
    -------
    xr.Dataset
        dims ``(time, lat, lon)``: ``no2_column`` (mol m-2), ``coverage`` (1), ``valid`` (uint8).
    """
    import dask
    import dask.array as dsa

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    by_day: dict[pd.Timestamp, list[str]] = defaultdict(list)
    for f in expand_paths(files):
        by_day[orbit_day(f, lon_center=float(lon.mean()))].append(str(f))
    wanted = sorted(by_day) if days is None else [pd.Timestamp(d) for d in pd.DatetimeIndex(days)]
    missing = [d for d in wanted if d not in by_day]
    if missing:
        raise DataError(f"no orbit file for days {[str(d.date()) for d in missing[:5]]} among {len(by_day)} days found")
    tasks = [dsa.from_delayed(dask.delayed(oversample_files)(sorted(by_day[d]), lat, lon, qa_min=qa_min, n_sub=n_sub,
                                                             weighting=weighting),
                              shape=(3, lat.size, lon.size), dtype=float) for d in wanted]
    stack = dsa.stack(tasks)
    client = None
    if scheduler is None:
        kwargs = {"scheduler": "synchronous"}
    elif isinstance(scheduler, str) and scheduler in ("threads", "processes", "synchronous"):
        kwargs = {"scheduler": scheduler}
    else:
        from distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        kwargs = {"scheduler": client}
    try:
        sums = stack.compute(**kwargs)
    finally:
        if client is not None and client is not scheduler:
            client.close()
    coverage = sums[:, 2] / _cell_areas(lat, lon)[None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums[:, 0] / sums[:, 1]
    valid = (coverage >= min_coverage) & np.isfinite(mean)
    coords = {"time": pd.DatetimeIndex(wanted), "lat": lat, "lon": lon}
    dims = ("time", "lat", "lon")
    return xr.Dataset({
        "no2_column": (dims, np.where(valid, mean, np.nan), {
            "units": "mol m-2", "long_name": "tropospheric NO2 column, area-weighted oversampled (daily)",
            "standard_name": "troposphere_mole_content_of_nitrogen_dioxide"}),
        "coverage": (dims, coverage, {"units": "1", "long_name": "observed fraction of the cell area"}),
        "valid": (dims, valid.astype(np.uint8), {"units": "1", "long_name": f"coverage >= {min_coverage}"}),
    }, coords=coords, attrs={"qa_min": qa_min, "n_sub": n_sub, "weighting": weighting, "min_coverage": min_coverage,
                             "n_files": sum(len(by_day[d]) for d in wanted)})
