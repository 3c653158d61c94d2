"""The climatological evaluation protocol of the GMI study, reusable for any rain retrieval.

For each climate regime, a retrieval ``pred`` is compared with the truth on all pixels:

- **instantaneous**: MAE, bias (%), correlation, POD/FAR/HSS at 0.1 and 10 mm h-1
  (:mod:`eoretrieval.verify.continuous`, :mod:`eoretrieval.verify.categorical`), CRPS of ensembles or of
  quantile heads (:func:`eoretrieval.verify.probabilistic.crps_ensemble`);
- **distribution**: PDFs on logarithmic bins (:func:`log_pdf`), 99th and 99.9th percentiles of all pixels
  and their ratio to the truth's, the share of rain volume from pixels above the 99th percentile;
- **extremes**: GPD return levels with bootstrap confidence intervals (:func:`gpd_return_levels`);
- **climate signal**: the scaling of the 99.9th percentile with warming, % K-1, by a log-linear fit
  across regimes (:func:`scaling_across_regimes`), against the truth's.

:func:`evaluate_method` returns the per-regime dictionary that ``metrics.json`` stores;
:func:`comparison_table` puts methods side by side, in distribution (present) and out (+2 K, +4 K).

Public names: :func:`regime_scores`, :func:`evaluate_method`, :func:`log_pdf`, :func:`gpd_return_levels`,
:func:`scaling_across_regimes`, :func:`quantiles_as_members`, :func:`extreme_share`, :func:`comparison_table`.

References
----------
:cite:`coles2001` (peaks over threshold, GPD return levels), :cite:`pfreundschuh2022` (evaluation of
GPROF-NN), :cite:`westra2014` (scaling of extremes with temperature).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..io.checks import require_units
from ..verify.categorical import categorical_scores
from ..verify.continuous import corr, mae
from ..verify.probabilistic import crps_ensemble
from .climate import get_regime

__all__ = ["regime_scores", "evaluate_method", "log_pdf", "gpd_return_levels", "scaling_across_regimes",
           "quantiles_as_members", "extreme_share", "comparison_table", "truth_entry", "satrain_entry", "build_metrics",
           "warming_law_control", "LOG_BINS", "HEAVY"]

#: Logarithmic rain-rate bins (mm h-1) for PDFs.
LOG_BINS = np.logspace(-1, 2.5, 36)
#: Heavy-rain threshold (mm h-1).
HEAVY = 10.0


def _check(da: xr.DataArray, what: str) -> None:
    require_units(da, "mm h-1", source=what)


def quantiles_as_members(q: xr.DataArray, *, n: int = 20, quantile_dim: str = "quantile") -> xr.DataArray:
    """Turn quantile heads into ``n`` equally likely members at levels :math:`(i + 1/2)/n`.

    The quantile function is interpolated linearly between the heads and held flat outside them.
    """
    taus = q[quantile_dim].values.astype(float)
    levels = (np.arange(n) + 0.5) / n
    vals = np.moveaxis(q.transpose(quantile_dim, ...).values, 0, -1)
    idx = np.clip(np.searchsorted(taus, levels) , 1, len(taus) - 1)
    lo, hi = taus[idx - 1], taus[idx]
    frac = np.clip((levels - lo) / (hi - lo), 0.0, 1.0)
    members = vals[..., idx - 1] * (1 - frac) + vals[..., idx] * frac
    dims = [d for d in q.dims if d != quantile_dim]
    out = xr.DataArray(np.moveaxis(members, -1, 0), dims=["member", *dims], attrs=dict(q.attrs))
    return out


def extreme_share(values: np.ndarray, *, q: float = 0.99) -> float:
    """Fraction of the total rain volume contributed by pixels above the ``q`` quantile of all pixels."""
    v = np.asarray(values, dtype=float).ravel()
    thr = np.quantile(v, q)
    total = v.sum()
    return float(v[v > thr].sum() / total) if total > 0 else float("nan")


def log_pdf(values: np.ndarray, *, bins: np.ndarray = LOG_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Probability density (per mm h-1, over all pixels) on logarithmic bins; returns (centres, density)."""
    v = np.asarray(values, dtype=float).ravel()
    counts, edges = np.histogram(v, bins=bins)
    density = counts / (len(v) * np.diff(edges))
    return np.sqrt(edges[1:] * edges[:-1]), density


def gpd_return_levels(values: np.ndarray, *, threshold_q: float = 0.98, return_periods: Sequence[float] = (1e4, 1e5),
                      n_boot: int = 200, level: float = 0.9, seed: int = 0, wet: float = 0.1) -> dict:
    """Peaks-over-threshold GPD fit of wet-pixel rain rates and return levels with bootstrap intervals.

    The threshold :math:`u` is the ``threshold_q`` quantile of wet pixels (> ``wet`` mm h-1). With the
    exceedance rate :math:`\\zeta_u` per pixel and GPD shape :math:`\\xi`, scale :math:`\\sigma`, the level
    exceeded once in :math:`m` pixels is (Coles 2001, eq. 4.13)

    .. math:: x_m = u + \\frac{\\sigma}{\\xi}\\left[(m \\zeta_u)^{\\xi} - 1\\right].

    Returns
    -------
    dict
        ``threshold``, ``shape``, ``scale``, ``return_periods`` (pixels), ``levels``, ``lower``, ``upper``.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[v > wet]
    if len(v) < 200:
        raise ValueError(f"gpd_return_levels: {len(v)} wet pixels; need at least 200")
    u = float(np.quantile(v, threshold_q))

    def fit(sample):
        exc = sample[sample > u] - u
        xi, _, sigma = stats.genpareto.fit(exc, floc=0.0)
        zeta = len(exc) / len(sample)
        m = np.asarray(return_periods, dtype=float)
        lv = u + sigma * np.log(m * zeta) if abs(xi) < 1e-6 else u + sigma / xi * ((m * zeta) ** xi - 1.0)
        return xi, sigma, lv

    xi, sigma, levels = fit(v)
    rng = np.random.default_rng(seed)
    boot = np.array([fit(rng.choice(v, len(v)))[2] for _ in range(n_boot)])
    alpha = (1 - level) / 2
    return {"threshold": u, "shape": float(xi), "scale": float(sigma),
            "return_periods": [float(m) for m in return_periods], "levels": [float(x) for x in levels],
            "lower": [float(x) for x in np.quantile(boot, alpha, axis=0)],
            "upper": [float(x) for x in np.quantile(boot, 1 - alpha, axis=0)], "units": "mm h-1"}


def regime_scores(pred: xr.Dataset | xr.DataArray, truth: xr.DataArray, *, heavy: float = HEAVY) -> dict:
    """All per-regime scores of one retrieval.

    Parameters
    ----------
    pred : xr.Dataset or xr.DataArray
        ``surface_precip`` (point estimate, mm h-1) and optionally ``quantiles`` (quantile, ...) or
        ``members`` (member, ...) for the CRPS.
    truth : xr.DataArray
        Same dims as the point estimate, mm h-1.

    Returns
    -------
    dict
        ``mae``, ``bias_pct``, ``corr``, ``pod``/``far``/``hss`` (> 0.1 mm h-1), ``pod_10``/``far_10``/``hss_10``,
        ``q99``, ``q999``, ``q99_ratio``, ``q999_ratio``, ``extreme_share``, ``extreme_share_truth``,
        ``crps`` (None for deterministic retrievals).
    """
    ds = pred if isinstance(pred, xr.Dataset) else xr.Dataset({"surface_precip": pred})
    p = ds["surface_precip"]
    _check(p, "pred")
    _check(truth, "truth")
    p = p.assign_coords({d: truth[d] for d in p.dims if d in truth.coords})
    out = {"mae": float(mae(p, truth, weights=None)),
           "bias_pct": float(100.0 * (p.sum() / truth.sum() - 1.0)),
           "corr": float(corr(p, truth, weights=None))}
    for thr, suffix in ((0.1, ""), (heavy, "_10")):
        cat = categorical_scores(p, truth, threshold=thr, weights=None)
        out.update({f"pod{suffix}": float(cat["pod"]), f"far{suffix}": float(cat["far"]),
                    f"hss{suffix}": float(cat["hss"])})
    pv, tv = p.values.ravel(), truth.values.ravel()
    for q, name in ((0.99, "q99"), (0.999, "q999")):
        qp, qt = float(np.quantile(pv, q)), float(np.quantile(tv, q))
        out[name], out[f"{name}_truth"], out[f"{name}_ratio"] = qp, qt, qp / qt if qt > 0 else float("nan")
    out["extreme_share"] = extreme_share(pv)
    out["extreme_share_truth"] = extreme_share(tv)
    members = None
    if "members" in ds:
        members = ds["members"]
    elif "quantiles" in ds:
        members = quantiles_as_members(ds["quantiles"])
    if members is not None:
        members = members.assign_coords({d: truth[d] for d in members.dims if d in truth.coords})
        out["crps"] = float(crps_ensemble(members, truth, weights=None))
    else:
        out["crps"] = None
    return out


def scaling_across_regimes(values: Mapping[str, np.ndarray], *, q: float = 0.999) -> float:
    """Scaling (% K-1) of the ``q`` quantile of all pixels with warming: log-linear least squares over regimes.

    :math:`\\ln x_q(\\Delta T) = a + b\\,\\Delta T` and the scaling is :math:`100 (e^b - 1)`.

    Examples
    --------
    >>> v = {"present": np.array([1.0]), "plus2K": np.array([1.07 ** 2]), "plus4K": np.array([1.07 ** 4])}
    >>> round(scaling_across_regimes(v, q=0.5), 6)
    7.0
    """
    dt, lq = [], []
    for name, v in values.items():
        x = float(np.quantile(np.asarray(v, dtype=float).ravel(), q))
        if x <= 0:
            return float("nan")
        dt.append(get_regime(name).delta_t)
        lq.append(np.log(x))
    if len(set(dt)) < 2:
        raise ValueError("scaling_across_regimes: need at least two regimes with different warming")
    slope = np.polyfit(dt, lq, 1)[0]
    return float(100.0 * (np.exp(slope) - 1.0))


def evaluate_method(preds: Mapping[str, xr.Dataset], truths: Mapping[str, xr.DataArray]) -> dict:
    """Evaluate one method in every regime; add ``scaling_pct_per_K`` of the 99.9th percentile.

    Returns
    -------
    dict
        ``{regime: regime_scores(...), "scaling_pct_per_K": float, "scaling_q99_pct_per_K": float}``.
    """
    out: dict = {reg: regime_scores(preds[reg], truths[reg]) for reg in preds}
    vals = {reg: preds[reg]["surface_precip"].values for reg in preds}
    out["scaling_pct_per_K"] = scaling_across_regimes(vals, q=0.999)
    out["scaling_q99_pct_per_K"] = scaling_across_regimes(vals, q=0.99)
    return out


def truth_entry(truths: Mapping[str, xr.DataArray]) -> dict:
    """The ``truth`` entry of ``metrics.json``: its percentiles per regime and its scaling."""
    out: dict = {}
    for reg, t in truths.items():
        v = t.values.ravel()
        out[reg] = {"q99": float(np.quantile(v, 0.99)), "q999": float(np.quantile(v, 0.999)),
                    "extreme_share": extreme_share(v), "mean": float(v.mean())}
    vals = {reg: t.values for reg, t in truths.items()}
    out["scaling_pct_per_K"] = scaling_across_regimes(vals, q=0.999)
    out["scaling_q99_pct_per_K"] = scaling_across_regimes(vals, q=0.99)
    return out


def comparison_table(methods: Mapping[str, Mapping], *, scores: Sequence[str] = ("mae", "bias_pct", "corr", "hss_10",
                                                                                 "q999_ratio", "crps"),
                     regimes: Sequence[str] = ("present", "plus2K", "plus4K")) -> pd.DataFrame:
    """Methods (rows) × (regime, score) columns, from :func:`evaluate_method` results, plus the scaling."""
    rows = {}
    for name, res in methods.items():
        row = {}
        for reg in regimes:
            if reg in res and isinstance(res[reg], Mapping):
                for s in scores:
                    row[(reg, s)] = res[reg].get(s)
        row[("all", "scaling_pct_per_K")] = res.get("scaling_pct_per_K")
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    return df.astype(float)


def satrain_entry(table: pd.DataFrame) -> dict:
    """``metrics.json``'s ``satrain_baselines``: ``{product: {domain: {score: value}}}`` from
    :func:`eoretrieval.io.satrain.satrain_baseline_table` (NaN scores become None)."""
    out: dict = {}
    for (product, domain), row in table.iterrows():
        out.setdefault(product, {})[domain] = {k: (None if pd.isna(v) else float(v))
                                               for k, v in row.items() if k != "name"}
    return out


def warming_law_control(present: Mapping[str, np.ndarray], control: Mapping[str, Mapping[str, np.ndarray]],
                        *, tolerance: float, best: str | None = None, q: float = 0.999) -> dict:
    """Scaling of the ``q`` quantile between the present and each control regime, per method, against the truth.

    Parameters
    ----------
    present : mapping
        method -> present-climate rain (any shape), with ``"truth"`` among the methods.
    control : mapping
        control regime name (:data:`~eoretrieval.rain.climate.CONTROL_REGIMES`) -> method -> rain in that regime.
    tolerance : float
        % K-1; ``best`` (a method) passes a regime when its scaling is within it of the truth's.

    Returns
    -------
    dict
        ``{regime: {"rain_alpha_pct_per_K": ..., "<method>": scaling, ..., "truth": scaling, "best_passes": bool}}``
        (``best_passes`` only with ``best``); ``scaling`` by :func:`scaling_across_regimes` over the two regimes.

    Examples
    --------
    >>> pres = {"truth": np.array([10.0]), "m": np.array([10.0])}
    >>> ctrl = {"plus4K_rain0": {"truth": np.array([10.0]), "m": np.array([10.0 * 1.07 ** 4])}}
    >>> r = warming_law_control(pres, ctrl, tolerance=1.0, best="m", q=0.5)["plus4K_rain0"]
    >>> round(r["truth"], 6), round(r["m"], 6), r["best_passes"]
    (0.0, 7.0, False)
    """
    if "truth" not in present:
        raise ValueError(f"warming_law_control: no 'truth' among the present-climate methods {sorted(present)}")
    out: dict = {}
    for reg, by_method in control.items():
        missing = sorted(set(by_method) ^ set(present))
        if missing:
            raise ValueError(f"warming_law_control: {reg}: methods {missing} are not in both the present and the "
                             "control regime")
        row = {"rain_alpha_pct_per_K": 100.0 * get_regime(reg).rain_rate}
        for m, v in by_method.items():
            row[m] = scaling_across_regimes({"present": present[m], reg: v}, q=q)
        if best is not None:
            row["best_passes"] = bool(abs(row[best] - row["truth"]) <= tolerance)
        out[reg] = row
    return out


def build_metrics(methods: Mapping[str, Mapping], truths: Mapping[str, xr.DataArray], *, ood: Mapping[str, float],
                  satrain: Mapping, transfer: Mapping | None, extra: Mapping | None = None) -> dict:
    """Assemble ``metrics.json``: ``methods`` (with ``truth``), ``ood_auroc``, ``satrain_baselines``, ``transfer``."""
    out = {"methods": {**{k: dict(v) for k, v in methods.items()}, "truth": truth_entry(truths)},
           "ood_auroc": dict(ood), "satrain_baselines": dict(satrain),
           "transfer": dict(transfer) if transfer else None}
    out.update(extra or {})
    return out
