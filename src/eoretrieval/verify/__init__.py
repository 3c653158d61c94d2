"""Metrics as small functions over labelled xarray data, ``(pred, truth)`` order.

Modules: :mod:`~eoretrieval.verify.continuous` (RMSE, bias, correlation, R²),
:mod:`~eoretrieval.verify.probabilistic` (interval coverage, spread-skill of ensembles),
:mod:`~eoretrieval.verify.interface` (registry).
"""

from .continuous import bias, corr, mae, mse, r2, relative_error, rmse
from .probabilistic import ensemble_spread, interval_coverage, spread_skill_ratio
from .interface import METRICS, get_metric, list_metrics

__all__ = ["ensemble_spread", "interval_coverage", "spread_skill_ratio", "bias", "corr", "mae", "mse", "r2", "relative_error", "rmse",
           "METRICS", "get_metric", "list_metrics"]
