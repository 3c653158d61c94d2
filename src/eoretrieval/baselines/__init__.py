"""eoretrieval.baselines: physics and trivial references the networks must beat (Study 1: NOx emissions)."""

from eoretrieval.baselines.flux_divergence import flux_divergence, flux_divergence_world
from eoretrieval.baselines.interface import get_baseline, list_baselines
from eoretrieval.baselines.prior import column_scaling, fit_column_scale, prior_emission
from eoretrieval.baselines.variational import estimate_prior_rel_error, variational_inversion

__all__ = [
    "get_baseline", "list_baselines",
    "flux_divergence", "flux_divergence_world",
    "prior_emission", "column_scaling", "fit_column_scale",
    "variational_inversion", "estimate_prior_rel_error",
]
