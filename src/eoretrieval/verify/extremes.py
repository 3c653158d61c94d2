"""The upper tail: quantiles and Q–Q, the share of the total from the largest values, GPD return levels.

Rain and emission fields are skewed: a retrieval can have a good RMSE and still miss the heavy tail
(regression towards the mean). These functions look at the tail of the distribution only; they
compare distributions, not pairs, so ``pred`` and ``truth`` need not be aligned. Quantiles are those
of the values (linear interpolation, numpy's default), without area weights.

Public names: :func:`upper_quantiles`, :func:`qq_upper_tail`, :func:`tail_share`, :func:`gpd_fit`,
:func:`gpd_return_level`, :func:`gpd_return_levels`.

References
----------
:cite:`coles2001` (peaks over threshold, the generalised Pareto distribution, return levels),
:cite:`efron1993` (bootstrap percentile intervals).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ._core import Dim, as_coord, resolve_dims, safe_ratio, with_units

__all__ = ["upper_quantiles", "qq_upper_tail", "tail_share", "gpd_fit", "gpd_return_level", "gpd_return_levels"]

Levels = float | Sequence[float]
_TAIL = (0.9, 0.99, 0.999)


def upper_quantiles(field: xr.DataArray, *, q: Levels = _TAIL, dim: Dim = None,
                    skipna: bool = False) -> xr.DataArray:
    """Quantiles of ``field`` over ``dim`` at the upper-tail levels ``q`` (units of ``field``).

    Returns
    -------
    xr.DataArray
        Quantiles on a ``quantile`` dim (when ``q`` is a sequence) and the dims not reduced.

    Examples
    --------
    >>> upper_quantiles(xr.DataArray(np.arange(1001.0), dims="x"), q=[0.9, 0.99]).values.tolist()
    [900.0, 990.0]
    """
    out = field.quantile(q, dim=resolve_dims(field, dim=dim), skipna=skipna)
    return with_units(out, f"{field.name or 'field'}_quantile", field.attrs.get("units", ""), "upper-tail quantiles")


def qq_upper_tail(pred: xr.DataArray, truth: xr.DataArray, *, q: Levels = _TAIL, dim: Dim = None,
                  skipna: bool = False) -> xr.Dataset:
    """Q–Q of the upper tail: quantiles of ``pred`` and ``truth`` at the levels ``q`` and their ratio.

    .. math:: \\rho(q) = Q_{pred}(q) / Q_{truth}(q)

    below 1 when the prediction is too light in the tail.

    Returns
    -------
    xr.Dataset
        ``pred`` and ``truth`` (units of ``truth``) and ``ratio`` (units ``"1"``) on a ``quantile`` dim.

    Examples
    --------
    >>> t = xr.DataArray(np.arange(1001.0), dims="x")
    >>> qq_upper_tail(0.5 * t, t, q=[0.9, 0.99])["ratio"].values.tolist()
    [0.5, 0.5]
    """
    qp = upper_quantiles(pred, q=q, dim=dim, skipna=skipna)
    qt = upper_quantiles(truth, q=q, dim=dim, skipna=skipna)
    units = truth.attrs.get("units", "")
    return xr.Dataset({"pred": qp.assign_attrs(units=units), "truth": qt.assign_attrs(units=units),
                       "ratio": with_units(safe_ratio(qp, qt), "ratio", "1", "quantile of pred over quantile of truth")})


def tail_share(field: xr.DataArray, *, q: Levels = 0.99, dim: Dim = None, skipna: bool = False) -> xr.DataArray:
    """Share of the total of ``field`` that comes from values above its ``q``-quantile.

    .. math:: S(q) = \\frac{\\sum_i x_i\\,\\mathbb 1\\{x_i > Q(q)\\}}{\\sum_i x_i}

    For rain, the share of the accumulation that falls in the heaviest :math:`1-q` of the cells.

    Returns
    -------
    xr.DataArray
        Share in [0, 1] for a non-negative field, units ``"1"``, on a ``quantile`` dim when ``q`` is a
        sequence.

    Examples
    --------
    >>> float(tail_share(xr.DataArray([1.0, 1.0, 1.0, 7.0], dims="x"), q=0.5))
    0.7
    """
    dims = resolve_dims(field, dim=dim)
    qv = field.quantile(q, dim=dims, skipna=skipna)
    above = field.where(field > qv, 0.0).where(field.notnull())
    share = safe_ratio(above.sum(dims, skipna=skipna), field.sum(dims, skipna=skipna))
    return with_units(share, "tail_share", "1", "share of the total above the quantile")


def _fit(x: np.ndarray, u: float, min_exc: int) -> tuple[float, float, int, float]:
    exc = x[x > u] - u
    if exc.size < min_exc:
        return np.nan, np.nan, int(exc.size), exc.size / max(x.size, 1)
    from scipy.stats import genpareto  # imported here: scipy.stats takes seconds to import

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # the optimiser probes invalid shapes on its way
        c, _, scale = genpareto.fit(exc, floc=0.0)
    return float(c), float(scale), int(exc.size), exc.size / x.size


def _levels(shape, scale, u, rate, periods) -> np.ndarray:
    periods = np.asarray(periods, dtype=float)
    m = periods * rate
    with np.errstate(all="ignore"):
        g = np.where(abs(shape) < 1e-9, np.log(m), (m ** shape - 1.0) / np.where(shape == 0, 1.0, shape))
    return np.where(m > 1.0, u + scale * g, np.nan)


def _clean(x: np.ndarray, skipna: bool) -> np.ndarray | None:
    x = np.asarray(x, dtype=float).ravel()
    nan = np.isnan(x)
    if nan.any():
        if not skipna:
            return None
        x = x[~nan]
    return x


def gpd_fit(sample: xr.DataArray, *, threshold: float, dim: Dim = None, min_exceedances: int = 20,
            skipna: bool = False) -> xr.Dataset:
    """Fit a generalised Pareto distribution to the excesses of ``sample`` over ``threshold`` (MLE).

    .. math:: P(X - u \\le y \\mid X > u) = 1 - \\left(1 + \\xi\\,\\frac{y}{\\sigma}\\right)^{-1/\\xi}

    fitted by maximum likelihood (``scipy.stats.genpareto.fit`` with location 0); :math:`\\xi` is
    scipy's ``c``.

    Parameters
    ----------
    sample : xr.DataArray
        Values, any units; the values along ``dim`` (all if None) are pooled into one sample.
    threshold : float
        Threshold :math:`u` in the units of ``sample`` (e.g. its 0.95 quantile on training data).
    dim : str or sequence of str or None
        Dims pooled; one fit per point of the others.
    min_exceedances : int
        Fewer excesses give NaN parameters.
    skipna : bool
        Drop NaN values (else a NaN gives NaN parameters).

    Returns
    -------
    xr.Dataset
        ``shape`` :math:`\\xi` ("1"), ``scale`` :math:`\\sigma` (units of ``sample``), ``n_exceed`` and
        ``rate`` :math:`\\zeta_u` (fraction of values above ``threshold``); attrs ``threshold``.

    References
    ----------
    :cite:`coles2001`

    Examples
    --------
    >>> from scipy.stats import genpareto
    >>> x = xr.DataArray(genpareto.rvs(0.2, scale=2.0, size=20000, random_state=0), dims="x")
    >>> fit = gpd_fit(x, threshold=0.0)
    >>> round(float(fit["shape"]), 1), round(float(fit["scale"]), 1), float(fit["rate"])
    (0.2, 2.0, 1.0)
    """
    def one(x):
        x = _clean(x, skipna)
        return (np.nan, np.nan, 0, np.nan) if x is None else _fit(x, threshold, min_exceedances)

    dims = resolve_dims(sample, dim=dim)
    shape, scale, n_exc, rate = xr.apply_ufunc(one, sample, input_core_dims=[dims], output_core_dims=[[]] * 4,
                                               vectorize=True)
    units = sample.attrs.get("units", "")
    return xr.Dataset({"shape": shape.assign_attrs(units="1", long_name="GPD shape xi"),
                       "scale": scale.assign_attrs(units=units, long_name="GPD scale sigma"),
                       "n_exceed": n_exc.assign_attrs(units="1", long_name="number of excesses"),
                       "rate": rate.assign_attrs(units="1", long_name="fraction of values above the threshold")},
                      attrs={"threshold": float(threshold), "threshold_units": units})


def gpd_return_level(fit: xr.Dataset, *, return_periods: float | Sequence[float]) -> xr.DataArray:
    """Return levels of a :func:`gpd_fit`: the values exceeded on average once every ``T`` values.

    .. math:: x_T = u + \\frac{\\sigma}{\\xi}\\left[(T\\zeta_u)^{\\xi} - 1\\right]
              \\quad (u + \\sigma\\log(T\\zeta_u) \\text{ for } \\xi = 0)

    ``T`` counts values of the sample (e.g. hours for hourly rain at one cell); NaN where
    :math:`T\\zeta_u \\le 1` (a level below the threshold, outside the model).

    Returns
    -------
    xr.DataArray
        Levels in the units of the sample on a ``return_period`` dim (when a sequence is given).

    Examples
    --------
    >>> fit = xr.Dataset({"shape": 0.0, "scale": 1.0, "rate": 0.1}, attrs={"threshold": 5.0})
    >>> round(float(gpd_return_level(fit, return_periods=100.0)), 6)  # 5 + log(10)
    7.302585
    """
    periods, scalar = as_coord(return_periods, "return_period", "1")
    u = float(fit.attrs["threshold"])
    shape = fit["shape"]
    m = (periods * fit["rate"]).where(lambda v: v > 1.0)
    g = xr.where(abs(shape) < 1e-9, np.log(m), (m ** shape - 1.0) / shape.where(abs(shape) >= 1e-9, 1.0))
    out = u + fit["scale"] * g
    if scalar:
        out = out.squeeze("return_period")
    return with_units(out, "return_level", fit.attrs.get("threshold_units", ""), "GPD return level")


def gpd_return_levels(sample: xr.DataArray, *, threshold: float, return_periods: float | Sequence[float],
                      dim: Dim = None, n_boot: int = 200, level: float = 0.9, seed: int = 0,
                      min_exceedances: int = 20, skipna: bool = False) -> xr.Dataset:
    """GPD return levels of ``sample`` above ``threshold`` with bootstrap confidence intervals.

    The fit is :func:`gpd_fit`, the levels :func:`gpd_return_level`. The interval is the bootstrap
    percentile interval: the whole sample is resampled with replacement ``n_boot`` times (so the rate
    :math:`\\zeta_u` varies too), refitted, and the :math:`(1 \\mp \\ell)/2` quantiles of the levels taken.

    Parameters
    ----------
    sample, threshold, dim, min_exceedances, skipna
        As in :func:`gpd_fit`.
    return_periods : float or sequence of float
        Return periods ``T`` in numbers of values of the sample.
    n_boot : int
        Bootstrap resamples.
    level : float
        Confidence level of the interval, in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    xr.Dataset
        ``return_level``, ``lower``, ``upper`` (units of ``sample``; ``return_period`` dim), and the
        fitted ``shape``, ``scale``, ``n_exceed``, ``rate``.

    Raises
    ------
    ValueError
        If ``level`` is outside (0, 1) or ``n_boot`` < 2.

    References
    ----------
    :cite:`coles2001`, :cite:`efron1993`

    Examples
    --------
    >>> from scipy.stats import genpareto
    >>> x = xr.DataArray(genpareto.rvs(0.1, scale=1.0, size=2000, random_state=1), dims="x")
    >>> out = gpd_return_levels(x, threshold=1.0, return_periods=[100.0, 1000.0], n_boot=50)
    >>> bool((out.lower < out.return_level).all() and (out.return_level < out.upper).all())
    True
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    fit = gpd_fit(sample, threshold=threshold, dim=dim, min_exceedances=min_exceedances, skipna=skipna)
    best = gpd_return_level(fit, return_periods=return_periods)
    periods = np.atleast_1d(np.asarray(return_periods, dtype=float))
    rng = np.random.default_rng(seed)
    probs = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]

    def boot(x):
        x = _clean(x, skipna)
        if x is None:
            return np.full((2, periods.size), np.nan)
        levels = np.array([_boot_levels(x[rng.integers(0, x.size, x.size)], threshold, min_exceedances, periods)
                           for _ in range(n_boot)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (level below the threshold)
            return np.nanquantile(levels, probs, axis=0)

    bounds = xr.apply_ufunc(boot, sample, input_core_dims=[resolve_dims(sample, dim=dim)],
                            output_core_dims=[["bound", "return_period"]], vectorize=True)
    bounds = bounds.assign_coords(return_period=periods)
    if np.ndim(return_periods) == 0:
        bounds = bounds.squeeze("return_period")
    units = sample.attrs.get("units", "")
    lower = bounds.isel(bound=0, drop=True).assign_attrs(units=units, long_name=f"lower {level:.0%} bound")
    upper = bounds.isel(bound=1, drop=True).assign_attrs(units=units, long_name=f"upper {level:.0%} bound")
    out = fit.assign(return_level=best, lower=lower, upper=upper)
    out.attrs.update({"n_boot": n_boot, "level": level, "seed": seed})
    return out


def _boot_levels(x: np.ndarray, u: float, min_exc: int, periods: np.ndarray) -> np.ndarray:
    shape, scale, _, rate = _fit(x, u, min_exc)
    return _levels(shape, scale, u, rate, periods)
