"""Leave-one-site-out cross-validation and skill tables (R², RMSE, bias) for VPRM variants.

Every variant is fitted on all sites but one (one parameter set: with one site per vegetation
class, a per-class parameter set has no training data at the held-out site) and predicts the
held-out site. Skill uses :mod:`eoretrieval.verify` (``r2`` = 1 - MSE/Var(truth)) per site,
per vegetation class and pooled over sites, at the native scale of the data ("daily" or
"monthly") and, for daily data, on monthly means (months with >= 20 valid days).

Public names: :func:`leave_one_site_out`, :func:`skill`, :func:`to_monthly`, :func:`skill_table`,
:func:`anomaly_test`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..verify import bias, r2, rmse
from .calibration import fit_variant, training_mask
from .model import predict

__all__ = ["leave_one_site_out", "skill", "to_monthly", "skill_table", "anomaly_test", "run_cv",
           "flat_skill", "temporal_holdout", "leave_one_year_out", "VPRMProfile", "VPRM_PROFILES"]

FLUXES = ("nee", "gpp", "reco")


def leave_one_site_out(variant, data: xr.Dataset, *, n_starts: int = 3, seed: int = 0) -> tuple[xr.Dataset, dict]:
    """Cross-validated predictions at every site from fits on the other sites.

    Returns
    -------
    (xr.Dataset, dict)
        Predictions ``gpp, reco, nee`` (g C m-2 d-1) on ``sample`` and the fit of each fold.
    """
    sites = list(dict.fromkeys(data["site"].values.tolist()))
    pred = xr.Dataset({k: ("sample", np.full(data.sizes["sample"], np.nan), {"units": "g m-2 d-1"})
                       for k in FLUXES}, coords={k: data[k] for k in ("site", "time")})
    fits = {}
    base = training_mask(data)
    for s in sites:
        held = data["site"].values == s
        train = base & ~held
        fit = fit_variant(variant, data, n_starts=n_starts, seed=seed, mask=train)
        out = predict(variant, fit.params, data)
        for k in FLUXES:
            pred[k].values[held] = out[k].values[held]
        fits[s] = fit
    return pred, fits


def to_monthly(pred: xr.Dataset, data: xr.Dataset, *, min_days: int = 20) -> tuple[xr.Dataset, xr.Dataset]:
    """Monthly means of daily predictions and truth per site (months with >= ``min_days`` valid days)."""
    frames_p, frames_t = [], []
    for s in dict.fromkeys(data["site"].values.tolist()):
        m = data["site"].values == s
        t = pd.DatetimeIndex(data["time"].values[m])
        dfp = pd.DataFrame({k: pred[k].values[m] for k in FLUXES}, index=t)
        dft = pd.DataFrame({k: data[k].values[m] for k in FLUXES}, index=t)
        dft["index_filled"] = data["index_filled"].values[m]
        ok = dfp.notna() & dft[list(FLUXES)].notna()
        dfp = dfp.where(ok)
        dft[list(FLUXES)] = dft[list(FLUXES)].where(ok)
        cnt = dft[list(FLUXES)].resample("MS").count()
        mp = dfp.resample("MS").mean().where(cnt >= min_days)
        mt = dft.resample("MS").mean()
        mt[list(FLUXES)] = mt[list(FLUXES)].where(cnt >= min_days)
        mp["site"] = s
        mt["site"] = s
        frames_p.append(mp)
        frames_t.append(mt)
    p = pd.concat(frames_p)
    t = pd.concat(frames_t)

    def _ds(df, extra=()):
        ds = xr.Dataset({k: ("sample", df[k].to_numpy(float), {"units": "g m-2 d-1"}) for k in FLUXES},
                        coords={"site": ("sample", df["site"].to_numpy()), "time": ("sample", df.index.values)})
        for e in extra:
            ds[e] = ("sample", df[e].to_numpy(float))
        return ds
    return _ds(p), _ds(t, ("index_filled",))


def _metrics(pred: xr.DataArray, truth: xr.DataArray) -> dict:
    ok = np.isfinite(pred.values) & np.isfinite(truth.values)
    n = int(ok.sum())
    if n < 3 or np.nanstd(truth.values[ok]) == 0:
        return {"r2": None, "rmse": None, "bias": None, "n": n}
    p, t = pred[ok], truth[ok]
    return {"r2": float(r2(p, t)), "rmse": float(rmse(p, t)), "bias": float(bias(p, t)), "n": n}


def skill(pred: xr.Dataset, truth: xr.Dataset, *, mask: np.ndarray | None = None) -> dict:
    """R², RMSE, bias (g C m-2 d-1) of NEE, GPP, Reco over the masked samples.

    Returns ``{"nee_r2", "nee_rmse", "nee_bias", "nee_n", "gpp_r2", ...}`` (None where < 3 pairs).
    """
    mask = np.ones(pred.sizes["sample"], bool) if mask is None else mask
    out = {}
    for k in FLUXES:
        mm = _metrics(pred[k][mask], truth[k][mask])
        for key, v in mm.items():
            out[f"{k}_{key}"] = v
    return out


def skill_table(pred: xr.Dataset, truth: xr.Dataset, *, classes: dict, mask: np.ndarray | None = None) -> dict:
    """Skill pooled over sites (``pooled``), per site (``per_site``) and per class (``per_class``).

    ``classes`` maps site -> vegetation class (IGBP).
    """
    mask = np.ones(pred.sizes["sample"], bool) if mask is None else mask
    sites = truth["site"].values
    out = {"pooled": skill(pred, truth, mask=mask), "per_site": {}, "per_class": {}}
    for s in dict.fromkeys(sites.tolist()):
        out["per_site"][s] = skill(pred, truth, mask=mask & (sites == s))
    for c in sorted(set(classes.values())):
        members = [s for s, cc in classes.items() if cc == c]
        out["per_class"][c] = skill(pred, truth, mask=mask & np.isin(sites, members))
    return out


def anomaly_test(pred: xr.Dataset, truth: xr.Dataset, *, year: int, months=(6, 7, 8)) -> dict:
    """Drought stress test: per site, observed and modelled summer anomalies of ``year``.

    Anomaly = mean over ``months`` of ``year`` minus the mean over the same months of all other
    years (g C m-2 d-1). Returns per site ``{flux: {"obs", "model", "n_months"}}`` for sites with data
    in ``year``.
    """
    out = {}
    t = pd.DatetimeIndex(truth["time"].values)
    for s in dict.fromkeys(truth["site"].values.tolist()):
        m = (truth["site"].values == s) & np.isin(t.month, months)
        yr = m & (t.year == year)
        other = m & (t.year != year)
        res = {}
        for k in FLUXES:
            ok = np.isfinite(truth[k].values) & np.isfinite(pred[k].values)
            if (yr & ok).sum() == 0 or (other & ok).sum() == 0:
                continue
            res[k] = {"obs": float(truth[k].values[yr & ok].mean() - truth[k].values[other & ok].mean()),
                      "model": float(pred[k].values[yr & ok].mean() - pred[k].values[other & ok].mean()),
                      "n_months": int((yr & ok).sum())}
        if res:
            out[s] = res
    return out


@dataclass(frozen=True)
class VPRMProfile:
    """Sizes of the VPRM study per profile: optimiser starts for the monthly and the daily fits."""

    n_starts_monthly: int
    n_starts_daily: int
    n_starts_class: int


#: ``"ci"``: few optimiser starts (minutes on 2 cores); ``"paper"``: more starts, same code.
VPRM_PROFILES = {"ci": VPRMProfile(2, 1, 3), "paper": VPRMProfile(8, 4, 10)}


def run_cv(data: xr.Dataset, models, *, n_starts: int, seed: int = 0, monthly_from_daily: bool = False,
           progress: bool = True) -> dict:
    """Leave-one-site-out for each model; skill at the data's scale (and monthly, for daily data).

    Returns
    -------
    dict
        ``pred[model]`` (Dataset), ``fits[model][site]`` (FitResult), ``skill[model]``
        (:func:`skill_table` at the native scale), ``skill_monthly[model]`` (daily data only),
        ``mask`` (samples evaluated: observed indices and truth).
    """
    from tqdm import tqdm

    classes = {s: c for s, c in zip(data["site"].values.tolist(), data["igbp"].values.tolist())}
    mask = training_mask(data)
    out = {"pred": {}, "fits": {}, "skill": {}, "skill_monthly": {}, "mask": mask, "classes": classes}
    for m in tqdm(list(models), desc="leave-one-site-out", disable=None if progress else True):
        pred, fits = leave_one_site_out(m, data, n_starts=n_starts, seed=seed)
        out["pred"][m], out["fits"][m] = pred, fits
        out["skill"][m] = skill_table(pred, data, classes=classes, mask=mask)
        if monthly_from_daily:
            pm, tm = to_monthly(pred, data.assign(index_filled=("sample", np.where(mask, 0.0, 1.0))))
            out["skill_monthly"][m] = skill_table(pm, tm, classes=classes, mask=tm["index_filled"].values <= 0.5)
    return out


def temporal_holdout(variant, data: xr.Dataset, *, site: str, split: str, n_starts: int = 2,
                     seed: int = 0) -> tuple[xr.Dataset, dict]:
    """Fit on ``site`` before ``split`` (YYYY-MM-DD), predict the whole site; skill after ``split``.

    A within-site check (the site's own class is in training), *not* leave-one-site-out.
    Returns the predictions of that site and ``{"fit": FitResult, "skill": skill dict}``.
    """
    sel = np.flatnonzero(data["site"].values == site)
    d = data.isel(sample=sel)
    before = d["time"].values < np.datetime64(split)
    base = training_mask(d)
    fit = fit_variant(variant, d, n_starts=n_starts, seed=seed, mask=base & before)
    pred = predict(variant, fit.params, d)
    return pred, {"fit": fit, "skill": skill(pred, d, mask=base & ~before)}


def flat_skill(table: dict) -> dict:
    """Pooled skill keys (``nee_r2``, ``nee_rmse``, ``nee_bias``, ``gpp_r2``, ...) of a :func:`skill_table`."""
    return {k: v for k, v in table["pooled"].items() if not k.endswith("_n")}


def leave_one_year_out(variants, data: xr.Dataset, *, site: str, n_starts: int = 1, seed: int = 0,
                       min_samples: int = 6) -> dict:
    """Leave-one-year-out at one index site: each variant fitted on the site's other years, scored on the held-out year.

    A within-site comparison of greenness and water inputs (EVI vs NDVI/NIRv/kNDVI/fAPAR, with and without
    LSWI): the site's own class is in training, so this is not a test of transfer to new towers.

    Returns
    -------
    dict
        ``{variant: {"nee_r2", "gpp_r2", "reco_r2", "nee_rmse", ..., "n_years"}}`` pooled over held-out years.
    """
    sel = np.flatnonzero(data["site"].values == site)
    d = data.isel(sample=sel)
    years = pd.DatetimeIndex(d["time"].values).year.to_numpy()
    base = training_mask(d)
    out = {}
    for v in variants:
        pred = xr.Dataset({k: ("sample", np.full(d.sizes["sample"], np.nan)) for k in FLUXES})
        used = []
        for yv in np.unique(years):
            test = base & (years == yv)
            train = base & (years != yv)
            if test.sum() < 1 or train.sum() < min_samples:
                continue
            fit = fit_variant(v, d, n_starts=n_starts, seed=seed, mask=train)
            p = predict(v, fit.params, d)
            for k in FLUXES:
                pred[k].values[test] = p[k].values[test]
            used.append(int(yv))
        sk = skill(pred, d, mask=base)
        out[v] = {**{k: val for k, val in sk.items() if not k.endswith("_n")}, "n_years": len(used),
                  "n": sk["nee_n"]}
    return out
