"""Registry of VPRM variants (the reference model and each ablation step of the upgrade).

A variant is a :class:`ModelVariant`: which greenness term enters the light-use term, which
water stress, which respiration. :func:`param_spec` lists the fitted parameters. The physics that runs
a variant, :func:`eoretrieval.carbon.model.predict`, lives in :mod:`eoretrieval.carbon.model`.

Public names: :class:`ModelVariant`, :data:`MODELS`, :func:`get_model`, :func:`list_models`,
:func:`param_spec`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry

__all__ = ["ModelVariant", "MODELS", "get_model", "list_models", "param_spec"]


@dataclass(frozen=True)
class ModelVariant:
    """One model configuration.

    greenness : {"evi", "nirv", "kndvi", "fapar"}
        Index in the light-use term (EVI in the reference VPRM).
    water : {"lswi", "lswi_vpd_sm", "none"}
        LSWI W_scale only, or times VPD and measured-soil-moisture scalars (LSWI is counted once: where no
        soil moisture is measured the soil-moisture scalar is 1, not a second LSWI term), or no water scalar.
    respiration : {"linear", "gourdji", "pools"}
        Mahadevan's alpha T + beta; Gourdji et al. (2022); CASA-like pools fed by modelled GPP.
    """

    name: str
    description: str
    greenness: str = "evi"
    water: str = "lswi"
    respiration: str = "linear"


MODELS: Registry[ModelVariant] = Registry("model", {m.name: m for m in [
    ModelVariant("vprm", "reference VPRM (Mahadevan et al. 2008): EVI, LSWI, alpha T + beta"),
    ModelVariant("vprm_nirv", "ablation 1a: NIRv in place of EVI", greenness="nirv"),
    ModelVariant("vprm_kndvi", "ablation 1b: kNDVI in place of EVI", greenness="kndvi"),
    ModelVariant("vprm_ndvi", "ablation 1c: NDVI in place of EVI", greenness="ndvi"),
    ModelVariant("vprm_no_lswi", "ablation 1d: EVI without the LSWI water scalar", water="none"),
    ModelVariant("vprm_fapar", "ablation 2: fAPAR in place of EVI in the light-use term", greenness="fapar"),
    ModelVariant("vprm_water", "ablation 3: VPD and soil-moisture stress on GEE", water="lswi_vpd_sm"),
    ModelVariant("vprm_gourdji", "ablation 3b: Gourdji et al. (2022) respiration with W2, T^2, EVI terms",
                 respiration="gourdji"),
    ModelVariant("vprm_pools", "ablation 4: respiration from CASA-like pools fed by modelled GPP",
                 respiration="pools"),
    ModelVariant("vprm_plus", "upgrade: fAPAR light term + VPD/soil-moisture stress + CASA-like pools",
                 greenness="fapar", water="lswi_vpd_sm", respiration="pools"),
    ModelVariant("vprm_plus_kndvi", "post-hoc variant of the upgrade with kNDVI instead of fAPAR",
                 greenness="kndvi", water="lswi_vpd_sm", respiration="pools"),
]})


def get_model(name: str) -> ModelVariant:
    """Return the variant registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        Unknown name; the message lists the valid names.
    """
    return MODELS.get(name)


def list_models() -> list[str]:
    """Registered variant names in ablation order."""
    return MODELS.names(sort=False)


def param_spec(variant: ModelVariant) -> list[tuple[str, float, float, float]]:
    """Fitted parameters as ``(name, initial, lower, upper)``.

    ``lam`` (umol CO2 per umol photon per unit greenness), ``par0`` (umol m-2 s-1),
    ``alpha`` (umol m-2 s-1 degC-1), ``beta`` (umol m-2 s-1), ``k_vpd`` (hPa-1), ``s_sm`` (1),
    pool parameters as in :func:`eoretrieval.carbon.pools.casa_respiration`.
    """
    spec = [("lam", 0.2, 1e-4, 20.0), ("par0", 500.0, 10.0, 1e4)]
    if variant.water == "lswi_vpd_sm":
        spec += [("k_vpd", 0.02, 0.0, 0.5), ("s_sm", 0.2, 0.0, 1.0)]
    if variant.respiration == "linear":
        spec += [("alpha", 0.1, -2.0, 5.0), ("beta", 1.0, -10.0, 20.0)]
    elif variant.respiration == "gourdji":
        spec += [("beta", 1.0, -20, 20), ("alpha1", 0.1, -5, 5), ("alpha2", 0.0, -0.5, 0.5),
                 ("gamma", 0.0, -20, 20), ("theta1", 0.0, -20, 20), ("theta2", 0.0, -5, 5),
                 ("theta3", 0.0, -0.5, 0.5)]
    elif variant.respiration == "pools":
        spec += [("f_auto", 0.5, 0.05, 0.95), ("q10", 2.0, 1.0, 5.0), ("k_litter", 1.0, 0.1, 20.0),
                 ("w_m", 0.3, 0.0, 1.0), ("eta", 0.9, 0.2, 3.0)]
    else:
        raise ValueError(f"unknown respiration {variant.respiration!r}")
    return spec


def __getattr__(name):
    # ``predict`` lives in :mod:`eoretrieval.carbon.model` (physics out of the registry); kept importable here
    if name == "predict":
        from .model import predict
        return predict
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
