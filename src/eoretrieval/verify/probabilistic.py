"""Scores of ensembles (generative samples along a ``member`` dimension) against a single truth.

- :func:`crps_ensemble`: continuous ranked probability score of the ensemble (standard or fair estimator).
- :func:`rank_histogram`: relative frequency of the rank of the truth among the members.
- :func:`interval_coverage`: fraction of truth values inside the ensemble's central interval.
- :func:`ensemble_spread`: root of the mean ensemble variance (with the finite-ensemble factor).
- :func:`spread_skill_ratio`: spread divided by the RMSE of the ensemble mean (1 for a calibrated ensemble).
- :func:`binned_spread_skill`: spread and RMSE in bins of spread (the spread–skill diagram).
- :func:`inflate_spread`, :func:`calibrate_spread`: spread inflation (defined in
  :mod:`eoretrieval.verify.calibration`, importable from here).

Every score has the signature ``score(pred, truth, *, member_dim="member", dim=None, weights="area",
skipna=False, ...)`` with the ensemble ``pred`` first; ``dim=None`` reduces all dimensions of ``truth``
and ``weights="area"`` weights a mean over ``lat`` by cos(latitude) (:mod:`eoretrieval.verify._core`).
Means are accumulated first and roots and ratios taken last.

Public names: :func:`crps_ensemble`, :func:`rank_histogram`, :func:`interval_coverage`,
:func:`ensemble_spread`, :func:`spread_skill_ratio`, :func:`binned_spread_skill`, :func:`inflate_spread`,
:func:`calibrate_spread`.

References
----------
:cite:`fortin2014` (spread–skill ratio and the factor (M+1)/M), :cite:`gneiting2007` (calibration, central
intervals, CRPS), :cite:`hersbach2000` (CRPS), :cite:`ferro2014` (fair scores), :cite:`hamill2001` (rank
histograms), :cite:`wilks2011` (ensemble variance inflation as a post-processing step).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..conventions import MEMBER
from ._core import Dim, Weights, check_ensemble, pair_weights, resolve_dims, weighted_mean, with_units
from .calibration import calibrate_spread, inflate_spread

__all__ = ["crps_ensemble", "rank_histogram", "interval_coverage", "ensemble_spread", "spread_skill_ratio",
           "binned_spread_skill", "inflate_spread", "calibrate_spread"]


def _crps_np(x: np.ndarray, y: np.ndarray, fair: bool) -> np.ndarray:
    """CRPS of ensembles ``x`` (members on the last axis) at ``y``, from the sorted members."""
    m = x.shape[-1]
    xs = np.sort(x, axis=-1)
    skill = np.abs(xs - y[..., None]).mean(-1)
    # sum_ij |x_i - x_j| = 2 sum_i (2i - M - 1) x_(i), i = 1..M (sorted ascending)
    half_pairs = (xs * (2.0 * np.arange(1, m + 1) - m - 1)).sum(-1)
    return skill - half_pairs / (m * (m - 1) if fair else m * m)


def crps_ensemble(pred: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER, fair: bool = False,
                  dim: Dim = None, weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Continuous ranked probability score of the ensemble ``pred`` (lower is better, 0 is perfect).

    .. math:: \\mathrm{CRPS} = \\frac1M\\sum_{i=1}^M |x_i - y| - \\frac{1}{2M^2}\\sum_{i,j=1}^M |x_i - x_j|

    the CRPS of the empirical distribution of the :math:`M` members (energy form). The *fair* estimator
    divides the second sum by :math:`2M(M-1)` instead: it is the expected score of the ensemble's parent
    distribution, so ensembles of different sizes compare fairly (unbiased for exchangeable members).

    Parameters
    ----------
    pred : xr.DataArray
        Ensemble, dims ``(member, ...)``, units of ``truth``.
    truth : xr.DataArray
        Dims ``(...)``, broadcastable against ``pred`` without ``member``.
    member_dim : str
        Name of the ensemble dimension.
    fair : bool
        Use the fair estimator.
    dim : str or sequence of str or None
        Dimensions to average over (None: all of ``truth``; ``()``: none, the pointwise score).
    weights : xr.DataArray or "area" or None
        Weights of the average (default: cos latitude when there is a ``lat`` dim).
    skipna : bool
        Drop points where ``truth`` or any member is NaN (else they give NaN).

    Returns
    -------
    xr.DataArray
        Mean CRPS, units of ``truth``.

    Raises
    ------
    ValueError
        If ``pred`` has no ``member_dim`` or fewer than 2 members.

    References
    ----------
    :cite:`hersbach2000`, :cite:`gneiting2007`, :cite:`ferro2014`

    Examples
    --------
    >>> ens = xr.DataArray([0.0, 2.0], dims="member")
    >>> float(crps_ensemble(ens, xr.DataArray(1.0))), float(crps_ensemble(ens, xr.DataArray(1.0), fair=True))
    (0.5, 0.0)
    """
    check_ensemble(pred, member_dim)
    point = xr.apply_ufunc(_crps_np, pred, truth, input_core_dims=[[member_dim], []], kwargs={"fair": fair},
                           dask="parallelized", output_dtypes=[float])
    out = weighted_mean(point, dim=resolve_dims(truth, dim=dim), weights=weights, skipna=skipna)
    return with_units(out, "crps_ensemble", truth.attrs.get("units", ""),
                      "fair CRPS of the ensemble" if fair else "CRPS of the ensemble")


def rank_histogram(pred: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER, dim: Dim = None,
                   weights: Weights = "area", skipna: bool = False, seed: int = 0) -> xr.DataArray:
    """Rank histogram (Talagrand diagram): relative frequency of the rank of ``truth`` among the members.

    .. math:: r = \\#\\{i : x_i < y\\} \\in \\{0, \\dots, M\\}, \\qquad
              h_k = \\frac{\\sum w\\,\\mathbb 1\\{r = k\\}}{\\sum w}

    A calibrated ensemble gives a flat histogram, :math:`h_k = 1/(M+1)`; a U shape means
    under-dispersion, a dome over-dispersion, a slope a bias. When ``truth`` ties with members
    (e.g. zero rain), its rank is drawn uniformly among the tied positions with ``seed``.

    Parameters
    ----------
    pred : xr.DataArray
        Ensemble, dims ``(member, ...)``.
    truth : xr.DataArray
        Dims ``(...)``.
    member_dim : str
        Name of the ensemble dimension.
    dim : str or sequence of str or None
        Dimensions to pool (None: all of ``truth``).
    weights : xr.DataArray or "area" or None
        Weights of the points (default: cos latitude when there is a ``lat`` dim).
    skipna : bool
        Drop points where ``truth`` or any member is NaN (else they give NaN).
    seed : int
        Seed of the random ranks of ties.

    Returns
    -------
    xr.DataArray
        Frequencies on a new ``rank`` dim (0..M, summing to 1), units ``"1"``.

    References
    ----------
    :cite:`hamill2001`

    Examples
    --------
    >>> ens = xr.DataArray([[0.0, 1.0], [0.0, 1.0]], dims=("x", "member"))
    >>> rank_histogram(ens, xr.DataArray([0.5, 2.0], dims="x")).values.tolist()
    [0.0, 0.5, 0.5]
    """
    m = check_ensemble(pred, member_dim)
    n_less = (pred < truth).sum(member_dim)
    n_tied = (pred == truth).sum(member_dim)
    u = xr.DataArray(np.random.default_rng(seed).random(n_less.shape), dims=n_less.dims)
    rank = n_less + np.floor(u * (n_tied + 1))
    missing = truth.isnull() | pred.isnull().any(member_dim)
    dims = resolve_dims(truth, dim=dim)
    freq = [weighted_mean((rank == k).astype(float).where(~missing), dim=dims, weights=weights, skipna=skipna)
            for k in range(m + 1)]
    out = xr.concat(freq, dim="rank").assign_coords(rank=np.arange(m + 1))
    return with_units(out, "rank_histogram", "1", "relative frequency of the rank of the truth")


def interval_coverage(pred: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9, member_dim: str = MEMBER,
                      dim: Dim = None, weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
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
    weights : xr.DataArray or "area" or None
        Weights of the average (default: cos latitude when there is a ``lat`` dim).
    skipna : bool
        Drop points where ``truth`` or an interval bound is NaN (else they give NaN).

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
    check_ensemble(pred, member_dim)
    # skipna=False: numpy's quantile is far faster than nanquantile; NaN members give NaN bounds (missing)
    bounds = pred.quantile([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dim=member_dim, skipna=False)
    lo, hi = bounds.isel(quantile=0, drop=True), bounds.isel(quantile=1, drop=True)
    inside = ((truth >= lo) & (truth <= hi)).astype(float).where(truth.notnull() & lo.notnull() & hi.notnull())
    result = weighted_mean(inside, dim=resolve_dims(truth, dim=dim), weights=weights, skipna=skipna)
    return with_units(result, "interval_coverage", "1", f"coverage of the central {level:.0%} interval")


def ensemble_spread(pred: xr.DataArray, *, member_dim: str = MEMBER, dim: Dim = None, weights: Weights = "area",
                    finite_ensemble: bool = True, skipna: bool = False) -> xr.DataArray:
    """Ensemble spread: root of the mean (unbiased) member variance, times :math:`\\sqrt{(M+1)/M}`.

    .. math:: s = \\sqrt{\\tfrac{M+1}{M}\\,\\overline{\\operatorname{var}_m(x)}}

    The factor (Fortin et al. 2014) makes :math:`s` comparable with the RMSE of the mean of
    :math:`M` members; ``finite_ensemble=False`` drops it. Units: those of ``pred``. ``dim`` and
    ``weights`` (default cos latitude over ``lat``) as in :func:`crps_ensemble`; ``skipna`` drops points
    with a NaN member.

    Examples
    --------
    >>> import xarray as xr
    >>> ens = xr.DataArray([[1.0, 3.0]], dims=("x", "member"))
    >>> float(ensemble_spread(ens, finite_ensemble=False))  # var = 2 (ddof=1)
    1.4142135623730951
    """
    m = check_ensemble(pred, member_dim)
    var = pred.var(member_dim, ddof=1, skipna=False)
    factor = (m + 1.0) / m if finite_ensemble else 1.0
    mean_var = weighted_mean(var, dim=resolve_dims(var, dim=dim), weights=weights, skipna=skipna)
    return with_units(np.sqrt(factor * mean_var), "ensemble_spread", pred.attrs.get("units", ""), "ensemble spread")


def spread_skill_ratio(pred: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER, dim: Dim = None,
                       weights: Weights = "area", skipna: bool = False) -> xr.DataArray:
    """Spread–skill ratio: :func:`ensemble_spread` divided by the RMSE of the ensemble mean.

    .. math:: \\mathrm{SSR} = \\frac{\\sqrt{\\tfrac{M+1}{M}\\overline{\\operatorname{var}_m(x)}}}
              {\\sqrt{\\overline{(\\bar x - y)^2}}}

    1 for a calibrated ensemble; below 1 the ensemble is over-confident (under-dispersive), above 1
    over-dispersive (Fortin et al. 2014). With ``skipna`` both means use the same points (those where
    ``truth`` and every member are valid).

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
    m = check_ensemble(pred, member_dim)
    dims = resolve_dims(truth, dim=dim)
    var = pred.var(member_dim, ddof=1, skipna=False)
    err2 = (pred.mean(member_dim, skipna=False) - truth) ** 2
    w = pair_weights(var, err2, weights, skipna=skipna)
    spread2 = (m + 1.0) / m * weighted_mean(var, dim=dims, weights=w, skipna=skipna)
    err = weighted_mean(err2, dim=dims, weights=w, skipna=skipna)
    return with_units(np.sqrt(spread2) / np.sqrt(err), "spread_skill_ratio", "1", "spread-skill ratio")


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
    check_ensemble(pred, member_dim)
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
