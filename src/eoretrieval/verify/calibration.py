"""Recalibration of ensembles by spread inflation: fit on calibration data, apply to independent data.

- :func:`inflate_spread`: members' deviations from the ensemble mean scaled by a factor ``k``.
- :func:`calibrate_spread`: the factor ``k`` that gives a nominal interval coverage on calibration data.

Both are also importable from :mod:`eoretrieval.verify.probabilistic`, where they lived first.

References
----------
:cite:`wilks2011` (ensemble variance inflation as a post-processing step), :cite:`gneiting2007` (calibration).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..conventions import MEMBER
from ._core import Dim, Weights, check_ensemble, resolve_dims, weighted_mean

__all__ = ["inflate_spread", "calibrate_spread"]


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
    check_ensemble(pred, member_dim)
    mean = pred.mean(member_dim)
    out = (mean + k * (pred - mean)).transpose(*pred.dims)
    out.attrs = {**pred.attrs, "spread_inflation": float(k)}
    return out.rename(pred.name)


def calibrate_spread(pred: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9, member_dim: str = MEMBER,
                     dim: Dim = None, weights: Weights = "area", bounds: tuple[float, float] = (0.05, 20.0),
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
    weights : xr.DataArray or "area" or None
        Weights of the average; ``"area"`` (default): cos latitude when ``truth`` has a ``lat`` dim.
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
    check_ensemble(pred, member_dim)
    mean = pred.mean(member_dim)
    q = (pred - mean).quantile([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dim=member_dim, skipna=False)
    qlo, qhi = q.isel(quantile=0, drop=True), q.isel(quantile=1, drop=True)
    resid = truth - mean
    dims = resolve_dims(truth, dim=dim)

    def coverage(k: float) -> float:
        inside = ((resid >= k * qlo) & (resid <= k * qhi)).astype(float)
        c = weighted_mean(inside, dim=dims, weights=weights)
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
