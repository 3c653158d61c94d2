"""Metrics as small functions over labelled xarray data, ``(pred, truth)`` order.

Modules: :mod:`~eoretrieval.verify.continuous` (RMSE, bias, correlation, R²),
:mod:`~eoretrieval.verify.interface` (registry).
"""

from .continuous import bias, corr, mae, mse, r2, relative_error, rmse
from .interface import METRICS, get_metric, list_metrics

__all__ = ["bias", "corr", "mae", "mse", "r2", "relative_error", "rmse",
           "METRICS", "get_metric", "list_metrics"]
