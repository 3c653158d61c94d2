"""eoretrieval.osse: synthetic worlds whose truth is known (NOx transport model, TROPOMI-like operator)."""

from eoretrieval.osse.emissions import (base_emission_map, domain_total, largest_sources, make_emissions,
                                        temporal_factors)
from eoretrieval.osse.nox_world import NOX_PROFILES, NoxWorldConfig, make_nox_world, nox_lifetime, split_days
from eoretrieval.osse.tropomi_operator import MOL_M2_PER_MOLEC_CM2, observe
from eoretrieval.osse.winds import make_winds, read_era_interim_winds

__all__ = [
    "NOX_PROFILES", "NoxWorldConfig", "make_nox_world", "nox_lifetime", "split_days",
    "base_emission_map", "domain_total", "largest_sources", "make_emissions", "temporal_factors",
    "observe", "MOL_M2_PER_MOLEC_CM2", "make_winds", "read_era_interim_winds",
]
