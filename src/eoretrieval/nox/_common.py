"""Shared helpers of the baselines: input checks, day selection, gap filling (private)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter

from eoretrieval.conventions import TIME
from eoretrieval.errors import DataError
from eoretrieval.io.checks import require_units
from eoretrieval.nox.world import split_days

__all__ = ["check_units", "check_dims", "select_days", "fill_gaps", "emission_array", "trailing_mean"]


def check_units(da: xr.DataArray, name: str, expected: str) -> None:
    """Check the units of the world variable ``name`` through :func:`eoretrieval.io.checks.require_units`."""
    require_units(da.rename(name), expected, source="NOx world")


def check_dims(da: xr.DataArray, name: str, expected=("time", "lat", "lon")) -> None:
    if tuple(da.dims) != tuple(expected):
        raise DataError(f"{name}: dims {tuple(da.dims)}, expected {tuple(expected)}")


def select_days(world: xr.Dataset, days=None) -> xr.Dataset:
    """Select days of a world.

    ``days`` may be None (all), a split name ("train", "val", "test"), a "YYYY-MM-DD/YYYY-MM-DD"
    string (inclusive), a slice, or a list/index of dates.
    """
    if days is None:
        return world
    if isinstance(days, str):
        if days in ("train", "val", "test"):
            return world.sel(time=split_days(world, days))
        if "/" not in days:
            raise ValueError(f"days: expected None, 'train'/'val'/'test', 'YYYY-MM-DD/YYYY-MM-DD', a slice or dates; "
                             f"got {days!r}")
        a, b = days.split("/")
        return world.sel(time=slice(a, b))
    if isinstance(days, slice):
        return world.sel(time=days)
    return world.sel(time=pd.DatetimeIndex(days))


def fill_gaps(field: np.ndarray, valid: np.ndarray, *, sigma: float = 1.5) -> np.ndarray:
    """Fill unobserved cells of one 2-D field by normalised Gaussian convolution.

    .. math:: \\hat f = \\frac{G_\\sigma * (m f)}{G_\\sigma * m}

    applied with ``sigma``, then 2x, 4x, ... larger kernels for the cells still empty; observed
    cells keep their value. Cells that no kernel reaches get the mean of the observed cells.

    Parameters
    ----------
    field : np.ndarray
        (lat, lon); values at unobserved cells are ignored.
    valid : np.ndarray of bool
        (lat, lon) observed cells.
    sigma : float
        First kernel width (cells).
    """
    m = valid & np.isfinite(field)
    num0 = np.where(m, field, 0.0).astype(float)
    out = num0.copy()
    if m.all():
        return out
    if not m.any():
        return np.full(field.shape, np.nan)
    filled = m.copy()
    s = sigma
    while not filled.all() and s < 4 * max(field.shape):
        num = gaussian_filter(num0, s, mode="nearest")
        den = gaussian_filter(m.astype(float), s, mode="nearest")
        new = (~filled) & (den > 1e-3)
        out[new] = num[new] / den[new]
        filled |= new
        s *= 2
    out[~filled] = field[m].mean()
    return out


def emission_array(values: np.ndarray, like: xr.DataArray, *, long_name: str, **attrs) -> xr.DataArray:
    """Wrap an emission estimate (time, lat, lon) with the coordinates of ``like`` and units."""
    return xr.DataArray(values.astype(np.float32), dims=("time", "lat", "lon"),
                        coords={k: like[k] for k in ("time", "lat", "lon")},
                        attrs={"units": "mol m-2 s-1", "long_name": long_name, **attrs})


def trailing_mean(da: xr.DataArray, valid: xr.DataArray, days, window: int):
    """Mean of ``da`` over the valid days among each day of ``days`` and the ``window - 1`` calendar days before
    it (days absent from ``da`` count as unobserved), and the fraction of those ``window`` days observed."""
    da, valid = da.transpose(TIME, ...), valid.transpose(TIME, ...)
    t = pd.DatetimeIndex(da[TIME].values)
    full = pd.date_range(t.min(), t.max(), freq="D")
    v = valid.reindex({TIME: full}, fill_value=False).values.astype(bool)
    x = np.where(v, np.nan_to_num(da.reindex({TIME: full}).values.astype(np.float64)), 0.0)
    days = pd.DatetimeIndex(days)
    k = full.get_indexer(days)   # trailing sums from cumulative sums: sum(t-window+1..t) = C[t+1] - C[t+1-window]
    cx = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    cv = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(v, axis=0, dtype=np.float64)])
    lo = np.maximum(k + 1 - window, 0)
    num, cnt = cx[k + 1] - cx[lo], cv[k + 1] - cv[lo]
    coords = {TIME: days, **{d: da[d] for d in da.dims[1:]}}
    mean = xr.DataArray(num / np.maximum(cnt, 1.0), dims=da.dims, coords=coords)
    frac = xr.DataArray(cnt / window, dims=da.dims, coords=coords)
    return mean, frac
