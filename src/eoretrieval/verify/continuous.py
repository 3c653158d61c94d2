"""Continuous scores over labelled data: MSE, RMSE, MAE, bias, Pearson correlation, R².

Every score has the signature ``score(pred, truth, *, dim=None, weights="area", skipna=False)``
(xskillscore's, with WeatherBench 2's ``(forecast, truth)`` order). ``dim=None`` reduces all
dimensions; the remaining dimensions broadcast. Means over ``lat`` are area-weighted by default
(``weights="area"``: cos latitude, WeatherBench 2); ``weights=None`` gives equal weights. Dims,
weights and NaN handling come from :mod:`eoretrieval.verify._core`.
Means are accumulated first and roots taken last.
Results carry ``units`` (the units of ``truth``, squared for MSE, none for correlation and R²).

Public names: :func:`mse`, :func:`rmse`, :func:`mae`, :func:`bias`, :func:`corr`, :func:`r2`,
:func:`relative_error`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._core import Dim, Weights, pair_weights, power_units, resolve_dims, weighted_mean, with_units

__all__ = ["mse", "rmse", "mae", "bias", "corr", "r2", "relative_error"]


def _prepare(pred, truth, dim, weights, skipna):
    pred, truth = xr.align(pred, truth, join="exact")
    return pred, truth, resolve_dims(pred, truth, dim=dim), pair_weights(pred, truth, weights, skipna=skipna)


def _wmean(field, w, dims, skipna):
    return weighted_mean(field, dim=dims, weights=w, skipna=skipna)


def _units(truth, power: int = 1) -> str:
    return power_units(truth.attrs.get("units", ""), power)


def _finish(result, name, units):
    return with_units(result, name, units)


def mse(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Mean squared error.

    .. math:: \\mathrm{MSE} = \\frac{\\sum_i w_i (p_i - t_i)^2}{\\sum_i w_i}

    Parameters
    ----------
    pred, truth : xr.DataArray
        Prediction and reference, same dims and coordinates (aligned exactly).
    dim : str or sequence of str, optional
        Dimensions to reduce; all if None.
    weights : xr.DataArray or "area" or None
        Non-negative weights broadcastable to ``truth``. ``"area"`` (default): cos(latitude)
        (:func:`~eoretrieval.verify.area_weights`) when the data have a ``lat`` dim, else equal
        weights; ``None``: equal weights.
    skipna : bool
        Ignore pairs where either value is NaN.

    Returns
    -------
    xr.DataArray
        MSE in units of ``truth`` squared.

    Examples
    --------
    >>> import xarray as xr
    >>> p = xr.DataArray([1.0, 2.0, 3.0], dims="x", attrs={"units": "K"})
    >>> t = xr.DataArray([1.0, 2.0, 5.0], dims="x", attrs={"units": "K"})
    >>> float(mse(p, t))
    1.3333333333333333
    """
    pred, truth, dims, w = _prepare(pred, truth, dim, weights, skipna)
    return _finish(_wmean((pred - truth) ** 2, w, dims, skipna), "mse", _units(truth, 2))


def rmse(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
         weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Root mean squared error, the square root of :func:`mse` (mean first, root last).

    Returns
    -------
    xr.DataArray
        RMSE in units of ``truth``.

    Examples
    --------
    >>> import xarray as xr
    >>> p = xr.DataArray([0.0, 0.0], dims="x"); t = xr.DataArray([3.0, 4.0], dims="x")
    >>> round(float(rmse(p, t)), 6)
    3.535534
    """
    out = np.sqrt(mse(pred, truth, dim=dim, weights=weights, skipna=skipna))
    return _finish(out, "rmse", _units(truth))


def mae(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Mean absolute error, in units of ``truth``."""
    pred, truth, dims, w = _prepare(pred, truth, dim, weights, skipna)
    return _finish(_wmean(abs(pred - truth), w, dims, skipna), "mae", _units(truth))


def bias(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
         weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Mean error (pred minus truth), in units of ``truth``; positive means overestimation.

    Examples
    --------
    >>> import xarray as xr
    >>> float(bias(xr.DataArray([2.0, 4.0], dims="x"), xr.DataArray([1.0, 1.0], dims="x")))
    2.0
    """
    pred, truth, dims, w = _prepare(pred, truth, dim, weights, skipna)
    return _finish(_wmean(pred - truth, w, dims, skipna), "bias", _units(truth))


def corr(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
         weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Weighted Pearson correlation coefficient (dimensionless, in [-1, 1]).

    .. math:: r = \\frac{\\overline{(p-\\bar p)(t-\\bar t)}}{\\sqrt{\\overline{(p-\\bar p)^2}\\,\\overline{(t-\\bar t)^2}}}

    Over ``("lat", "lon")`` this is the spatial (pattern) correlation.

    Examples
    --------
    >>> import xarray as xr
    >>> round(float(corr(xr.DataArray([1.0, 2.0, 3.0], dims="x"), xr.DataArray([2.0, 4.0, 7.0], dims="x"))), 4)
    0.9934
    """
    pred, truth, dims, w = _prepare(pred, truth, dim, weights, skipna)
    pm = _wmean(pred, w, dims, skipna)
    tm = _wmean(truth, w, dims, skipna)
    cov = _wmean((pred - pm) * (truth - tm), w, dims, skipna)
    vp = _wmean((pred - pm) ** 2, w, dims, skipna)
    vt = _wmean((truth - tm) ** 2, w, dims, skipna)
    return _finish(cov / np.sqrt(vp * vt), "corr", "1")


def r2(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
       weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Coefficient of determination (Nash–Sutcliffe efficiency), 1 - MSE / Var(truth).

    Can be negative: a prediction worse than the mean of ``truth``. This is the R² of
    scikit-learn's ``r2_score`` and FLUXCOM's cross-validation tables.

    Examples
    --------
    >>> import xarray as xr
    >>> float(r2(xr.DataArray([1.0, 2.0, 3.0], dims="x"), xr.DataArray([1.0, 2.0, 3.0], dims="x")))
    1.0
    """
    pred, truth, dims, w = _prepare(pred, truth, dim, weights, skipna)
    err = _wmean((pred - truth) ** 2, w, dims, skipna)
    tm = _wmean(truth, w, dims, skipna)
    var = _wmean((truth - tm) ** 2, w, dims, skipna)
    return _finish(1.0 - err / var, "r2", "1")


def relative_error(pred: xr.DataArray, truth: xr.DataArray, *, dim: Dim = None,
                   skipna: bool = False) -> xr.DataArray:
    """Relative error of the total, (sum pred - sum truth) / sum truth (dimensionless).

    Used for domain totals of emissions: ``relative_error(e_hat, e_true, dim=("lat", "lon"))``.

    Examples
    --------
    >>> import xarray as xr
    >>> float(relative_error(xr.DataArray([1.0, 2.0], dims="x"), xr.DataArray([1.0, 1.0], dims="x")))
    0.5
    """
    pred, truth = xr.align(pred, truth, join="exact")
    dims = resolve_dims(pred, truth, dim=dim)
    if skipna:
        valid = pred.notnull() & truth.notnull()
        pred, truth = pred.where(valid), truth.where(valid)
    sp = pred.sum(dims, skipna=skipna)
    st = truth.sum(dims, skipna=skipna)
    return _finish((sp - st) / st, "relative_error", "1")
