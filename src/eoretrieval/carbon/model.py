"""Run a VPRM variant of :mod:`eoretrieval.carbon.interface` on stacked site data (the physics of the registry).

:func:`predict` returns GPP, Reco and NEE in g C m-2 d-1 (NEE = Reco - GPP, positive = source) for data laid
out by :func:`eoretrieval.carbon.drivers.stack_sites`.

Public names: :func:`predict`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import pools, water_stress
from .greenness import greenness as greenness_input
from .interface import ModelVariant, get_model
from .vprm import TEMPERATURE_COEFFICIENTS, UMOL_M2_S_TO_G_M2_D, gee, pscale, respiration, tscale, wscale

__all__ = ["predict"]


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
    ws = np.clip(wscale(lswi, lswi_max=lmax), 0.0, None) if variant.water != "none" else np.ones_like(t)
    ps = np.where(cls == "evergreen", 1.0,
                  np.where(np.isin(cls, ["grassland", "savanna"]), (1 + lswi) / 2,
                           pscale(lswi, evi, evi_threshold=data["evi_threshold"].values)))
    green = np.clip(greenness_input(data, variant.greenness).values, 0.0, None)
    if variant.water == "lswi_vpd_sm":
        w = data["sm_rel"].values  # measured only: LSWI already enters through W_scale
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
