"""Registry of metrics: names (papermill parameters are strings) to functions.

Public names: :func:`get_metric`, :func:`list_metrics`, :data:`METRICS`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Registry
from . import categorical, continuous, extremes, probabilistic, spatial, spectral

__all__ = ["METRICS", "get_metric", "list_metrics"]

METRICS: Registry[Callable] = Registry("metric", {
    "mse": continuous.mse,
    "rmse": continuous.rmse,
    "mae": continuous.mae,
    "bias": continuous.bias,
    "corr": continuous.corr,
    "r2": continuous.r2,
    "relative_error": continuous.relative_error,
    "interval_coverage": probabilistic.interval_coverage,
    "ensemble_spread": probabilistic.ensemble_spread,
    "spread_skill_ratio": probabilistic.spread_skill_ratio,
    "crps_ensemble": probabilistic.crps_ensemble,
    "rank_histogram": probabilistic.rank_histogram,
    "contingency_table": categorical.contingency_table,
    "categorical_scores": categorical.categorical_scores,
    "pod": categorical.pod,
    "far": categorical.far,
    "csi": categorical.csi,
    "hss": categorical.hss,
    "ets": categorical.ets,
    "frequency_bias": categorical.frequency_bias,
    "fss": spatial.fss,
    "radial_power_spectrum": spectral.radial_power_spectrum,
    "spectral_slope": spectral.spectral_slope,
    "upper_quantiles": extremes.upper_quantiles,
    "qq_upper_tail": extremes.qq_upper_tail,
    "tail_share": extremes.tail_share,
    "gpd_fit": extremes.gpd_fit,
    "gpd_return_levels": extremes.gpd_return_levels,
})


def get_metric(name: str) -> Callable:
    """Return the metric registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    return METRICS.get(name)


def list_metrics() -> list[str]:
    """Return the registered metric names, sorted."""
    return METRICS.names()
