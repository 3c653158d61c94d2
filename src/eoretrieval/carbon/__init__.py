"""VPRM and its upgrades, judged against flux towers.

Sign convention for the whole subpackage: NEE = Reco - GPP, positive = CO2 source to the atmosphere.

Modules: :mod:`~eoretrieval.carbon.vprm` (reference VPRM), :mod:`~eoretrieval.carbon.indices`
(EVI, LSWI, NIRv, kNDVI, ...), :mod:`~eoretrieval.carbon.water_stress` (VPD, soil moisture,
Gourdji et al. 2022 respiration), :mod:`~eoretrieval.carbon.pools` (CASA-like pools),
:mod:`~eoretrieval.carbon.drivers` (tower + satellite pairs), :mod:`~eoretrieval.carbon.calibration`
(least squares with uncertainties), :mod:`~eoretrieval.carbon.evaluate` (leave-one-site-out),
:mod:`~eoretrieval.carbon.interface` (registry of variants), :mod:`~eoretrieval.carbon.model` (runs a variant), :mod:`~eoretrieval.carbon.sentinel2`
(maps over the Sentinel-2 tile); for the 42 forest towers: :mod:`~eoretrieval.carbon.towers` (day-time drivers,
soil water), :mod:`~eoretrieval.carbon.greenness` (one greenness input: EVI, NDVI, NIRv, kNDVI, fAPAR),
:mod:`~eoretrieval.carbon.lue` (daily light-use models, fast calibration), :mod:`~eoretrieval.carbon.crossval`
(within-class leave-one-site-out, nulls, bootstrap), :mod:`~eoretrieval.carbon.respiration` (Reco, NEE).
"""

from .calibration import FitResult, fit_per_class, fit_variant, training_mask
from .drivers import SiteSpec, default_sites, load_site, parse_sites, stack_sites
from . import crossval, greenness, lue, respiration, towers
from .evaluate import (VPRM_PROFILES, VPRMProfile, anomaly_test, flat_skill, leave_one_site_out, leave_one_year_out,
                       run_cv, skill, skill_table, temporal_holdout, to_monthly)
from .interface import MODELS, ModelVariant, get_model, list_models, param_spec
from .model import predict

__all__ = ["FitResult", "fit_per_class", "fit_variant", "training_mask", "SiteSpec", "default_sites",
           "load_site", "parse_sites", "stack_sites", "VPRM_PROFILES", "VPRMProfile", "anomaly_test",
           "flat_skill", "leave_one_site_out", "leave_one_year_out", "crossval", "greenness", "lue",
           "respiration", "towers", "run_cv", "skill", "skill_table", "temporal_holdout", "to_monthly", "MODELS",
           "ModelVariant", "get_model", "list_models", "param_spec", "predict"]
