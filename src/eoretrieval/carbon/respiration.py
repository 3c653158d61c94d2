"""Ecosystem respiration and NEE at the forest towers with monthly NEE (Warm Winter table).

Two respiration models, both fed by the daily drivers of :func:`eoretrieval.carbon.towers.load_forest_towers`
and aggregated to months afterwards:

* ``linear``: VPRM's :math:`R = \\max(\\alpha\\,\\max(T, T_{low}) + \\beta, 0)` on the 24-h temperature;
* ``pools``: :func:`eoretrieval.carbon.pools.casa_spinup_respiration` fed by the *modelled* daily GPP
  (spin-up, turnover of litter and soil, Q10 and soil-water limits).

Parameters are fitted per class on the training towers' monthly ``RECO_NT`` (:func:`fit_reco`); NEE = Reco -
GPP (positive = source) with the GPP of the same fold. Modelled monthly means use every day (the model
has drivers on the days the source filtered out of GPP), which is how the Warm Winter monthly values
are built (gap-filled): that is the reconciliation of the two sources.

Public names: :func:`predict_reco`, :func:`fit_reco`, :func:`nee_within_class`, :data:`RECO_BOUNDS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ..errors import DataError
from .pools import casa_spinup_respiration
from .vprm import TEMPERATURE_COEFFICIENTS, UMOL_M2_S_TO_G_M2_D

__all__ = ["predict_reco", "fit_reco", "nee_within_class", "RECO_BOUNDS"]

#: (initial, lower, upper) per respiration model.
RECO_BOUNDS = {
    "linear": {"alpha": (0.1, -1.0, 2.0), "beta": (1.0, -5.0, 10.0)},
    "pools": {"f_auto": (0.5, 0.2, 0.8), "q10": (2.0, 1.0, 4.0), "k_litter": (2.0, 0.3, 10.0),
              "eta": (0.9, 0.3, 1.5), "w_m": (0.2, 0.0, 1.0)},
}


def predict_reco(kind: str, params: dict, *, gpp: np.ndarray, t24: np.ndarray, wrel: np.ndarray,
                 vprm_class: np.ndarray) -> np.ndarray:
    """Daily Reco (g C m-2 d-1) on ``(site, time)`` arrays; NaN outside each tower's record."""
    out = np.full(t24.shape, np.nan)
    for i in range(t24.shape[0]):
        ok = np.isfinite(t24[i])
        if not ok.any():
            continue
        a, b = np.flatnonzero(ok)[[0, -1]]
        sl = slice(a, b + 1)
        if kind == "linear":
            tlow = TEMPERATURE_COEFFICIENTS[vprm_class[i]][4]
            r = np.maximum(params["alpha"] * np.maximum(t24[i, sl], tlow) + params["beta"], 0.0) * UMOL_M2_S_TO_G_M2_D
        elif kind == "pools":
            r = casa_spinup_respiration(gpp[i, sl], t24[i, sl], wrel[i, sl], **params)["reco"]
        else:
            raise ValueError(f"unknown respiration model {kind!r}; valid: {sorted(RECO_BOUNDS)}")
        out[i, sl] = r
    return out


def _monthly(values, time, months):
    t = pd.DatetimeIndex(time)
    df = pd.DataFrame(values.T, index=t)
    m = df.resample("MS").mean()
    return m.reindex(pd.DatetimeIndex(months)).to_numpy().T


def fit_reco(kind: str, *, rows, gpp, t24, wrel, vprm_class, time, truth_monthly, months, seed: int = 0) -> dict:
    """Fit a respiration model to monthly Reco of the towers ``rows`` (indices into the daily arrays).

    ``truth_monthly`` is ``(len(rows), len(months))`` in g C m-2 d-1. Returns ``{"params", "at_bound", "n"}``.
    """
    spec = RECO_BOUNDS[kind]
    names = list(spec)
    lo = np.array([spec[n][1] for n in names])
    hi = np.array([spec[n][2] for n in names])
    x0 = np.array([spec[n][0] for n in names])
    rows = list(rows)
    sub = {k: v[rows] for k, v in (("gpp", gpp), ("t24", t24), ("wrel", wrel))}
    cls = np.asarray(vprm_class)[rows]
    y = truth_monthly
    if np.isfinite(y).sum() <= len(names):
        raise DataError(f"fit_reco({kind}): {int(np.isfinite(y).sum())} monthly values for {len(names)} parameters")

    def resid(v):
        r = predict_reco(kind, dict(zip(names, v)), gpp=sub["gpp"], t24=sub["t24"], wrel=sub["wrel"], vprm_class=cls)
        pm = _monthly(r, time, months)
        ok = np.isfinite(y)
        if not np.all(np.isfinite(pm[ok])):
            # months with truth but no drivers: excluded up front, never as zero residuals
            ok &= np.isfinite(pm)
        return (pm - y)[ok]

    res = least_squares(resid, x0, bounds=(lo, hi), x_scale=(hi - lo) / 10, max_nfev=40 * len(names), diff_step=1e-3)
    at = [n for n, v, a, b in zip(names, res.x, lo, hi) if abs(v - a) <= 1e-3 * (b - a) or abs(v - b) <= 1e-3 * (b - a)]
    return {"params": dict(zip(names, map(float, res.x))), "at_bound": at, "n": int(len(res.fun)),
            "bounds": {n: [float(a), float(b)] for n, a, b in zip(names, lo, hi)}}


def _r2(p, t):
    ok = np.isfinite(p) & np.isfinite(t)
    if ok.sum() < 3:
        return None
    return float(1 - np.sum((p[ok] - t[ok]) ** 2) / np.sum((t[ok] - t[ok].mean()) ** 2))


def nee_within_class(gpp_pred: dict, ds, truth, *, combos=None, min_towers: int = 3, n_boot: int = 200,
                     seed: int = 0, max_at_bound: int = 2, holdout=(), holdout_pred: dict | None = None) -> dict:
    """Within-class leave-one-site-out monthly NEE, GPP and Reco at the towers with monthly NEE.

    Parameters
    ----------
    gpp_pred : dict
        model -> daily GPP ``(site, time)`` of ``ds`` (the held-out predictions of
        :func:`eoretrieval.carbon.crossval.within_class_loso`, so GPP at every tower is out of sample).
    ds : xr.Dataset
        :func:`eoretrieval.carbon.towers.load_forest_towers`.
    truth : xr.Dataset
        :func:`eoretrieval.carbon.towers.monthly_truth`.
    combos : dict
        NEE model name -> (GPP model, respiration model); default ``vprm`` = (vprm, linear),
        ``vprm_plus`` = (vprm_plus, nested), ``vprm_plus_pools`` = (vprm_plus, pools), ``vprm_plus_linear_reco`` =
        (vprm_plus, linear). ``nested``: per training fold, pools unless their fit has ``max_at_bound`` or more
        parameters at a bound (then the term is dropped for linear respiration); the held-out tower plays no part.
    holdout : list of str
        towers never used in any fit (the notebook's ``holdout_towers``): left out of every class's folds and nulls.
        Each one with monthly NEE is scored with respiration fitted on all the class's other NEE towers and its GPP
        from ``holdout_pred`` (:func:`~eoretrieval.carbon.crossval.within_class_loso`'s ``holdout_pred``); without
        ``holdout_pred`` it is listed in ``holdout_unscored``, never scored with missing GPP.

    Returns
    -------
    dict
        ``{"classes": {class: {model: {"nee_r2", "nee_r2_ci", "reco_nt_r2", "reco_dt_r2", "gpp_nt_r2",
        "gpp_dt_r2", "n_sites"}}}, "null": {class: {"seasonal_cycle": {...}, "linear": {...}}},
        "fits": {model: {site: ...}}, "pools": {site: diagnostics}, "pred": {model: monthly NEE},
        "holdout": {site: {model: {"nee_r2", "n_months"}}}, "holdout_unscored": [site, ...]}``.
    """
    from .crossval import r2_with_ci, skill_sums

    combos = combos or {"vprm": ("vprm", "linear"), "vprm_plus": ("vprm_plus", "nested"),
                        "vprm_plus_pools": ("vprm_plus", "pools"), "vprm_plus_linear_reco": ("vprm_plus", "linear")}
    sites = ds["site"].values.tolist()
    holdout = list(holdout)
    nee_sites = [s for s in truth["site"].values.tolist() if s in sites and s not in holdout]
    time = ds["time"].values
    months = pd.date_range(pd.Timestamp(time[0]), pd.Timestamp(time[-1]), freq="MS")
    tr = truth.reindex(time=months)
    rows_all = [sites.index(s) for s in nee_sites]
    t24, wrel = ds["t_24h"].values, ds["wrel"].values
    cls_v = ds["vprm_class"].values
    igbp = dict(zip(sites, ds["igbp"].values.tolist()))
    groups = {}
    for s in nee_sites:
        groups.setdefault(igbp[s], []).append(s)
    groups = {c: m for c, m in groups.items() if len(m) >= min_towers}
    obs = {k: tr[k].sel(site=nee_sites).values for k in ("nee", "reco_nt", "reco_dt", "gpp_nt", "gpp_dt")}
    pm_all = {m: np.full((len(nee_sites), len(months)), np.nan) for m in [*combos, "seasonal_cycle", "linear"]}
    comp = {m: {"gpp": np.full((len(nee_sites), len(months)), np.nan),
                "reco": np.full((len(nee_sites), len(months)), np.nan)} for m in combos}
    fits = {m: {} for m in combos}
    pools_diag = {}
    mon = pd.DatetimeIndex(months).month.to_numpy()
    t24_m = _monthly(t24[rows_all], time, months)
    lfp = _monthly(ds["par_24h"].values[rows_all] * ds["fapar"].values[rows_all], time, months)

    def _fold(train, i, gpp_by_model):
        """Fit on ``train`` (NEE towers), predict ds row ``i``: monthly Reco, GPP, NEE per combo and the nulls."""
        ti = [nee_sites.index(s) for s in train]
        cache, res = {}, {}

        def _fit(gm, rk):
            if (gm, rk) not in cache:
                cache[(gm, rk)] = fit_reco(rk, rows=[sites.index(s) for s in train], gpp=gpp_pred[gm], t24=t24,
                                           wrel=wrel, vprm_class=cls_v, time=time,
                                           truth_monthly=obs["reco_nt"][ti], months=months, seed=seed)
            return cache[(gm, rk)]

        for m, (gm, rk) in combos.items():
            g = gpp_by_model[gm]
            if rk == "nested":  # pools unless the training fit pins >= max_at_bound pool parameters at bounds
                fp = _fit(gm, "pools")
                rk = "pools" if len(fp["at_bound"]) < max_at_bound else "linear"
            f = {**_fit(gm, rk), "respiration": rk}
            r = predict_reco(f["respiration"], f["params"], gpp=g[[i]], t24=t24[[i]], wrel=wrel[[i]], vprm_class=cls_v[[i]])
            reco_m, gpp_m = _monthly(r, time, months)[0], _monthly(g[[i]], time, months)[0]
            res[m] = {"fit": f, "reco": reco_m, "gpp": gpp_m, "nee": reco_m - gpp_m}
            if rk == "pools" and m == "vprm_plus_pools":
                sl = np.isfinite(t24[i])
                d = casa_spinup_respiration(g[i, sl], t24[i, sl], wrel[i, sl], **f["params"])
                cl = pd.Series(d["c_litter"], index=pd.DatetimeIndex(time[sl]))
                clim = cl.groupby(cl.index.month).mean()
                res[m]["pools"] = {"litter_seasonal_range_rel": float((clim.max() - clim.min()) / clim.mean()),
                                   "soil_change_rel": float((d["c_soil"][-1] - d["c_soil"][0]) / d["c_soil"][0]),
                                   "spinup_drift": float(d["spinup_drift"]),
                                   "rh_fraction": float(np.mean(d["rh"]) / np.mean(d["reco"]))}
        # nulls: mean seasonal NEE of the training towers; OLS on monthly T and PAR x fAPAR
        clim = np.array([np.nanmean(obs["nee"][ti][:, mon == k]) for k in range(1, 13)])
        a = np.column_stack([np.ones(len(ti) * len(months)), t24_m[ti].ravel(), lfp[ti].ravel()])
        yv = obs["nee"][ti].ravel()
        ok = np.isfinite(yv) & np.all(np.isfinite(a), axis=1)
        coef, *_ = np.linalg.lstsq(a[ok], yv[ok], rcond=None)
        t24_i, lfp_i = _monthly(t24[[i]], time, months)[0], _monthly(ds["par_24h"].values[[i]] * ds["fapar"].values[[i]],
                                                                     time, months)[0]
        res["seasonal_cycle"] = {"nee": clim[mon - 1]}
        res["linear"] = {"nee": np.column_stack([np.ones(len(months)), t24_i, lfp_i]) @ coef}
        return res

    for cls, members in groups.items():
        for held in members:
            hi = nee_sites.index(held)
            fold = _fold([s for s in members if s != held], sites.index(held), gpp_pred)
            for m in combos:
                fits[m][held] = fold[m]["fit"]
                comp[m]["reco"][hi], comp[m]["gpp"][hi] = fold[m]["reco"], fold[m]["gpp"]
                if "pools" in fold[m]:
                    pools_diag[held] = fold[m]["pools"]
            for m in pm_all:
                pm_all[m][hi] = fold[m]["nee"]
    hold_out, unscored = {}, []
    for h in holdout:
        if h not in truth["site"].values or h not in sites:
            continue  # no monthly NEE at this tower: nothing to score
        members = groups.get(igbp[h])
        if holdout_pred is None or not members:
            unscored.append(h)
            continue
        fold = _fold(members, sites.index(h), holdout_pred)
        o = tr["nee"].sel(site=h).values
        ok = np.isfinite(o) & np.all([np.isfinite(fold[m]["nee"]) for m in pm_all], axis=0)
        hold_out[h] = {m: {"nee_r2": _r2(fold[m]["nee"][ok], o[ok]), "n_months": int(ok.sum())} for m in pm_all}
        if "pools" in fold.get("vprm_plus_pools", {}):
            pools_diag[h] = fold["vprm_plus_pools"]["pools"]
    out, null = {}, {}
    for cls, members in groups.items():
        idx = [nee_sites.index(s) for s in members]
        common = np.isfinite(obs["nee"][idx])
        for m in pm_all:
            common &= np.isfinite(pm_all[m][idx])
        block = {}
        for m in pm_all:
            s = skill_sums(pm_all[m][idx], obs["nee"][idx], common)
            r2, ci = r2_with_ci(s, n_boot=n_boot, seed=seed)
            e = {"nee_r2": r2, "nee_r2_ci": ci, "n_sites": len(members), "n_months": int(common.sum())}
            if m in comp:
                for k in ("reco_nt", "reco_dt"):
                    e[f"{k}_r2"] = _r2(comp[m]["reco"][idx][common], obs[k][idx][common])
                for k in ("gpp_nt", "gpp_dt"):
                    e[f"{k}_r2"] = _r2(comp[m]["gpp"][idx][common], obs[k][idx][common])
            block[m] = e
        out[cls] = {m: v for m, v in block.items() if m in combos}
        null[cls] = {m: block[m] for m in ("seasonal_cycle", "linear")}
    return {"classes": out, "null": null, "fits": fits, "pools": pools_diag, "sites": nee_sites,
            "months": months, "pred": pm_all, "obs": obs, "holdout": hold_out, "holdout_unscored": unscored}
