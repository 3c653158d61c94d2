"""Registry of metrics: names (papermill parameters are strings) to functions.

Public names: :func:`get_metric`, :func:`list_metrics`, :data:`METRICS`.
"""

from __future__ import annotations

from collections.abc import Callable

from . import continuous

__all__ = ["METRICS", "get_metric", "list_metrics"]

METRICS: dict[str, Callable] = {
    "mse": continuous.mse,
    "rmse": continuous.rmse,
    "mae": continuous.mae,
    "bias": continuous.bias,
    "corr": continuous.corr,
    "r2": continuous.r2,
    "relative_error": continuous.relative_error,
}


def get_metric(name: str) -> Callable:
    """Return the metric registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    key = str(name).lower()
    if key not in METRICS:
        raise ValueError(f"unknown metric {name!r}; valid metrics: {sorted(METRICS)}")
    return METRICS[key]


def list_metrics() -> list[str]:
    """Return the registered metric names, sorted."""
    return sorted(METRICS)
