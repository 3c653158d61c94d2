"""eoretrieval.nox: studies 1-2, NOx emissions from TROPOMI-like NO2 columns.

Modules (a synthetic world whose truth is known, the methods that estimate its emissions, and the study's
training and evaluation):

- :mod:`~eoretrieval.nox.world` — the world generator, its profiles and the one parser of its splits;
  :mod:`~eoretrieval.nox.emissions` (the real proxies), :mod:`~eoretrieval.nox.inventory` (each world's own
  inventory draw, and the prior), :mod:`~eoretrieval.nox.winds`, :mod:`~eoretrieval.nox.transport`
  (the one forward model, used by the world and by the variational inversion),
  :mod:`~eoretrieval.nox.tropomi_operator`;
- baselines: :mod:`~eoretrieval.nox.flux_divergence`, :mod:`~eoretrieval.nox.variational`,
  :mod:`~eoretrieval.nox.prior`, and their registry :mod:`~eoretrieval.nox.baselines`;
- networks: :mod:`~eoretrieval.nox.features` (world → tensors), :mod:`~eoretrieval.nox.train` (the training
  command), :mod:`~eoretrieval.nox.evaluate` (predictions, scores, trend, sensitivity tests, timing),
  :mod:`~eoretrieval.nox.osse` (study 1's evaluation over the test worlds, at every scale),
  :mod:`~eoretrieval.nox.scales`, :mod:`~eoretrieval.nox.profiles`, :mod:`~eoretrieval.nox.targets`.

Importing this package does not import torch: the modules that need it (transport, features, train, evaluate,
and the variational inversion when it runs) import it themselves.
"""

from eoretrieval.nox.baselines import get_baseline, list_baselines
from eoretrieval.nox.emissions import base_emission_map, domain_total, largest_sources
from eoretrieval.nox.flux_divergence import flux_divergence, flux_divergence_world
from eoretrieval.nox.prior import column_scaling, fit_column_scale, memorisation, prior_emission
from eoretrieval.nox.tropomi_operator import MOL_M2_PER_MOLEC_CM2, observe
from eoretrieval.nox.variational import estimate_prior_rel_error, variational_inversion
from eoretrieval.nox.winds import make_winds, read_era_interim_winds
from eoretrieval.nox.world import NOX_PROFILES, SPLITS, NoxWorldConfig, make_nox_world, nox_lifetime, split_days

__all__ = [
    "NOX_PROFILES", "SPLITS", "NoxWorldConfig", "make_nox_world", "nox_lifetime", "split_days",
    "base_emission_map", "domain_total", "largest_sources",
    "observe", "MOL_M2_PER_MOLEC_CM2", "make_winds", "read_era_interim_winds",
    "get_baseline", "list_baselines", "flux_divergence", "flux_divergence_world",
    "prior_emission", "column_scaling", "memorisation", "fit_column_scale", "variational_inversion", "estimate_prior_rel_error",
]
