"""Registry of metrics: names (papermill parameters are strings) to functions.

Public names: :func:`get_metric`, :func:`list_metrics`, :data:`METRICS`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Registry
from . import continuous, probabilistic

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
