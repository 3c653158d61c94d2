"""Within-class leave-one-site-out evaluation of daily GPP models, null baselines, nested selection, skill.

The headline design (:func:`within_class_loso`): for each vegetation class with at least ``min_towers``
towers, every tower is held out in turn and each model is fitted on the *other towers of its class*
(per-class parameters, as VPRM is used), then predicts the held-out tower. The recommended model
``vprm_plus`` is not a fixed formula: inside every training fold a site-grouped inner cross-validation
over the training towers picks one of the candidate upgrades (terms and constants), preferring the simpler
candidate when the inner R² differ by less than ``tol``; the held-out tower never enters that choice.

Null baselines, fitted on the same training towers: ``seasonal_cycle`` (their mean day-of-year GPP),
``lue`` (GPP = eps PAR fAPAR) and ``linear`` (OLS on 1, T, PAR x fAPAR, VPD).

Skill (:func:`skill_sums`, :func:`r2_with_ci`, :func:`gain_ci`): R² = 1 - SSE/SST pooled over the held-out
towers' days, with site-block bootstrap intervals (towers resampled with replacement), deseasonalised
skill (:func:`anomalies`: each tower's own smoothed day-of-year mean removed from truth and prediction) and
annual sums (:func:`annual_sums`).

Neighbouring towers (:func:`tower_neighbourhoods`): with ``neighbourhood`` given, :func:`within_class_loso`
leaves every tower of the held-out tower's neighbourhood out of its training set, the inner selection assigns whole
neighbourhoods to its folds, and :func:`loso_metrics` resamples whole neighbourhoods in its intervals;
:func:`neighbourhood_control` sets that against the leave-one-site-out numbers.

Public names: :func:`within_class_loso`, :func:`seasonal_cycle_null`, :func:`linear_null`, :func:`skill_sums`,
:func:`r2_from_sums`, :func:`r2_with_ci`, :func:`gain_ci`, :func:`anomalies`, :func:`annual_sums`,
:func:`monthly_means`, :func:`class_groups`, :func:`bound_table`, :func:`loso_metrics`, :func:`selection_summary`,
:func:`holdout_metrics`, :func:`stress_test`, :func:`metrics_frame`, :class:`ForestProfile`,
:data:`FOREST_PROFILES`, :func:`cross_class_transfer`, :func:`tower_neighbourhoods`,
:func:`neighbourhood_control`, :data:`CANDIDATES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .lue import LUE_MODELS, LUEModel, fit_lue, lue_inputs, predict_gpp
from .towers import great_circle_km

__all__ = ["within_class_loso", "seasonal_cycle_null", "linear_null", "skill_sums", "r2_from_sums", "r2_with_ci",
           "gain_ci", "anomalies", "annual_sums", "monthly_means", "class_groups", "bound_table", "loso_metrics",
           "selection_summary", "holdout_metrics", "stress_test", "metrics_frame", "ForestProfile", "FOREST_PROFILES",
           "cross_class_transfer", "tower_neighbourhoods", "neighbourhood_control",
           "CANDIDATES"]

#: Candidate upgrades for the nested choice of ``vprm_plus`` (terms and constants).
CANDIDATES = [LUE_MODELS["vprm"], LUE_MODELS["vprm_vpd"], LUE_MODELS["vprm_vpd"].with_constants(vpd0=5.0),
              LUE_MODELS["vprm_sm"], LUE_MODELS["vprm_sm"].with_constants(w_crit=0.3), LUE_MODELS["vprm_vpd_sm"]]


def class_groups(ds: xr.Dataset, *, min_towers: int = 3, exclude=()) -> dict[str, list[str]]:
    """IGBP class -> towers with GPP (not in ``exclude``), for classes with at least ``min_towers`` towers."""
    has = np.isfinite(ds["gpp"].values).sum(axis=1) > 0
    out = {}
    for c in sorted(set(ds["igbp"].values.tolist())):
        members = [s for s, ok, cc in zip(ds["site"].values, has, ds["igbp"].values) if cc == c and ok and s not in exclude]
        if len(members) >= min_towers:
            out[c] = members
    return out


def tower_neighbourhoods(ds: xr.Dataset, radius_km: float) -> dict[str, str]:
    """Tower -> neighbourhood label: towers closer than ``radius_km`` (great circle) are linked, and linked
    towers form one neighbourhood (single linkage), whatever their class. The label joins the sorted tower ids
    with ``+``; a tower without neighbours is its own neighbourhood. ``radius_km = 0`` gives every tower its own.

    Raises
    ------
    ValueError
        A tower has no coordinates, or ``radius_km`` is negative.
    """
    if not radius_km >= 0:
        raise ValueError(f"neighbourhood radius must be >= 0 km, got {radius_km!r}")
    sites = [str(v) for v in ds["site"].values]
    lat, lon = ds["lat"].values.astype(float), ds["lon"].values.astype(float)
    bad = [s for s, a, b in zip(sites, lat, lon) if not (np.isfinite(a) and np.isfinite(b))]
    if bad:
        raise ValueError(f"towers {bad} have no coordinates (lat/lon of the site table); neighbourhoods need them")
    d = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    parent = list(range(len(sites)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(d < radius_km, 1))):
        parent[root(int(i))] = root(int(j))
    members: dict[int, list[str]] = {}
    for i, s in enumerate(sites):
        members.setdefault(root(i), []).append(s)
    return {s: "+".join(sorted(members[root(i)])) for i, s in enumerate(sites)}


def seasonal_cycle_null(gpp: np.ndarray, train_rows, time, *, window: int = 15) -> np.ndarray:
    """Mean day-of-year GPP of the training towers (``train_rows`` of ``gpp[site, time]``), circularly smoothed."""
    doy = np.minimum(pd.DatetimeIndex(time).day_of_year.to_numpy(), 365)
    vals = gpp[train_rows]
    s = np.zeros(366)
    n = np.zeros(366)
    for r in vals:
        ok = np.isfinite(r)
        np.add.at(s, doy[ok], r[ok])
        np.add.at(n, doy[ok], 1)
    s, n = s[1:], n[1:]
    k = np.ones(2 * window + 1)
    ss = np.convolve(np.concatenate([s[-window:], s, s[:window]]), k, "valid")
    nn = np.convolve(np.concatenate([n[-window:], n, n[:window]]), k, "valid")
    clim = np.where(nn > 0, ss / np.maximum(nn, 1), np.nan)
    return clim[doy - 1]


def _linear_design(x: dict) -> np.ndarray:
    return np.column_stack([np.ones_like(x["t_day"]), x["t_day"], x["par_24h"] * x["green"], np.nan_to_num(x["vpd"])])


def linear_null(x: dict, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """OLS GPP ~ 1 + T_day + PAR24 x fAPAR + VPD fitted on ``train`` samples; predictions for all samples."""
    a = _linear_design(x)
    ok = train & np.isfinite(y) & np.all(np.isfinite(a), axis=1)
    coef, *_ = np.linalg.lstsq(a[ok], y[ok], rcond=None)
    return a @ coef


def _inner_folds(train_sites, folds: int, seed: int, neighbourhood: dict | None) -> list[np.ndarray]:
    """Inner selection folds: towers (or, with ``neighbourhood``, whole neighbourhoods) dealt out at random."""
    rng = np.random.default_rng(seed)
    if neighbourhood is None:
        order = rng.permutation(len(train_sites))
        return [np.asarray(train_sites)[order[i::folds]] for i in range(folds)]
    labels = sorted({neighbourhood[t] for t in train_sites})
    order = rng.permutation(len(labels))
    return [np.asarray([t for t in train_sites if neighbourhood[t] in {labels[k] for k in order[i::folds]}])
            for i in range(folds)]


def _inner_r2(model: LUEModel, x, y, train_sites, site_arr, *, folds: int, seed: int, subsample: int,
              neighbourhood: dict | None = None) -> float:
    groups = _inner_folds(train_sites, folds, seed, neighbourhood)
    sse = sst_y = sst_yy = n = 0.0
    for g in groups:
        held = np.isin(site_arr, g)
        fit = fit_lue(model, x, y, mask=np.isin(site_arr, train_sites) & ~held, n_starts=1, seed=seed,
                      subsample=subsample)
        p = predict_gpp(model, fit.params, x)
        ok = held & np.isfinite(y) & np.isfinite(p)
        sse += float(np.sum((p[ok] - y[ok]) ** 2))
        sst_y += float(np.sum(y[ok]))
        sst_yy += float(np.sum(y[ok] ** 2))
        n += ok.sum()
    return 1.0 - sse / (sst_yy - sst_y ** 2 / max(n, 1))


def within_class_loso(ds: xr.Dataset, models, *, min_towers: int = 3, holdout=(), candidates=None,
                      n_starts: int = 1, seed: int = 0, inner_folds: int = 3, inner_subsample: int = 2,
                      subsample: int = 1, tol: float = 0.002, progress: bool = True,
                      neighbourhood: dict | None = None) -> dict:
    """Within-class leave-one-site-out predictions of every model, the nulls and the nested ``vprm_plus``.

    Parameters
    ----------
    ds : xr.Dataset
        :func:`eoretrieval.carbon.towers.load_forest_towers`.
    models : list of str
        Fixed models of :data:`eoretrieval.carbon.lue.LUE_MODELS` to cross-validate (ablations).
    holdout : list of str
        Towers never used in any fit; scored with the models fitted on all other towers of their class.
    subsample, inner_subsample : int
        Fit on every n-th valid day (outer folds, inner selection folds); predictions cover every day.
    candidates : list of LUEModel
        Candidate upgrades for ``vprm_plus`` (default :data:`CANDIDATES`).
    neighbourhood : dict, optional
        :func:`tower_neighbourhoods`: the held-out tower's whole neighbourhood leaves its training set, and the
        inner selection folds take whole neighbourhoods. A tower whose training towers lie in fewer than two
        neighbourhoods is not predicted; it is listed in ``unscored`` with the reason.

    Returns
    -------
    dict
        ``pred[model]`` (array site x time; NaN where not predicted), ``fits[model][site]`` (LUEFit dicts),
        ``selected[site]`` (candidate chosen for ``vprm_plus`` in the fold), ``inner_r2[site]``,
        ``groups`` (class -> towers), ``holdout_pred[model]``, ``holdout_selected``, ``unscored`` (tower -> why),
        ``neighbourhood``.
    """
    from tqdm import tqdm

    candidates = list(CANDIDATES if candidates is None else candidates)
    x = lue_inputs(ds)
    y = ds["gpp"].values.ravel()
    ns, nt = ds.sizes["site"], ds.sizes["time"]
    site_arr = x["site"]
    sites = ds["site"].values.tolist()
    groups = class_groups(ds, min_towers=min_towers, exclude=holdout)
    names = list(models) + ["vprm_plus", "seasonal_cycle", "linear"]
    pred = {m: np.full((ns, nt), np.nan) for m in names}
    hold_pred = {m: np.full((ns, nt), np.nan) for m in names}
    fits = {m: {} for m in list(models) + ["vprm_plus"]}
    selected, inner, hold_sel = {}, {}, {}
    igbp = dict(zip(sites, ds["igbp"].values.tolist()))

    def training(held, members):
        if neighbourhood is None:
            return [t for t in members if t != held]
        return [t for t in members if neighbourhood[t] != neighbourhood[held]]

    jobs = [(c, s, training(s, members), False) for c, members in groups.items() for s in members]
    for h in holdout:
        if h not in igbp:
            raise ValueError(f"hold-out tower {h!r} is not in the data (towers: {sites})")
        if igbp[h] not in groups:
            raise ValueError(f"hold-out tower {h!r}: its class {igbp[h]} has fewer than {min_towers} other towers with "
                             "GPP, so no class model can be fitted for it")
        if not np.isfinite(ds["gpp"].sel(site=h).values).any():
            raise ValueError(f"hold-out tower {h!r} has no GPP to score against")
    jobs += [(igbp[h], h, training(h, groups[igbp[h]]), True) for h in holdout]
    unscored = {}
    for cls, held, train_sites, is_holdout in tqdm(jobs, desc="within-class leave-one-site-out",
                                                   disable=None if progress else True):
        n_units = len({neighbourhood[t] for t in train_sites}) if neighbourhood else len(train_sites)
        if n_units < 2:
            unscored[held] = (f"{len(train_sites)} training tower(s) of class {cls} in {n_units} neighbourhood(s) "
                              "outside its own; the nested selection needs at least 2")
            continue
        i = sites.index(held)
        train = np.isin(site_arr, train_sites)
        out = hold_pred if is_holdout else pred
        for m in models:
            f = fit_lue(m, x, y, mask=train, n_starts=n_starts, seed=seed, subsample=subsample)
            out[m][i] = predict_gpp(m, f.params, x).reshape(ns, nt)[i]
            if not is_holdout:
                fits[m][held] = f.as_dict()
        scores = {c.name: _inner_r2(c, x, y, train_sites, site_arr, folds=min(inner_folds, n_units),
                                    seed=seed, subsample=inner_subsample, neighbourhood=neighbourhood)
                  for c in candidates}
        best = max(scores.values())
        ok = [c for c in candidates if scores[c.name] >= best - tol]
        choice = min(ok, key=lambda c: (len(c.nonlinear), -scores[c.name]))
        f = fit_lue(choice, x, y, mask=train, n_starts=n_starts, seed=seed, subsample=subsample)
        out["vprm_plus"][i] = predict_gpp(choice, f.params, x).reshape(ns, nt)[i]
        out["seasonal_cycle"][i] = seasonal_cycle_null(ds["gpp"].values, [sites.index(t) for t in train_sites],
                                                       ds["time"].values)
        out["linear"][i] = linear_null(x, y, train).reshape(ns, nt)[i]
        if is_holdout:
            hold_sel[held] = choice.name
        else:
            selected[held] = choice.name
            inner[held] = scores
            fits["vprm_plus"][held] = {**f.as_dict(), "model": choice.name}
    return {"pred": pred, "fits": fits, "selected": selected, "inner_r2": inner, "groups": groups,
            "holdout_pred": hold_pred, "holdout_selected": hold_sel, "models": names, "unscored": unscored,
            "neighbourhood": neighbourhood}


def skill_sums(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-row (tower) sufficient statistics ``[n, sum y, sum y^2, SSE, sum (p - y)]`` over ``mask``."""
    p = np.where(mask, pred, 0.0)
    t = np.where(mask, truth, 0.0)
    return np.stack([mask.sum(1), t.sum(1), (t ** 2).sum(1), ((p - t) ** 2).sum(1), (p - t).sum(1)], axis=1).astype(float)


def r2_from_sums(s: np.ndarray, w: np.ndarray | None = None) -> float:
    """Pooled R² = 1 - SSE/SST from per-tower sums (optionally weighted by bootstrap counts ``w``)."""
    w = np.ones(len(s)) if w is None else w
    n, sy, syy, sse = (w @ s[:, k] for k in range(4))
    sst = syy - sy ** 2 / n if n > 0 else np.nan
    return float(1.0 - sse / sst) if n > 2 and sst > 0 else float("nan")


def _boot_weights(n_rows: int, n_boot: int, seed: int, blocks=None) -> np.ndarray:
    """Bootstrap counts per row: rows resampled with replacement, or whole ``blocks`` (a label per row)."""
    rng = np.random.default_rng(seed)
    if blocks is None:
        idx = rng.integers(0, n_rows, size=(n_boot, n_rows))
        return np.stack([np.bincount(r, minlength=n_rows) for r in idx]).astype(float)
    labels, inv = np.unique(np.asarray(blocks), return_inverse=True)
    idx = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    return np.stack([np.bincount(r, minlength=len(labels))[inv] for r in idx]).astype(float)


def r2_with_ci(s: np.ndarray, *, n_boot: int = 200, seed: int = 0, level: float = 0.9,
               blocks=None) -> tuple[float, list]:
    """Pooled R² and its site-block bootstrap interval (towers resampled with replacement; with ``blocks``, a
    label per tower, whole blocks such as neighbourhoods are resampled)."""
    w = _boot_weights(len(s), n_boot, seed, blocks)
    b = np.array([r2_from_sums(s, wi) for wi in w])
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return r2_from_sums(s), [float(v) for v in np.nanpercentile(b, q)]


def gain_ci(s_new: np.ndarray, s_ref: np.ndarray, *, n_boot: int = 200, seed: int = 0,
            level: float = 0.9, blocks=None) -> tuple[float, list]:
    """R² gain of one model over another with the same bootstrap resamples of towers (paired interval;
    ``blocks`` as in :func:`r2_with_ci`)."""
    w = _boot_weights(len(s_new), n_boot, seed, blocks)
    b = np.array([r2_from_sums(s_new, wi) - r2_from_sums(s_ref, wi) for wi in w])
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return r2_from_sums(s_new) - r2_from_sums(s_ref), [float(v) for v in np.nanpercentile(b, q)]


def anomalies(values: np.ndarray, mask: np.ndarray, time, *, window: int = 15) -> np.ndarray:
    """Remove each row's own smoothed day-of-year mean (over ``mask`` days) from ``values[site, time]``."""
    out = np.full(values.shape, np.nan)
    for i in range(values.shape[0]):
        if mask[i].sum() < 30:
            continue
        clim = seasonal_cycle_null(np.where(mask[i], values[i], np.nan)[None, :], [0], time, window=window)
        out[i] = values[i] - clim
    return out


def annual_sums(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray, time, *, min_fraction: float = 0.8):
    """Annual sums (g C m-2 yr-1) over the valid days of tower-years with >= ``min_fraction`` of days valid.

    Both sums use the same days and are scaled by 365.25 / n_valid. Returns ``(pred_sums, truth_sums)``.
    """
    years = pd.DatetimeIndex(time).year.to_numpy()
    ps, ts = [], []
    for i in range(pred.shape[0]):
        for yv in np.unique(years):
            m = mask[i] & (years == yv)
            if m.sum() >= min_fraction * 365:
                ps.append(pred[i, m].sum() * 365.25 / m.sum())
                ts.append(truth[i, m].sum() * 365.25 / m.sum())
    return np.array(ps), np.array(ts)


def monthly_means(values: np.ndarray, time) -> tuple[np.ndarray, np.ndarray]:
    """Monthly means of ``values[site, time]`` over all days (NaN if any day is NaN); returns (months, array)."""
    t = pd.DatetimeIndex(time)
    key = (t.year * 12 + t.month - 1).to_numpy()
    uk, inv = np.unique(key, return_inverse=True)
    out = np.full((values.shape[0], len(uk)), np.nan)
    for j in range(len(uk)):
        out[:, j] = values[:, inv == j].mean(axis=1)
    months = pd.to_datetime({"year": uk // 12, "month": uk % 12 + 1, "day": 1}).values
    return months, out


def bound_table(fits: dict) -> dict:
    """Per model and parameter: the fraction of training folds whose fit sits at a bound."""
    out = {}
    for m, per_site in fits.items():
        counts, n = {}, 0
        for f in per_site.values():
            n += 1
            for p in f["params"]:
                counts[p] = counts.get(p, 0) + (p in f["at_bound"])
        if n:
            out[m] = {p: c / n for p, c in counts.items()}
    return out


def _common_mask(res: dict, truth: np.ndarray, rows: list[int], names) -> np.ndarray:
    m = np.isfinite(truth[rows])
    for n in names:
        m &= np.isfinite(res["pred"][n][rows])
    return m


def loso_metrics(res: dict, ds: xr.Dataset, *, n_boot: int = 200, seed: int = 0, reference: str = "vprm",
                 nulls=("seasonal_cycle", "lue", "linear")) -> dict:
    """Reshape :func:`within_class_loso` output into the ``within_class_loso`` and ``null`` blocks of metrics.json.

    Every model of a class is scored on the same days (finite truth and every model finite) pooled over the
    held-out towers: ``gpp_r2`` with a site-block bootstrap ``gpp_r2_ci``, ``gpp_rmse``, ``gpp_bias``,
    ``gpp_anom_r2`` (+ CI), ``annual_r2`` (annual sums of tower-years with >= 80 % valid days),
    ``gain_over_vprm`` and its paired interval, ``n_sites``, ``n_days``. When ``res`` was made with a
    ``neighbourhood``, the intervals resample whole neighbourhoods and ``n_sites`` counts the scored towers.
    Returns ``{"within_class_loso": {class: {model: {...}}}, "null": {class: {null: {...}}}}``.
    """
    truth = ds["gpp"].values
    sites = ds["site"].values.tolist()
    time = ds["time"].values
    out, null = {}, {}
    nbh = res.get("neighbourhood")
    for cls, members in res["groups"].items():
        members = [s for s in members if s not in res.get("unscored", {})]
        if not members:
            continue
        blocks = None if nbh is None else [nbh[s] for s in members]
        rows = [sites.index(s) for s in members]
        mask = _common_mask(res, truth, rows, res["models"])
        t = truth[rows]
        ta = anomalies(t, mask, time)
        sums, block = {}, {}
        for m in res["models"]:
            p = res["pred"][m][rows]
            s = skill_sums(p, t, mask)
            r2, ci = r2_with_ci(s, n_boot=n_boot, seed=seed, blocks=blocks)
            pa = anomalies(p, mask, time)
            sa = skill_sums(pa, ta, mask & np.isfinite(ta) & np.isfinite(pa))
            ar2, aci = r2_with_ci(sa, n_boot=n_boot, seed=seed, blocks=blocks)
            ps, ts = annual_sums(p, t, mask, time)
            n = s[:, 0].sum()
            entry = {"gpp_r2": r2, "gpp_r2_ci": ci, "gpp_rmse": float(np.sqrt(s[:, 3].sum() / n)),
                     "gpp_bias": float(s[:, 4].sum() / n), "gpp_anom_r2": ar2, "gpp_anom_r2_ci": aci,
                     "annual_r2": float(1 - np.sum((ps - ts) ** 2) / np.sum((ts - ts.mean()) ** 2)) if len(ts) > 2 else None,
                     "annual_bias": float(np.mean(ps - ts)) if len(ts) else None, "n_tower_years": int(len(ts)),
                     "n_sites": len(members), "n_days": int(n)}
            sums[m] = s
            block[m] = entry
        for m in res["models"]:
            if m != reference:
                g, gci = gain_ci(sums[m], sums[reference], n_boot=n_boot, seed=seed, blocks=blocks)
                block[m][f"gain_over_{reference}"] = g
                block[m][f"gain_over_{reference}_ci"] = gci
        out[cls] = {m: v for m, v in block.items() if m not in nulls or m == "lue"}
        null[cls] = {m: block[m] for m in nulls if m in block}
    return {"within_class_loso": out, "null": null}


def selection_summary(res: dict) -> dict:
    """Per class: how often each candidate was chosen for ``vprm_plus`` inside the training folds."""
    out = {}
    for cls, members in res["groups"].items():
        counts = {}
        for s in members:
            if s not in res["selected"]:
                continue  # not predicted (``res["unscored"]``)
            c = res["selected"][s]
            counts[c] = counts.get(c, 0) + 1
        out[cls] = counts
    return out


def holdout_metrics(res: dict, ds: xr.Dataset) -> dict:
    """``{site: {model: {"gpp_r2", "gpp_rmse", "n_days"}}}`` for the never-fitted hold-out towers."""
    truth = ds["gpp"].values
    sites = ds["site"].values.tolist()
    out = {}
    for s in res["holdout_selected"]:
        i = sites.index(s)
        m = np.isfinite(truth[i])
        for n in res["models"]:
            m &= np.isfinite(res["holdout_pred"][n][i])
        out[s] = {}
        for n in res["models"]:
            sm = skill_sums(res["holdout_pred"][n][i][None], truth[i][None], m[None])
            out[s][n] = {"gpp_r2": r2_from_sums(sm), "gpp_rmse": float(np.sqrt(sm[0, 3] / max(sm[0, 0], 1))),
                         "n_days": int(sm[0, 0])}
        out[s]["vprm_plus"]["selected"] = res["holdout_selected"][s]
    return out


def stress_test(res: dict, ds: xr.Dataset, *, year: int = 2003, months=(6, 7, 8), models=("vprm", "vprm_plus"),
                dry_quantile: float = 0.25) -> dict:
    """Water stress on a drought summer and on dry towers, from the held-out predictions.

    ``drought``: per tower with data in ``year``, the observed and modelled mean GPP anomaly of ``months``
    of ``year`` relative to the same months of the other years, on days valid for all models (g C m-2 d-1).
    ``dry_sites``: daily GPP R² of each model over the towers whose mean relative soil water is in the
    lowest ``dry_quantile``.
    """
    truth = ds["gpp"].values
    t = pd.DatetimeIndex(ds["time"].values)
    sites = ds["site"].values.tolist()
    held = [s for members in res["groups"].values() for s in members]
    rows = [sites.index(s) for s in held]
    mask = _common_mask(res, truth, rows, models)
    summer = np.isin(t.month, months)
    drought = {}
    for k, i in enumerate(rows):
        yr = mask[k] & summer & (t.year == year)
        other = mask[k] & summer & (t.year != year)
        if yr.sum() < 20 or other.sum() < 20:
            continue
        drought[sites[i]] = {"obs": float(truth[i, yr].mean() - truth[i, other].mean()), "n_days": int(yr.sum()),
                             **{m: float(res["pred"][m][i, yr].mean() - res["pred"][m][i, other].mean()) for m in models}}
    w = np.array([np.nanmean(ds["wrel"].values[i]) for i in rows])
    dry = np.asarray(rows)[w <= np.nanquantile(w, dry_quantile)].tolist()
    drows = [rows.index(i) for i in dry]
    dry_skill = {m: r2_from_sums(skill_sums(res["pred"][m][dry], truth[dry], mask[drows])) for m in models}
    summ = {}
    if drought:
        obs = np.array([v["obs"] for v in drought.values()])
        for m in models:
            mod = np.array([v[m] for v in drought.values()])
            summ[m] = {"sign_agreement": float(np.mean(np.sign(mod) == np.sign(obs))),
                       "mean_abs_error": float(np.mean(np.abs(mod - obs)))}
    return {"year": year, "drought": drought, "drought_summary": summ, "dry_sites": [sites[i] for i in dry],
            "dry_site_gpp_r2": dry_skill}


def metrics_frame(block: dict, keys=("gpp_r2", "gpp_r2_ci", "gpp_anom_r2", "gain_over_vprm", "gain_over_vprm_ci",
                                     "annual_r2", "gpp_rmse", "gpp_bias", "nee_r2", "n_sites")) -> pd.DataFrame:
    """A table (class, model) x metric from ``{class: {model: {metric: value}}}``; intervals as "lo..hi" text."""
    rows = []
    for cls, models in block.items():
        for m, e in models.items():
            row = {"class": cls, "model": m}
            for k in keys:
                v = e.get(k)
                row[k] = f"{v[0]:.2f}..{v[1]:.2f}" if isinstance(v, (list, tuple)) else v
            rows.append(row)
    return pd.DataFrame(rows).set_index(["class", "model"])


@dataclass(frozen=True)
class ForestProfile:
    """Sizes of the forest-tower evaluation per profile (optimiser starts, day subsampling, inner folds, bootstrap)."""

    n_starts: int
    subsample: int
    inner_folds: int
    inner_subsample: int
    n_boot: int


#: ``"ci"``: minutes on 2 shared cores; ``"paper"``: every day, more starts and resamples.
FOREST_PROFILES = {"ci": ForestProfile(1, 4, 2, 8, 200), "paper": ForestProfile(3, 1, 3, 1, 2000)}


def cross_class_transfer(ds: xr.Dataset, groups: dict, *, models=("vprm",), n_starts: int = 1, seed: int = 0,
                         subsample: int = 1) -> dict:
    """Side result, labelled as such: each class predicted with parameters fitted on the *other* classes' towers.

    Returns ``{"label": ..., class: {model: {"gpp_r2", "n_sites"}}}`` (daily GPP pooled over the class's towers).
    """
    x = lue_inputs(ds)
    y = ds["gpp"].values.ravel()
    sites = ds["site"].values.tolist()
    out = {"label": "cross-class transfer (side result, not the headline): fitted on the other classes' towers"}
    for cls, members in groups.items():
        others = [s for c, m in groups.items() if c != cls for s in m]
        rows = [sites.index(s) for s in members]
        out[cls] = {}
        for m in models:
            f = fit_lue(m, x, y, mask=np.isin(x["site"], others), n_starts=n_starts, seed=seed, subsample=subsample)
            p = predict_gpp(m, f.params, x).reshape(ds["gpp"].shape)[rows]
            t = ds["gpp"].values[rows]
            out[cls][m] = {"gpp_r2": r2_from_sums(skill_sums(p, t, np.isfinite(p) & np.isfinite(t))),
                           "n_sites": len(members)}
    return out


def _pooled_r2(pred: np.ndarray, truth: np.ndarray, rows: list[int], other: np.ndarray | None = None) -> float | None:
    """Pooled R² of ``pred`` over ``rows`` on the days where the truth, ``pred`` (and ``other``) are finite."""
    if not rows:
        return None
    m = np.isfinite(truth[rows]) & np.isfinite(pred[rows])
    if other is not None:
        m &= np.isfinite(other[rows])
    return r2_from_sums(skill_sums(pred[rows], truth[rows], m))


def neighbourhood_control(ds: xr.Dataset, res: dict, *, radius_km: float = 30.0, sensitivity_km=(10.0, 100.0),
                          models=("lue", "vprm"), model: str = "vprm_plus", reference: str = "vprm",
                          n_boot: int = 200, seed: int = 0, progress: bool = True, **loso_kw) -> dict:
    """The leave-one-site-out of ``res`` again with each held-out tower's neighbourhood left out of training.

    Runs :func:`within_class_loso` (``models`` plus the nested ``vprm_plus`` and the nulls) with
    :func:`tower_neighbourhoods` at ``radius_km`` and scores it with :func:`loso_metrics` (intervals over whole
    neighbourhoods); ``sensitivity_km`` repeats it at other radii (R² and gain only). ``loso_kw`` are the fold
    settings of ``res`` (``n_starts``, ``inner_folds``, ``subsample``, ``inner_subsample``, ``holdout``).

    Returns
    -------
    dict
        ``radius_km``; ``neighbourhoods`` (label -> towers, those with more than one tower);
        ``neighbourhood_span_km`` (label -> largest distance between two of its towers); ``classes[cls]``:
        per model the :func:`loso_metrics` entry, and ``changed``: the towers whose training set lost a
        neighbour of their class, with the pooled R² of ``model`` over them in ``res`` (``gpp_r2_loso``) and here
        (``gpp_r2_neighbourhoods_out``) on the same days; ``selection`` (candidate counts per class);
        ``unscored`` (tower -> why); ``sensitivity[radius]`` per class ``{model}_gpp_r2``,
        ``{reference}_gpp_r2``, ``gain_over_{reference}``, ``n_changed``.
    """
    truth = ds["gpp"].values
    sites = ds["site"].values.tolist()
    out: dict = {"radius_km": float(radius_km), "sensitivity": {}}
    for r in (radius_km, *sensitivity_km):
        nbh = tower_neighbourhoods(ds, r)
        rn = within_class_loso(ds, list(models), neighbourhood=nbh, seed=seed, progress=progress, **loso_kw)
        met = loso_metrics(rn, ds, n_boot=n_boot, seed=seed, reference=reference)
        blocks = {}
        for cls, members in rn["groups"].items():
            changed = [s for s in members if any(nbh[t] == nbh[s] for t in members if t != s)]
            rows = [sites.index(s) for s in changed if s not in rn["unscored"]]
            entry = {**met["within_class_loso"].get(cls, {}), **met["null"].get(cls, {})}
            entry["changed"] = {"towers": changed,
                                "gpp_r2_loso": _pooled_r2(res["pred"][model], truth, rows, rn["pred"][model]),
                                "gpp_r2_neighbourhoods_out": _pooled_r2(rn["pred"][model], truth, rows,
                                                                        res["pred"][model])}
            blocks[cls] = entry
        if r == radius_km:
            out["neighbourhoods"] = {lab: [s for s in sites if nbh[s] == lab]
                                     for lab in sorted(set(nbh.values())) if "+" in lab}
            rows_of = {lab: [sites.index(s) for s in members] for lab, members in out["neighbourhoods"].items()}
            lat, lon = ds["lat"].values.astype(float), ds["lon"].values.astype(float)
            out["neighbourhood_span_km"] = {
                lab: float(great_circle_km(lat[ix][:, None], lon[ix][:, None], lat[ix][None, :], lon[ix][None, :]).max())
                for lab, ix in rows_of.items()}
            out["classes"] = blocks
            out["selection"] = selection_summary(rn)
            out["unscored"] = rn["unscored"]
        else:
            out["sensitivity"][f"{r:g}"] = {
                cls: {f"{model}_gpp_r2": b.get(model, {}).get("gpp_r2"),
                      f"{reference}_gpp_r2": b.get(reference, {}).get("gpp_r2"),
                      f"gain_over_{reference}": b.get(model, {}).get(f"gain_over_{reference}"),
                      "n_changed": len(b["changed"]["towers"])} for cls, b in blocks.items()}
    return out
