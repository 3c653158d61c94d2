"""Metrics as small functions over labelled xarray data, ``(pred, truth)`` order.

Modules: :mod:`~eoretrieval.verify.continuous` (RMSE, bias, correlation, R²),
:mod:`~eoretrieval.verify.categorical` (contingency table, POD, FAR, CSI, HSS, ETS, frequency bias),
:mod:`~eoretrieval.verify.spatial` (fractions skill score),
:mod:`~eoretrieval.verify.probabilistic` (CRPS, rank histogram, interval coverage, spread–skill of ensembles),
:mod:`~eoretrieval.verify.calibration` (spread inflation),
:mod:`~eoretrieval.verify.spectral` (radially averaged power spectrum, spectral slope),
:mod:`~eoretrieval.verify.extremes` (upper-tail quantiles, Q–Q, tail share, GPD return levels),
:mod:`~eoretrieval.verify._core` (dims, weighted means, area weights: shared by all),
:mod:`~eoretrieval.verify.interface` (registry).

Means over ``lat`` are area-weighted (cos latitude) by default, ``weights="area"``; ``weights=None``
gives equal weights. The helpers :func:`area_weights` and :func:`scale_in_cells` are importable from
here but are not metrics (so not in ``__all__``, which lists the registered metrics and the registry).
"""

from ._core import area_weights
from .categorical import categorical_scores, contingency_table, csi, ets, far, frequency_bias, hss, pod
from .continuous import bias, corr, mae, mse, r2, relative_error, rmse
from .extremes import gpd_fit, gpd_return_levels, qq_upper_tail, tail_share, upper_quantiles
from .probabilistic import crps_ensemble, ensemble_spread, interval_coverage, rank_histogram, spread_skill_ratio
from .spatial import fss, scale_in_cells
from .spectral import radial_power_spectrum, spectral_slope
from .interface import METRICS, get_metric, list_metrics

__all__ = ["bias", "corr", "mae", "mse", "r2", "relative_error", "rmse",
           "contingency_table", "categorical_scores", "pod", "far", "csi", "hss", "ets", "frequency_bias",
           "fss",
           "crps_ensemble", "rank_histogram", "ensemble_spread", "interval_coverage", "spread_skill_ratio",
           "radial_power_spectrum", "spectral_slope",
           "upper_quantiles", "qq_upper_tail", "tail_share", "gpd_fit", "gpd_return_levels",
           "METRICS", "get_metric", "list_metrics"]
