"""Flux-divergence emission estimate (Beirle et al. 2019).

The steady-state NOx column budget gives the emission as the divergence of the horizontal NOx
flux plus the chemical sink :cite:`beirle2019`,

.. math::

    E = \\nabla\\cdot(\\mathbf V L) + \\frac{L}{\\tau},\\qquad L = \\frac{\\mathrm{NO_2} - b}{r},

with :math:`L` the NOx column (mol m-2) obtained from the tropospheric NO2 column with the NO2/NOx
ratio :math:`r` (:cite:`beirle2019` use :math:`1/r = 1.32`) after removing the free-tropospheric
background :math:`b`, :math:`\\mathbf V` the boundary-layer wind and :math:`\\tau` the lifetime.
On the sphere :math:`\\nabla\\cdot\\mathbf F = \\frac{1}{R\\cos\\varphi}\\big(\\partial_\\lambda F_x +
\\partial_\\varphi(F_y\\cos\\varphi)\\big)`, evaluated with centred differences (one-sided at the
domain edge).

Gaps (clouds) are filled per day by normalised Gaussian convolution of the observed columns before
the derivatives are taken (:func:`eoretrieval.nox._common.fill_gaps`); the estimate can then
be smoothed (``smooth_sigma``) and optionally masked to the observed cells (``mask=True``).
Single-day estimates are noisy: :cite:`beirle2019` average over many days; here each day is a
separate estimate so that all methods are compared on the same daily maps.

Public names: :func:`flux_divergence`, :func:`flux_divergence_world`, :func:`flux_divergence_trailing`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

from eoretrieval.nox._common import check_dims, check_units, emission_array, fill_gaps, select_days, \
    trailing_mean
from eoretrieval.errors import DataError

__all__ = ["flux_divergence", "flux_divergence_world", "flux_divergence_trailing"]

_R = 6.371e6


def _divergence(fx: np.ndarray, fy: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Spherical divergence (s-1 x units of F / m) of a flux on a regular lat/lon grid, (..., lat, lon)."""
    phi = np.radians(lat)[:, None]
    dlam = np.radians(lon[1] - lon[0])
    dphi = np.radians(lat[1] - lat[0])
    dfx = np.gradient(fx, dlam, axis=-1)
    dfy = np.gradient(fy * np.cos(phi), dphi, axis=-2)
    return (dfx + dfy) / (_R * np.cos(phi))


def flux_divergence(no2_column: xr.DataArray, u: xr.DataArray, v: xr.DataArray, lifetime: xr.DataArray, *,
                    no2_nox_ratio: float | xr.DataArray = 0.75, background: float | None = None,
                    fill_sigma: float = 1.5, smooth_sigma: float = 1.0, mask: bool = False,
                    on_empty: str = "raise") -> xr.DataArray:
    """Estimate daily NOx emissions from NO2 columns with the flux-divergence method.

    Parameters
    ----------
    no2_column : xr.DataArray
        Tropospheric NO2 column (mol m-2), dims (time, lat, lon), NaN where not observed.
    u, v : xr.DataArray
        Boundary-layer wind (m s-1), same dims.
    lifetime : xr.DataArray
        NOx lifetime (h), same dims (or broadcastable).
    no2_nox_ratio : float or xr.DataArray
        NO2/NOx column ratio (1); default 0.75 (NOx/NO2 = 1.32 of :cite:`beirle2019`).
    background : float, optional
        Free-tropospheric NO2 background (mol m-2) removed before the conversion; None estimates it
        per day as the 5th percentile of the observed columns.
    fill_sigma : float
        Width (cells) of the first gap-filling kernel.
    smooth_sigma : float
        Gaussian smoothing (cells) of the resulting emission map; 0 = none.
    mask : bool
        Set unobserved cells to NaN in the output.
    on_empty : {"raise", "nan"}
        What to do with a day without any observed cell.

    Returns
    -------
    xr.DataArray
        ``emission`` (mol m-2 s-1), dims (time, lat, lon).

    Raises
    ------
    DataError
        Wrong units or dims of an input; a day without observation (``on_empty="raise"``).

    References
    ----------
    :cite:`beirle2019`
    """
    check_units(no2_column, "no2_column", "mol m-2")
    check_units(u, "u", "m s-1")
    check_units(v, "v", "m s-1")
    check_units(lifetime, "lifetime", "h")
    check_dims(no2_column, "no2_column")
    if on_empty not in ("raise", "nan"):
        raise ValueError(f"on_empty must be 'raise' or 'nan', got {on_empty!r}")
    lat = no2_column["lat"].values
    lon = no2_column["lon"].values
    y = no2_column.values.astype(float)
    ok = np.isfinite(y)
    ratio = no2_nox_ratio.broadcast_like(no2_column).values if isinstance(no2_nox_ratio, xr.DataArray) else (
        np.full(y.shape, float(no2_nox_ratio)))
    uu = u.broadcast_like(no2_column).values.astype(float)
    vv = v.broadcast_like(no2_column).values.astype(float)
    tau_s = lifetime.broadcast_like(no2_column).values.astype(float) * 3600.0
    out = np.full(y.shape, np.nan)
    for i in range(y.shape[0]):
        if not ok[i].any():
            if on_empty == "raise":
                day = str(no2_column["time"].values[i])[:10]
                raise DataError(f"no2_column: no observed cell on {day}; expected at least one finite value")
            continue
        b = float(np.percentile(y[i][ok[i]], 5)) if background is None else float(background)
        col = fill_gaps((y[i] - b) / ratio[i], ok[i], sigma=fill_sigma)
        e = _divergence(uu[i] * col, vv[i] * col, lat, lon) + col / tau_s[i]
        if smooth_sigma > 0:
            e = gaussian_filter(e, smooth_sigma, mode="nearest")
        if mask:
            e = np.where(ok[i], e, np.nan)
        out[i] = e
    return emission_array(out, no2_column, long_name="NOx emission, flux-divergence estimate",
                          method="flux_divergence (Beirle et al. 2019)",
                          no2_nox_ratio=float(np.nanmean(ratio)), smooth_sigma_cells=float(smooth_sigma))


def flux_divergence_world(world: xr.Dataset, days=None, *, no2_nox_ratio: float = 0.75,
                          background: float | None = "world", **kwargs) -> xr.DataArray:
    """Flux divergence on the days of a NOx world (its observations, winds and lifetimes).

    Parameters
    ----------
    world : xr.Dataset
        Output of :func:`eoretrieval.nox.make_nox_world`.
    days
        See :func:`eoretrieval.nox._common.select_days`.
    no2_nox_ratio : float
        Assumed NO2/NOx ratio (the true one varies; this is the method's assumption).
    background : float, "world" or None
        "world" uses the world's known free-tropospheric background; None estimates it per day.
    **kwargs
        Passed to :func:`flux_divergence` (``smooth_sigma``, ``mask``, ``fill_sigma``, ``on_empty``).
    """
    w = select_days(world, days)
    if isinstance(background, str):
        if background != "world":
            raise ValueError(f"background must be a number, 'world' or None, got {background!r}")
        background = float(world.attrs["no2_background_mol_m2"])
    kwargs.setdefault("on_empty", "nan")
    return flux_divergence(w["no2_column"], w["u"], w["v"], w["lifetime"], no2_nox_ratio=no2_nox_ratio,
                           background=background, **kwargs)


def flux_divergence_trailing(world: xr.Dataset, days=None, *, window: int = 7, return_daily: bool = False, **kwargs):
    """Trailing ``window``-day mean of the flux divergence: for each of ``days``, the mean of
    :func:`flux_divergence_world` over that day and the ``window - 1`` days before it where it is defined.

    The temporal averaging Beirle et al. apply, made causal (only past days) so that it uses the same observations
    as the networks' ``*_7d`` inputs: the equal-information flux-divergence baseline of a daily estimate.

    Returns the mean (``(time, lat, lon)`` on ``days``), and with ``return_daily`` also the day's own flux
    divergence (one computation serves both).
    """
    import pandas as pd

    have = pd.DatetimeIndex(world["time"].values)
    days = pd.DatetimeIndex(select_days(world, days)["time"].values)
    need = days
    for k in range(1, int(window)):
        need = need.union(days - pd.Timedelta(days=k))
    fd = flux_divergence_world(world, need[need.isin(have)], **kwargs)
    mean, _ = trailing_mean(fd, fd.notnull(), days, window)
    mean = mean.transpose(*fd.dims).rename(fd.name).assign_attrs(
        fd.attrs, long_name=f"{window}-day trailing mean of the flux divergence", window_days=int(window))
    return (mean, fd.sel(time=days)) if return_daily else mean
