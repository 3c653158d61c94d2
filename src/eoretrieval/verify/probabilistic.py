"""Scores of ensembles (generative samples along a ``member`` dimension) against a single truth.

- :func:`interval_coverage`: fraction of truth values inside the ensemble's central interval.
- :func:`ensemble_spread`: root of the mean ensemble variance (with the finite-ensemble factor).
- :func:`spread_skill_ratio`: spread divided by the RMSE of the ensemble mean (1 for a calibrated ensemble).
- :func:`inflate_spread`: members' deviations from the ensemble mean scaled by a factor ``k``.
- :func:`calibrate_spread`: the factor ``k`` that gives a nominal interval coverage on calibration data.

Every score has the signature ``score(pred, truth, *, member_dim="member", dim=None, ...)`` with the
ensemble ``pred`` first; ``dim=None`` reduces all dimensions of ``truth``. Means are accumulated
first and roots and ratios taken last.

Public names: :func:`interval_coverage`, :func:`ensemble_spread`, :func:`spread_skill_ratio`,
:func:`inflate_spread`, :func:`calibrate_spread`.

References
----------
:cite:`fortin2014` (spread–skill ratio and the factor (M+1)/M), :cite:`gneiting2007` (calibration, central intervals),
:cite:`wilks2011` (ensemble variance inflation as a post-processing step).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr

from ..conventions import MEMBER

__all__ = ["interval_coverage", "ensemble_spread", "spread_skill_ratio", "binned_spread_skill", "inflate_spread", "calibrate_spread"]

Dim = Hashable | Sequence[Hashable] | None


def _dims(truth: xr.DataArray, dim: Dim) -> list[Hashable]:
    if dim is None:
        return list(truth.dims)
    if isinstance(dim, str) or not isinstance(dim, Sequence):
        return [dim]
    return list(dim)


def _check(pred: xr.DataArray, member_dim: str) -> int:
    if member_dim not in pred.dims:
        raise ValueError(f"ensemble 'pred' has dims {pred.dims}; expected a {member_dim!r} dimension")
    n = pred.sizes[member_dim]
    if n < 2:
        raise ValueError(f"ensemble 'pred' has {n} member(s) along {member_dim!r}; expected at least 2")
    return n


def _wmean(field: xr.DataArray, dims, weights) -> xr.DataArray:
    if weights is None:
        return field.mean(dims)
    w = weights.broadcast_like(field)
    return (field * w).sum(dims) / w.sum(dims)


def interval_coverage(pred: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9, member_dim: str = MEMBER,
                      dim: Dim = None, weights: xr.DataArray | None = None) -> xr.DataArray:
    """Fraction of ``truth`` inside the central ``level`` interval of the ensemble ``pred``.

    .. math:: C = \\overline{\\mathbb 1\\{q_{(1-\\ell)/2} \\le y \\le q_{(1+\\ell)/2}\\}}

    with :math:`q_p` the empirical quantiles of the members (linear interpolation). A calibrated ensemble
    has :math:`C \\approx \\ell`.

    Parameters
    ----------
    pred : xr.DataArray
        Ensemble, dims ``(member, ...)``; any units (those of ``truth``).
    truth : xr.DataArray
        Dims ``(...)`` broadcastable against ``pred`` without ``member``.
    level : float
        Nominal coverage in (0, 1).
    member_dim : str
        Name of the ensemble dimension.
    dim : str or sequence of str or None
        Dimensions to average over (None: all of ``truth``).
    weights : xr.DataArray or None
        Weights of the average (e.g. cos latitude).

    Returns
    -------
    xr.DataArray
        Coverage in [0, 1], units ``"1"``.

    Raises
    ------
    ValueError
        If ``pred`` has no ``member_dim`` or fewer than 2 members, or ``level`` is outside (0, 1).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ens = xr.DataArray(np.tile(np.arange(11.0), (4, 1)).T, dims=("member", "x"))
    >>> float(interval_coverage(ens, xr.DataArray([0.0, 5.0, 9.0, 12.0], dims="x"), level=0.8))
    0.5
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    _check(pred, member_dim)
    # skipna=False: numpy's quantile is far faster than nanquantile; NaN members give NaN bounds (not covered)
    bounds = pred.quantile([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dim=member_dim, skipna=False)
    lo, hi = bounds.isel(quantile=0, drop=True), bounds.isel(quantile=1, drop=True)
    inside = ((truth >= lo) & (truth <= hi)).astype(float)
    result = _wmean(inside, _dims(truth, dim), weights).rename("interval_coverage")
    result.attrs = {"units": "1", "long_name": f"coverage of the central {level:.0%} interval"}
    return result


def ensemble_spread(pred: xr.DataArray, *, member_dim: str = MEMBER, dim: Dim = None,
                    weights: xr.DataArray | None = None, finite_ensemble: bool = True) -> xr.DataArray:
    """Ensemble spread: root of the mean (unbiased) member variance, times :math:`\\sqrt{(M+1)/M}`.

    .. math:: s = \\sqrt{\\tfrac{M+1}{M}\\,\\overline{\\operatorname{var}_m(x)}}

    The factor (Fortin et al. 2014) makes :math:`s` comparable with the RMSE of the mean of
    :math:`M` members; ``finite_ensemble=False`` drops it. Units: those of ``pred``.

    Examples
    --------
    >>> import xarray as xr
    >>> ens = xr.DataArray([[1.0, 3.0]], dims=("x", "member"))
    >>> float(ensemble_spread(ens, finite_ensemble=False))  # var = 2 (ddof=1)
    1.4142135623730951
    """
    m = _check(pred, member_dim)
    var = pred.var(member_dim, ddof=1)
    dims = [d for d in (_dims(var, dim))]
    factor = (m + 1.0) / m if finite_ensemble else 1.0
    result = np.sqrt(factor * _wmean(var, dims, weights)).rename("ensemble_spread")
    result.attrs = {"units": pred.attrs.get("units", ""), "long_name": "ensemble spread"}
    return result


def spread_skill_ratio(pred: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER, dim: Dim = None,
                       weights: xr.DataArray | None = None) -> xr.DataArray:
    """Spread–skill ratio: :func:`ensemble_spread` divided by the RMSE of the ensemble mean.

    .. math:: \\mathrm{SSR} = \\frac{\\sqrt{\\tfrac{M+1}{M}\\overline{\\operatorname{var}_m(x)}}}
              {\\sqrt{\\overline{(\\bar x - y)^2}}}

    1 for a calibrated ensemble; below 1 the ensemble is over-confident (under-dispersive), above 1
    over-dispersive (Fortin et al. 2014).

    Returns
    -------
    xr.DataArray
        Dimensionless ratio, units ``"1"``.

    Examples
    --------
    >>> import xarray as xr
    >>> ens = xr.DataArray([[0.0, 2.0], [0.0, 2.0]], dims=("x", "member"))
    >>> truth = xr.DataArray([1.0, 3.0], dims="x")   # mean 1: errors 0 and 2, RMSE sqrt(2)
    >>> round(float(spread_skill_ratio(ens, truth)), 6)  # spread sqrt(1.5 * 2) = sqrt(3)
    1.224745
    """
    _check(pred, member_dim)
    dims = _dims(truth, dim)
    spread = ensemble_spread(pred, member_dim=member_dim, dim=dims, weights=weights)
    err = _wmean((pred.mean(member_dim) - truth) ** 2, dims, weights)
    result = (spread / np.sqrt(err)).rename("spread_skill_ratio")
    result.attrs = {"units": "1", "long_name": "spread-skill ratio"}
    return result


def inflate_spread(pred: xr.DataArray, k: float, *, member_dim: str = MEMBER) -> xr.DataArray:
    """Ensemble whose members' deviations from the ensemble mean are multiplied by ``k``.

    .. math:: x'_m = \\bar x + k\\,(x_m - \\bar x)

    The ensemble mean is unchanged, the spread is multiplied by ``k`` (``k > 1`` inflates, ``k < 1``
    deflates). Members may leave the physical range (e.g. become negative); no clipping is done.

    Parameters
    ----------
    pred : xr.DataArray
        Ensemble, dims ``(member, ...)``; any units (kept in ``attrs``).
    k : float
        Inflation factor, > 0 (dimensionless).
    member_dim : str
        Name of the ensemble dimension.

    Returns
    -------
    xr.DataArray
        Same dims, coords and attrs as ``pred``; ``attrs["spread_inflation"] = k``.

    Raises
    ------
    ValueError
        If ``k`` is not a positive finite number, or ``pred`` has no ``member_dim`` or fewer than 2 members.

    Examples
    --------
    >>> import xarray as xr
    >>> ens = xr.DataArray([0.0, 2.0], dims="member")
    >>> inflate_spread(ens, 2.0).values.tolist()
    [-1.0, 3.0]
    """
    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"inflation factor k must be a positive finite number, got {k}")
    _check(pred, member_dim)
    mean = pred.mean(member_dim)
    out = (mean + k * (pred - mean)).transpose(*pred.dims)
    out.attrs = {**pred.attrs, "spread_inflation": float(k)}
    return out.rename(pred.name)


def calibrate_spread(pred: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9, member_dim: str = MEMBER,
                     dim: Dim = None, weights: xr.DataArray | None = None, bounds: tuple[float, float] = (0.05, 20.0),
                     tol: float = 1e-6, max_iter: int = 200) -> float:
    """Spread inflation factor ``k`` that makes the central ``level`` interval cover ``level`` of ``truth``.

    ``k`` solves :math:`C(k) = \\ell`, with :math:`C(k)` the :func:`interval_coverage` of
    :func:`inflate_spread` ``(pred, k)``, by bisection on ``bounds``. Because linearly interpolated
    quantiles are affine-equivariant, the bounds of the inflated ensemble are
    :math:`\\bar x + k\\,q_p(x - \\bar x)`, so the member quantiles are computed once. :math:`C(k)` is a
    step function of ``k``: the returned ``k`` is (within ``tol``) the smallest factor whose coverage
    reaches ``level``. Fit it on calibration (validation) data only, and apply it with
    :func:`inflate_spread` to independent (test) data: this is a one-parameter variance inflation, a
    standard recalibration of an under- or over-dispersive ensemble (Wilks 2011; Gneiting et al. 2007).

    Parameters
    ----------
    pred : xr.DataArray
        Ensemble on the calibration data, dims ``(member, ...)``; units of ``truth``.
    truth : xr.DataArray
        Calibration truth, dims ``(...)``.
    level : float
        Nominal coverage in (0, 1).
    member_dim : str
        Name of the ensemble dimension.
    dim : str or sequence of str or None
        Dimensions of the coverage average (None: all of ``truth``); the result must be a scalar.
    weights : xr.DataArray or None
        Weights of the average (e.g. cos latitude).
    bounds : (float, float)
        Search interval of ``k`` (dimensionless), ``0 < lo < hi``.
    tol : float
        Width of the final bisection interval.
    max_iter : int
        Maximum number of bisection steps.

    Returns
    -------
    float
        Inflation factor ``k`` (dimensionless; > 1: the raw ensemble is under-dispersive for this level).

    Raises
    ------
    ValueError
        If ``level`` is outside (0, 1), the coverage average is not a scalar, ``pred`` is not an ensemble,
        or ``level`` is not reached within ``bounds`` (the message gives the coverages at the bounds).

    Notes
    -----
    With few members the empirical central interval is too narrow even for a perfectly reliable
    ensemble: the truth, exchangeable with the members, falls inside the linearly interpolated
    ``level`` interval of :math:`M` members with probability about :math:`\\ell\\,(M-1)/(M+1)` (0.845
    for :math:`M = 32`, :math:`\\ell = 0.9`; rank argument of the rank histogram). ``k`` then exceeds 1
    even when the spread–skill ratio is 1: it calibrates the intervals, not the variance.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> ens = xr.DataArray(0.5 * rng.standard_normal((400, 4000)), dims=("member", "x"))
    >>> truth = xr.DataArray(rng.standard_normal(4000), dims="x")
    >>> k = calibrate_spread(ens, truth, level=0.9)  # spread half the error std: k near 2
    >>> 1.9 < k < 2.2
    True
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if not 0.0 < lo < hi:
        raise ValueError(f"bounds must satisfy 0 < lo < hi, got {bounds}")
    _check(pred, member_dim)
    mean = pred.mean(member_dim)
    q = (pred - mean).quantile([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dim=member_dim, skipna=False)
    qlo, qhi = q.isel(quantile=0, drop=True), q.isel(quantile=1, drop=True)
    resid = truth - mean
    dims = _dims(truth, dim)

    def coverage(k: float) -> float:
        inside = ((resid >= k * qlo) & (resid <= k * qhi)).astype(float)
        c = _wmean(inside, dims, weights)
        if c.ndim:
            raise ValueError(f"coverage over dims {dims} has dims {c.dims}; expected a scalar (set 'dim')")
        return float(c)

    c_lo, c_hi = coverage(lo), coverage(hi)
    if not c_lo <= level <= c_hi:
        raise ValueError(f"coverage {level} not reached for k in {bounds}: coverage {c_lo:.4f} at k={lo}, "
                         f"{c_hi:.4f} at k={hi}")
    for _ in range(max_iter):
        if hi - lo <= tol:
            break
        mid = 0.5 * (lo + hi)
        if coverage(mid) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def binned_spread_skill(pred: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER,
                        n_bins: int = 10) -> xr.Dataset:
    """Spread–skill diagram data: RMS spread and RMSE of the ensemble mean in quantile bins of spread.

    Every point (all dims but ``member_dim``) is put in one of ``n_bins`` bins of equal population by its
    ensemble standard deviation; a reliable ensemble has ``rmse ≈ spread`` in every bin :cite:`fortin2014`.

    Returns
    -------
    xr.Dataset
        ``spread`` and ``rmse`` on dim ``bin`` (units of ``truth``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> sd = np.repeat([0.5, 2.0], 5000)
    >>> truth = xr.DataArray(rng.normal(0, sd), dims="x")
    >>> ens = xr.DataArray(rng.normal(0, sd, (400, 10000)), dims=("member", "x"))
    >>> out = binned_spread_skill(ens, truth, n_bins=2)
    >>> np.allclose(out["rmse"] / out["spread"], 1.0, atol=0.05)
    True
    """
    _check(pred, member_dim)
    spread = pred.std(member_dim).values.ravel()
    err = (pred.mean(member_dim) - truth).values.ravel()
    edges = np.quantile(spread, np.linspace(0, 1, n_bins + 1))
    idx = np.digitize(spread, edges[1:-1])
    s_bin = [float(np.sqrt(np.mean(spread[idx == k] ** 2))) for k in range(n_bins)]
    e_bin = [float(np.sqrt(np.mean(err[idx == k] ** 2))) for k in range(n_bins)]
    units = truth.attrs.get("units", "")
    return xr.Dataset({"spread": ("bin", s_bin, {"units": units, "long_name": "RMS ensemble spread"}),
                       "rmse": ("bin", e_bin, {"units": units, "long_name": "RMSE of the ensemble mean"})},
                      coords={"bin": np.arange(n_bins)})
