"""Registry of VPRM variants (the reference model and each ablation step of the upgrade).

A variant is a :class:`ModelVariant`: which greenness term enters the light-use term, which
water stress, which respiration. :func:`predict` runs any variant on a stacked site dataset
(:func:`eoretrieval.carbon.drivers.stack_sites`) and returns GPP, Reco, NEE in g C m-2 d-1
(NEE = Reco - GPP, positive = source). :func:`param_spec` lists the fitted parameters.

Public names: :class:`ModelVariant`, :data:`MODELS`, :func:`get_model`, :func:`list_models`,
:func:`param_spec`, :func:`predict`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import pools, water_stress
from ..registry import Registry
from .vprm import TEMPERATURE_COEFFICIENTS, UMOL_M2_S_TO_G_M2_D, gee, pscale, respiration, tscale, wscale

__all__ = ["ModelVariant", "MODELS", "get_model", "list_models", "param_spec", "predict"]


@dataclass(frozen=True)
class ModelVariant:
    """One model configuration.

    greenness : {"evi", "nirv", "kndvi", "fapar"}
        Index in the light-use term (EVI in the reference VPRM).
    water : {"lswi", "lswi_vpd_sm"}
        LSWI W_scale only, or times VPD and soil-moisture scalars.
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


def _class_arrays(data: xr.Dataset):
    cls = data["vprm_class"].values
    coef = np.array([TEMPERATURE_COEFFICIENTS[c][1:] for c in cls], float)
    return coef[:, 0], coef[:, 1], coef[:, 2], coef[:, 3], cls


def predict(variant: ModelVariant | str, params: dict, data: xr.Dataset) -> xr.Dataset:
    """Run a variant on stacked site data (dim ``sample``).

    Returns
    -------
    xr.Dataset
        ``gpp``, ``reco``, ``nee`` on ``sample`` in g C m-2 d-1 (NEE = Reco - GPP).
    """
    if isinstance(variant, str):
        variant = get_model(variant)
    p = params
    tmin, topt, tmax, tlow, cls = _class_arrays(data)
    t = data["ta"].values
    lswi = data["lswi"].values
    evi = data["evi"].values
    lmin, lmax = data["lswi_min"].values, data["lswi_max"].values
    ts = tscale(t, tmin=tmin, topt=topt, tmax=tmax)
    ws = np.clip(wscale(lswi, lswi_max=lmax), 0.0, None)
    ps = np.where(cls == "evergreen", 1.0,
                  np.where(np.isin(cls, ["grassland", "savanna"]), (1 + lswi) / 2,
                           pscale(lswi, evi, evi_threshold=data["evi_threshold"].values)))
    green = np.clip(data[variant.greenness].values, 0.0, None)
    if variant.water == "lswi_vpd_sm":
        w = water_stress.moisture_index(data["sm_rel"].values, lswi, lswi_min=lmin, lswi_max=lmax)
        ws = ws * water_stress.vpd_scalar(data["vpd"].values, k=p["k_vpd"]) * \
            water_stress.soil_moisture_scalar(w, s=p["s_sm"])
    g = gee(green, data["par"].values, ts=ts, ws=ws, ps=ps, lam=p["lam"], par0=p["par0"]) * UMOL_M2_S_TO_G_M2_D
    if variant.respiration == "linear":
        r = respiration(t, alpha=p["alpha"], beta=p["beta"], tlow=tlow) * UMOL_M2_S_TO_G_M2_D
    elif variant.respiration == "gourdji":
        w2 = water_stress.moisture_index(np.full_like(t, np.nan), lswi, lswi_min=lmin, lswi_max=lmax)
        tt = np.maximum(t, tlow)
        r = water_stress.respiration_gourdji(tt, evi, w2, **{k: p[k] for k in (
            "beta", "alpha1", "alpha2", "gamma", "theta1", "theta2", "theta3")}) * UMOL_M2_S_TO_G_M2_D
    else:
        w = water_stress.moisture_index(data["sm_rel"].values, lswi, lswi_min=lmin, lswi_max=lmax)
        r = np.full_like(g, np.nan)
        sites = data["site"].values
        kw = {k: p[k] for k in ("f_auto", "q10", "k_litter", "eta", "w_m")}
        names, starts, counts = np.unique(sites, return_index=True, return_counts=True)
        dt = data["dt_days"].values
        if len(names) > 50 and np.all(counts == counts[0]):
            # many equal-length contiguous pixel series (a tile): integrate all at once
            n = counts[0]
            blocks = np.sort(starts)
            idx = (blocks[None, :] + np.arange(n)[:, None])  # (time, pixel)
            out = pools.casa_respiration(g[idx], t[idx], w[idx], dt[idx[:, 0]], **kw)
            r[idx] = out["reco"]
        else:
            for s in dict.fromkeys(sites):
                m = sites == s
                r[m] = pools.casa_respiration(g[m], t[m], w[m], dt[m], **kw)["reco"]
        r = np.where(np.isfinite(g), r, np.nan)
    attrs = {"units": "g m-2 d-1"}
    return xr.Dataset({"gpp": ("sample", g, {**attrs, "long_name": "GPP (= GEE)"}),
                       "reco": ("sample", r, {**attrs, "long_name": "ecosystem respiration"}),
                       "nee": ("sample", r - g, {**attrs, "long_name": "NEE = Reco - GPP (positive = source)"})},
                      coords={k: data[k] for k in ("site", "time") if k in data.coords})
