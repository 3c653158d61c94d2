"""Study 1, second version: every method on a family of unseen test worlds, scored at the scales users read.

The notebook ``01_nox_osse`` calls these functions; they hold the study's logic so that it is tested.

Methods (all given the same observations, winds and lifetimes; see :func:`estimate_world`):

- ``smaat_unet`` and ``vae`` (ensemble mean): the committed networks (:mod:`eoretrieval.nox.train`);
- further committed networks passed to :func:`load_networks` as ``extra`` (e.g. ``smaat_unet_pattern``, the
  SmaAt-UNet given the prior's pattern instead of the prior, so that its level comes from the columns alone);
  :func:`methods_of` lists them after ``smaat_unet``;
- ``flux_divergence``: :func:`~eoretrieval.nox.flux_divergence.flux_divergence_world` (days without any
  observation take the method's own period mean, as Beirle et al. average over time);
- ``flux_divergence_7d``: its trailing 7-day mean (:func:`~eoretrieval.nox.flux_divergence.flux_divergence_trailing`),
  the same week of observations the networks' ``*_7d`` inputs hold: equal information at the daily scale;
- ``variational``: :func:`~eoretrieval.nox.variational.variational_inversion` cycling its own analyses (never the
  true state), with the prior error estimated on the training worlds, on a subset of days (it is ~300x slower);
- ``prior``: the world generator's mean inventory (:func:`~eoretrieval.nox.inventory.expected_inventory`);
- ``memorisation``: the mean true map of the training worlds, with no observation at all (a network that has
  memorised its training worlds cannot do better than this on an unseen inventory).

Scales (:func:`scale_scores`): 0.25° daily cells; 1° monthly means; the period totals of the 20 largest true
sources, integrated over 5×5 cells around each (Beirle et al.'s source-integrated use of flux divergence); the
monthly domain totals; the trend of each region's total between the first and the second year.

Uncertainty of the cVAE (:func:`fit_inflation`, :func:`vae_scores`): the latent's ensemble is inflated around
its mean by one factor per scale, fitted on the calibration worlds (:mod:`eoretrieval.nox.calibrate`; never the
test worlds); coverage and spread-skill are then measured on the test worlds.

Public names: :class:`Networks`, :data:`METHODS`, :func:`load_networks`, :func:`estimate_world`,
:func:`methods_of`, :func:`level_estimates`, :func:`scale_scores`, :func:`amf_bias_diagnostic`, :func:`scale_views`, :func:`critical_inflation`,
:func:`fit_inflation`, :func:`inflate`, :func:`vae_scores`, :func:`aggregate`, :func:`trend_by_region`,
:func:`evaluation_days`, :func:`shuffled_observations`, :func:`anomaly_coherence`, :func:`anomaly_skill`,
:data:`ANOMALY_TOP_FRACTION`, :func:`paired_world_gain`, :func:`inventory_table`,
:func:`load_world_files`, :func:`targets_by_world`, :func:`coverage_vs_amf_bias`, :func:`fill_gaps`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..conventions import LAT, LON, MEMBER, TIME
from ..errors import DataError
from ..targets import Target, evaluate_targets
from ..verify import corr, interval_coverage, rmse, spread_skill_ratio
from .scales import (cell_area, coarsen_monthly, fill_gaps, monthly_domain_totals, regional_totals,  # noqa: F401
                     source_totals_error)

__all__ = ["Networks", "METHODS", "methods_of", "load_networks", "estimate_world", "level_estimates", "scale_scores", "scale_views",
           "critical_inflation", "fit_inflation", "inflate", "vae_scores", "aggregate", "amf_bias_diagnostic",
           "amf_bias_summary", "trend_by_region",
           "evaluation_days", "SCALES", "shuffled_observations", "anomaly_coherence", "anomaly_skill",
           "ANOMALY_TOP_FRACTION", "paired_world_gain", "inventory_table", "load_world_files", "require_training_grid", "targets_by_world", "coverage_vs_amf_bias", "WORLD_VARIABLES", "fill_gaps"]

#: The methods of the study, in table order.
METHODS = ("smaat_unet", "vae", "flux_divergence", "flux_divergence_7d", "variational", "prior", "memorisation")
#: Share of the grid's cells, those with the largest mean true emission, that :func:`anomaly_skill` scores (the
#: day-to-day control of notebook 01; the top 10 % of the first review that found the memorised map).
ANOMALY_TOP_FRACTION = 0.1
#: The scales at which the cVAE's intervals are calibrated and scored.
SCALES = ("cell", "deg1", "total")


@dataclass
class Networks:
    """The committed networks of the study and what the evaluation may know of their training worlds."""

    smaat: torch.nn.Module
    smaat_obj: object
    smaat_norm: object
    smaat_manifest: dict
    vae: torch.nn.Module
    vae_obj: object
    vae_norm: object
    vae_manifest: dict
    memorisation: xr.DataArray
    training_worlds: dict
    #: further networks, name -> (model, objective, normalisation, manifest), estimated like ``smaat_unet``
    extra: dict = field(default_factory=dict)

    @property
    def alpha(self) -> dict:
        """The cVAE's spread inflation per scale (fitted on the validation worlds)."""
        cal = self.vae_norm.extra.get("calibration")
        if not cal:
            raise DataError("cVAE artefact: normalisation.json has no 'calibration'; retrain with "
                            "python -m eoretrieval.train nox --model vae")
        return cal["alpha"]


def load_networks(smaat_folder, vae_folder, *, device: str = "cpu", extra: dict | None = None) -> Networks:
    """Load both artefacts, the memorisation map and the training-world description (``training_worlds.json``).

    ``extra`` maps a method name to the folder of a further deterministic network (a SmaAt-UNet artefact); it must
    have been trained on the same training worlds as ``smaat_folder`` (its test worlds are then unseen too).

    Raises
    ------
    DataError
        A file of an artefact is missing, or an extra network was trained on other worlds (the message names it).
    ValueError
        An extra name is one of :data:`METHODS`.
    """
    from .train import load_artifact

    smaat, smaat_obj, smaat_norm, smaat_manifest = load_artifact(smaat_folder, device=device)
    vae, vae_obj, vae_norm, vae_manifest = load_artifact(vae_folder, device=device)
    folder = Path(smaat_folder)
    for name in ("memorisation.nc", "training_worlds.json"):
        if not (folder / name).exists():
            raise DataError(f"{folder / name}: missing; retrain with python -m eoretrieval.train nox")
    memo = xr.load_dataarray(folder / "memorisation.nc")
    info = json.loads((folder / "training_worlds.json").read_text())
    loaded = {}
    for name, path in (extra or {}).items():
        if name in METHODS:
            raise ValueError(f"extra network name {name!r} is already a method; expected a new name")
        model, obj, norm, manifest = load_artifact(path, device=device)
        seeds = manifest.get("data_checksums", {}).get("train_world_seeds")
        if seeds != smaat_manifest.get("data_checksums", {}).get("train_world_seeds"):
            raise DataError(f"{Path(path) / 'manifest.json'}: trained on worlds {seeds}; expected the training worlds "
                            f"of {folder} ({info.get('seeds')})")
        loaded[name] = (model, obj, norm, manifest)
    return Networks(smaat, smaat_obj, smaat_norm, smaat_manifest, vae, vae_obj, vae_norm, vae_manifest, memo, info,
                    loaded)


def methods_of(nets: Networks) -> tuple[str, ...]:
    """:data:`METHODS` with the extra networks of ``nets`` inserted after ``smaat_unet`` (table order)."""
    i = METHODS.index("smaat_unet") + 1
    return METHODS[:i] + tuple(nets.extra) + METHODS[i:]


def evaluation_days(world: xr.Dataset, *, stride: int, n_variational: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Every ``stride``-th day of a world from its second day, and ``n_variational`` days of the first year plus the
    same calendar days of the second (so that the variational inversion's subset has a trend too); the first index
    holds the second's days as well, so that every method is scored on them.

    Raises
    ------
    DataError
        If the world does not span two calendar years.
    """
    from .evaluate import evenly_spaced

    times = pd.DatetimeIndex(world[TIME].values)
    years = sorted(set(times.year))
    if len(years) < 2:
        raise DataError(f"{world.attrs.get('title', 'NOx world')}: spans one calendar year; the trend needs two")
    first = times[(times.year == years[0])][10:-10]
    var = evenly_spaced(first, n_variational)
    var = var.append(pd.DatetimeIndex([d.replace(year=years[-1]) for d in var]))
    days = times[1:][::stride].union(var)   # every method is also scored on the variational days
    return days, var


def _memorised(memo: xr.DataArray, template: xr.DataArray) -> xr.DataArray:
    """The memorised map on every day of ``template`` (on another domain: the same array, pasted)."""
    if memo.shape != template.shape[1:]:
        raise DataError(f"memorisation map has shape {memo.shape}; the world's grid is {template.shape[1:]}")
    vals = np.broadcast_to(memo.values[None], template.shape).astype(np.float32)
    return xr.DataArray(vals, dims=(TIME, LAT, LON), coords={k: template[k] for k in (TIME, LAT, LON)},
                        attrs={"units": memo.attrs.get("units", "mol m-2 s-1"),
                               "long_name": "NOx emission, memorisation baseline"})


def level_estimates(world: xr.Dataset, days, nets: Networks, *, device: str = "cpu") -> dict:
    """The estimates whose monthly domain totals the level section compares (:mod:`eoretrieval.nox.levels`): the
    networks (``smaat_unet`` and the extra ones; not the cVAE, whose 16 members cost ten times more), the 7-day flux
    divergence (gap-filled) and the prior, each (time, lat, lon) on ``days``. Cheaper than :func:`estimate_world`,
    for worlds scored on their totals only (calibration worlds, ground-calibrated columns).
    """
    from .baselines import get_baseline
    from .evaluate import predict_emissions

    est = {"smaat_unet": predict_emissions(nets.smaat, nets.smaat_obj, world, days, nets.smaat_norm, device=device)}
    for name, (model, obj, norm, _) in nets.extra.items():
        est[name] = predict_emissions(model, obj, world, days, norm, device=device)
    est["flux_divergence_7d"] = fill_gaps(get_baseline("flux_divergence_7d")(world, days))
    est["prior"] = get_baseline("prior")(world, days)
    return est


def estimate_world(world: xr.Dataset, days, nets: Networks, *, var_days=(), n_members: int = 16, seed: int = 0,
                   spinup_days: int = 3, device: str = "cpu", progress: bool = False):
    """Every method's estimate of ``days`` of one world.

    Returns
    -------
    (estimates, vae_ensemble, timing)
        ``estimates``: method → (time, lat, lon) (``variational``: on ``var_days`` only, absent if none; the
        extra networks of ``nets`` under their names);
        ``vae_ensemble``: (member, time, lat, lon); ``timing``: ``<method>_s_per_day``.
    """
    from .baselines import get_baseline
    from .evaluate import predict_emissions, timed

    days = pd.DatetimeIndex(days)
    n = len(days)
    est, timing = {}, {}
    est["smaat_unet"], timing["smaat_unet_s_per_day"] = timed(
        lambda: predict_emissions(nets.smaat, nets.smaat_obj, world, days, nets.smaat_norm, device=device), n_days=n)
    ens, timing["vae_s_per_day"] = timed(
        lambda: predict_emissions(nets.vae, nets.vae_obj, world, days, nets.vae_norm, n_samples=n_members,
                                  seed=seed, device=device), n_days=n)
    est["vae"] = ens.mean(MEMBER).assign_attrs(ens.attrs)
    for name, (model, obj, norm, _) in nets.extra.items():
        est[name], timing[f"{name}_s_per_day"] = timed(
            lambda m=model, o=obj, nm=norm: predict_emissions(m, o, world, days, nm, device=device), n_days=n)
    fd, timing["flux_divergence_s_per_day"] = timed(lambda: get_baseline("flux_divergence")(world, days), n_days=n)
    est["flux_divergence"] = fill_gaps(fd)
    fd7, timing["flux_divergence_7d_s_per_day"] = timed(lambda: get_baseline("flux_divergence_7d")(world, days),
                                                        n_days=n)
    est["flux_divergence_7d"] = fill_gaps(fd7)
    est["prior"] = get_baseline("prior")(world, days)
    est["memorisation"] = _memorised(nets.memorisation, world["emission"].sel({TIME: days}))
    if len(var_days):
        var = get_baseline("variational")(world, pd.DatetimeIndex(var_days), spinup_days=spinup_days,
                                          prior_rel_error=nets.training_worlds["prior_rel_error"], progress=progress)
        est["variational"] = var
        timing["variational_s_per_day"] = float(var.attrs["seconds_per_day"])
    return est, ens, timing


def trend_by_region(emission: xr.DataArray, regions: dict) -> dict[str, float]:
    """Percentage change of each region's mean total from the first to the last calendar year of ``emission``."""
    tot = regional_totals(emission, regions)
    years = tot[TIME].dt.year
    first, last = int(years.min()), int(years.max())
    if first == last:
        raise DataError("trend_by_region: the days span one calendar year; expected two")
    a = tot.where(years == first).mean(TIME)
    b = tot.where(years == last).mean(TIME)
    return {str(r): float(100.0 * (b.sel(region=r) / a.sel(region=r) - 1.0)) for r in tot["region"].values}


def scale_scores(pred: xr.DataArray, truth: xr.DataArray, regions: dict, *, n_top: int = 20) -> dict:
    """Scores of one estimate at every scale (see the module text); ``pred`` and ``truth`` (time, lat, lon), same units.

    Returns
    -------
    dict
        ``cell_daily`` and ``deg1_monthly`` (``rmse`` in the units of ``truth``, ``corr`` the mean spatial
        correlation), ``top{n}_abs_rel_err``, ``total_abs_rel_err`` (monthly domain totals),
        ``trend_abs_err_pp`` (mean over regions), ``trend_pct`` (region → estimate).

    Raises
    ------
    DataError
        If ``pred`` has NaNs or units other than ``truth``'s.
    """
    pred = pred.sel({TIME: truth[TIME]}).transpose(TIME, LAT, LON)
    truth = truth.transpose(TIME, LAT, LON)
    if pred.attrs.get("units") != truth.attrs.get("units"):
        raise DataError(f"estimate: units {pred.attrs.get('units')!r}; expected {truth.attrs.get('units')!r}")
    if bool(pred.isnull().any()):
        raise DataError(f"estimate {pred.name or ''}: has NaN values; expected a complete map every day")
    out = {"cell_daily": {"rmse": float(rmse(pred, truth)),
                          "corr": float(corr(pred, truth, dim=(LAT, LON)).mean())}}
    # months without an evaluated day (a sparse subset of days) are dropped, not scored as NaN
    pm = coarsen_monthly(pred, factor=4).dropna(TIME, how="all")
    tm = coarsen_monthly(truth, factor=4).dropna(TIME, how="all")
    out["deg1_monthly"] = {"rmse": float(rmse(pm, tm)), "corr": float(corr(pm, tm, dim=(LAT, LON)).mean())}
    out[f"top{n_top}_abs_rel_err"] = source_totals_error(pred, truth, n=n_top, halfwidth=2)["abs_rel_err"]
    mt, mp = monthly_domain_totals(truth), monthly_domain_totals(pred)
    out["total_abs_rel_err"] = float(np.abs(mp / mt - 1.0).mean())
    tp, tt = trend_by_region(pred, regions), trend_by_region(truth, regions)
    out["trend_abs_err_pp"] = float(np.mean([abs(tp[r] - tt[r]) for r in tt]))
    out["trend_pct"] = tp
    return out


def amf_bias_diagnostic(pred: xr.DataArray, truth: xr.DataArray, amf_bias: float, *,
                        reference: xr.DataArray | None = None) -> dict:
    """How much of an estimate's monthly domain-total error is the world's systematic air-mass-factor bias.

    Every world multiplies all its columns by ``1 + amf_bias`` (:mod:`eoretrieval.nox.tropomi_operator`); no method
    is told the bias. An estimate linear in the column excess (the scale-invariant networks, flux divergence)
    carries it into its totals. This diagnostic divides the estimate by ``1 + amf_bias`` (an oracle: it knows the
    bias, which no method does) and scores the monthly domain totals again; it is reported beside the honest
    score, never in place of it.

    With ``reference`` (a (lat, lon) map in the units of ``truth``, e.g. the training worlds' mean map) the
    world's level is also returned, as its mean domain total over the reference's: an estimate that is pulled toward
    the levels it was trained on has a total ratio that falls as this level rises.

    Returns
    -------
    dict
        ``amf_bias``; ``total_signed_rel_err`` (mean of estimate/truth − 1 over the months);
        ``total_abs_rel_err``; ``total_abs_rel_err_bias_removed`` (the same after dividing by ``1 + amf_bias``);
        with ``reference``, ``level_vs_reference``.
    """
    pred = pred.sel({TIME: truth[TIME]})
    mt, mp = monthly_domain_totals(truth), monthly_domain_totals(pred)
    r = (mp / mt).values
    out = {"amf_bias": float(amf_bias), "total_signed_rel_err": float(np.mean(r - 1.0)),
           "total_abs_rel_err": float(np.mean(np.abs(r - 1.0))),
           "total_abs_rel_err_bias_removed": float(np.mean(np.abs(r / (1.0 + amf_bias) - 1.0)))}
    if reference is not None:
        ref_total = float((reference * cell_area(reference)).sum((LAT, LON)))
        if not ref_total > 0:
            raise DataError("reference map: its domain total is not positive; expected a mean emission map")
        out["level_vs_reference"] = float(mt.mean()) / ref_total
    return out


def scale_views(emission: xr.DataArray) -> dict[str, xr.DataArray]:
    """The three scales of the interval scores: ``cell`` (as is), ``deg1`` (1° monthly), ``total`` (daily domain
    totals, mol s-1); ``emission`` may have a ``member`` dim."""
    return {"cell": emission, "deg1": coarsen_monthly(emission, factor=4),
            "total": (emission * cell_area(emission)).sum((LAT, LON)).assign_attrs(units="mol s-1")}


def critical_inflation(ens: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9) -> np.ndarray:
    """Per point, the smallest factor ``a`` for which ``inflate(ens, a)``'s central ``level`` interval holds the truth.

    Inflating the members about their mean by ``a`` moves the empirical quantiles to ``mean + a (q - mean)``, so
    the truth is covered iff ``a >= (y - mean) / (q_hi - mean)`` above the mean (or the mirror below it).
    """
    mu = ens.mean(MEMBER)
    lo = ens.quantile((1 - level) / 2, dim=MEMBER).drop_vars("quantile")
    hi = ens.quantile((1 + level) / 2, dim=MEMBER).drop_vars("quantile")
    d = truth - mu
    up = d / (hi - mu).where(hi > mu)
    down = -d / (mu - lo).where(mu > lo)
    a = xr.where(d >= 0, up, down)
    a = xr.where(d == 0, 0.0, a).fillna(np.inf)
    return np.asarray(a.values, dtype=float).ravel()


def fit_inflation(ens: xr.DataArray, truth: xr.DataArray, *, level: float = 0.9) -> float:
    """The inflation factor whose intervals cover ``level`` of the points (the ``level`` quantile of
    :func:`critical_inflation`; equal weights)."""
    a = critical_inflation(ens, truth, level=level)
    return float(np.quantile(a, level))


def inflate(ens: xr.DataArray, alpha: float) -> xr.DataArray:
    """Members moved about their mean by ``alpha`` (``alpha = 1``: unchanged)."""
    mu = ens.mean(MEMBER)
    return (mu + alpha * (ens - mu)).assign_attrs(ens.attrs)


def vae_scores(ens: xr.DataArray, truth: xr.DataArray, alpha: dict, *, level: float = 0.9) -> dict:
    """Coverage of the inflated cVAE intervals at every scale, and the cell-level spread–skill ratio.

    Returns ``coverage90_<scale>`` (inflated), ``coverage90_<scale>_raw``, ``spread_skill`` (inflated, cells) and
    ``spread_skill_raw``; coverages use equal weights, like :func:`fit_inflation`.
    """
    ve, vt = scale_views(ens), scale_views(truth)
    key = f"coverage{round(100 * level)}"
    out = {}
    for s in SCALES:
        out[f"{key}_{s}"] = float(interval_coverage(inflate(ve[s], alpha[s]), vt[s], level=level, weights=None))
        out[f"{key}_{s}_raw"] = float(interval_coverage(ve[s], vt[s], level=level, weights=None))
    out["spread_skill"] = float(spread_skill_ratio(inflate(ens, alpha["cell"]), truth, weights=None))
    out["spread_skill_raw"] = float(spread_skill_ratio(ens, truth, weights=None))
    return out


def aggregate(per_world: list[dict]) -> dict:
    """Mean over worlds of every number in nested dicts, with ``<name>_sd`` siblings (population sd over worlds).

    Non-numeric leaves and keys missing in some worlds are skipped; a dict of region trends is averaged key by key.
    """
    first = per_world[0]
    out = {}
    for k, v in first.items():
        if isinstance(v, dict):
            out[k] = aggregate([w[k] for w in per_world if isinstance(w.get(k), dict)])
        elif isinstance(v, (int, float, np.floating)) and not isinstance(v, bool):
            vals = np.array([float(w[k]) for w in per_world if w.get(k) is not None], dtype=float)
            out[k] = float(vals.mean())
            if len(per_world) > 1:
                out[f"{k}_sd"] = float(vals.std())
    return out


def amf_bias_summary(per_world: list[dict]) -> dict:
    """Aggregate :func:`amf_bias_diagnostic` over test worlds and say what the signed total errors follow.

    Parameters
    ----------
    per_world : list of dict
        One ``{method: amf_bias_diagnostic(...)}`` per test world.

    Returns
    -------
    dict
        ``{method: ...}``: the means (and ``_sd``) of :func:`aggregate`, plus the correlation over the worlds of
        the signed monthly-total error with the world's AMF bias (``corr_signed_err_vs_amf_bias``: near 1 when the
        error is the bias) and, where the level was computed, with the world's level over the training mean
        (``corr_signed_err_vs_level``: strongly negative when the estimate is pulled toward the training levels).
        Correlations are None with fewer than two worlds.
    """
    out = aggregate(per_world)
    for m in per_world[0]:
        err = [w[m]["total_signed_rel_err"] for w in per_world]
        pairs = {"corr_signed_err_vs_amf_bias": "amf_bias", "corr_signed_err_vs_level": "level_vs_reference"}
        for name, key in pairs.items():
            if key in per_world[0][m]:
                x = [w[m][key] for w in per_world]
                out[m][name] = float(np.corrcoef(x, err)[0, 1]) if len(per_world) > 1 else None
    return out


def targets_by_world(targets: list[Target], per_world: list[dict], per_world_var: list[dict],
                     vae_per_world: list[dict]) -> dict:
    """Evaluate the study's targets on each test world alone: does a verdict on the means hold in every world?

    The targets read means over the test worlds; a mean can meet a bound that most worlds miss, or miss it by a hair
    that one world decides. Each world's metrics are laid out as ``metrics.json`` lays out the means
    (``methods``: :func:`scale_scores` per method; ``methods_on_variational_days``; ``vae``: :func:`vae_scores`),
    so the same :class:`~eoretrieval.targets.Target` objects apply. Targets that read keys measured once for all
    worlds (the shifted domain, the timing) are not measured per world.

    Returns
    -------
    dict
        ``{target name: {"source": ..., "per_world": [value or None, ...], "n_met": int, "n_measured": int}}``;
        ``source`` is the target's dotted path into the metrics (or its function's description), a key that does not
        change when the display name is reworded.

    Raises
    ------
    ValueError
        If the three lists have different lengths.
    """
    if not len(per_world) == len(per_world_var) == len(vae_per_world):
        raise ValueError(f"targets_by_world: {len(per_world)}, {len(per_world_var)} and {len(vae_per_world)} worlds; "
                         "expected one entry per test world in each list")
    results = [evaluate_targets({"methods": m, "methods_on_variational_days": mv, "vae": v}, targets)
               for m, mv, v in zip(per_world, per_world_var, vae_per_world)]
    out = {}
    for j, t in enumerate(targets):
        rows = [r[j] for r in results]
        out[t.name] = {"source": t.source, "per_world": [r.measured for r in rows],
                       "n_met": sum(r.met is True for r in rows),
                       "n_measured": sum(r.met is not None for r in rows)}
    return out


def coverage_vs_amf_bias(vae_per_world: list[dict], amf_bias: list[float], n_days: int, *, scale: str = "total",
                         level: float = 0.9) -> dict:
    """How far a world's interval coverage can stray by chance, and how much it follows the world's AMF bias.

    A world's coverage at one scale rests on ``n_days`` daily values. Were they independent and the intervals exactly
    calibrated, the number covered would be binomial: ``binomial_range`` is the central 90 % range of the covered
    fraction (serial correlation from day to day widens it, so it is a lower bound on the chance spread). A world's
    AMF bias shifts all its columns the same way, so it can move every day's total together; the Pearson correlation
    of ``|AMF bias|`` with the coverage is given with its two-sided p-value (with five worlds only a strong
    correlation is distinguishable from chance).

    Parameters
    ----------
    vae_per_world : list of dict
        One :func:`vae_scores` result per test world (``coverage90_<scale>`` is read).
    amf_bias : list of float
        The worlds' relative AMF biases (the world attribute ``amf_bias``), in the same order.
    n_days : int
        Evaluated days per world.
    scale : {"cell", "deg1", "total"}
    level : float
        Nominal coverage of the intervals.

    Returns
    -------
    dict
        ``{"scale", "coverage": [...], "abs_amf_bias": [...], "binomial_range": [lo, hi], "r": ..., "p_value": ...,
        "n_worlds": ...}``; ``r`` and ``p_value`` are None with fewer than three worlds or a constant series.

    Raises
    ------
    ValueError
        Lists of different lengths, an unknown scale, ``n_days < 1``, or a missing coverage key.
    """
    from scipy import stats

    if scale not in SCALES:
        raise ValueError(f"coverage_vs_amf_bias: scale {scale!r} is not one of {SCALES}")
    if len(vae_per_world) != len(amf_bias):
        raise ValueError(f"coverage_vs_amf_bias: {len(vae_per_world)} worlds of scores but {len(amf_bias)} AMF biases")
    if n_days < 1:
        raise ValueError(f"coverage_vs_amf_bias: n_days must be >= 1, got {n_days}")
    key = f"coverage90_{scale}"
    missing = [i for i, v in enumerate(vae_per_world) if key not in v]
    if missing:
        raise ValueError(f"coverage_vs_amf_bias: worlds {missing} have no {key!r} in their vae_scores")
    cov = [float(v[key]) for v in vae_per_world]
    bias = [abs(float(b)) for b in amf_bias]
    lo, hi = (float(x) / n_days for x in stats.binom.interval(0.9, n_days, level))
    r = p = None
    if len(cov) >= 3 and np.ptp(cov) > 0 and np.ptp(bias) > 0:
        res = stats.pearsonr(bias, cov)
        r, p = float(res.statistic), float(res.pvalue)
    return {"scale": scale, "coverage": cov, "abs_amf_bias": bias, "binomial_range": [lo, hi], "r": r,
            "p_value": p, "n_worlds": len(cov)}


def shuffled_observations(world: xr.Dataset, *, seed: int = 0) -> xr.Dataset:
    """A control: the world with its observations (NO2 column, validity, precision, pixel counts) permuted in time.

    Winds, lifetimes and the truth stay in place, so a method that really inverts the observations loses its skill,
    while one that reproduces a memorised or climatological map does not.
    """
    rng = np.random.default_rng(seed)
    perm = rng.permutation(world.sizes[TIME])
    out = world.copy()
    for name in ("no2_column", "valid", "no2_column_precision", "n_pixels", "cloud_fraction"):
        if name in world:
            out[name] = world[name].copy(data=world[name].values[perm])
    out.attrs = {**world.attrs, "control": "observations permuted in time"}
    return out


def anomaly_coherence(ens: xr.DataArray) -> float:
    """Lag-1 (one cell east) correlation of the members' anomalies about their mean: ~0 for white pixel noise,
    near 1 for spatially coherent samples."""
    a = (ens - ens.mean(MEMBER)).transpose(MEMBER, TIME, LAT, LON).values
    x, y = a[..., :-1].ravel(), a[..., 1:].ravel()
    return float(np.corrcoef(x, y)[0, 1])


def anomaly_skill(pred: xr.DataArray, truth: xr.DataArray, *, top_fraction: float = ANOMALY_TOP_FRACTION,
                  factor: int = 1) -> float:
    """Correlation of an estimate's day-to-day anomalies with the truth's at the largest sources.

    With ``factor`` > 1 both fields are first averaged over blocks of ``factor`` x ``factor`` cells (area-weighted,
    :func:`~eoretrieval.nox.scales.coarsen_monthly` without the monthly mean; 4 gives 1° from 0.25°). The cells are
    the ``top_fraction`` of the grid with the largest mean true emission over the days given. Each field's anomaly
    is its value minus its own calendar-month mean in that cell (over the days given), divided by the truth's mean
    in the cell (so every source counts alike, the same weight for both fields); the correlation pools cells and
    days. What the month's mean holds (level, trend, season) is removed: what is left is the weekly
    cycle, a lockdown's edges and the day-to-day noise of the emissions. A map that does not change within a month
    (the memorisation baseline) has no day-to-day skill and scores 0.

    Raises
    ------
    DataError
        If the two fields' units or days differ, a field has NaNs, ``top_fraction`` is not in (0, 1], or no month
        holds two of the days (no anomaly to score).
    """
    if not 0.0 < top_fraction <= 1.0:
        raise DataError(f"anomaly_skill: top_fraction {top_fraction}; expected a fraction in (0, 1]")
    if pred.attrs.get("units") != truth.attrs.get("units"):
        raise DataError(f"estimate {pred.name or ''}: units {pred.attrs.get('units')!r}; expected {truth.attrs.get('units')!r}")
    truth = truth.transpose(TIME, LAT, LON)
    missing = np.setdiff1d(truth[TIME].values, pred[TIME].values)
    if missing.size:
        raise DataError(f"estimate {pred.name or ''}: lacks {missing.size} of the truth's days (first {pd.Timestamp(missing[0]):%Y-%m-%d})")
    pred = pred.sel({TIME: truth[TIME]}).transpose(TIME, LAT, LON)
    if bool(pred.isnull().any()) or bool(truth.isnull().any()):
        raise DataError(f"estimate {pred.name or ''}: NaN values; expected complete maps every day")
    if factor > 1:
        pred, truth = (coarsen_monthly(f, factor=factor, monthly=False) for f in (pred, truth))
    months = pd.DatetimeIndex(truth[TIME].values).to_period("M")
    if not (pd.Series(months).value_counts() >= 2).any():
        raise DataError("anomaly_skill: no calendar month holds two of the days; no day-to-day anomaly to score")
    t, p = truth.values.astype(float), pred.values.astype(float)
    mean_t = t.mean(axis=0)
    n_top = max(1, int(round(top_fraction * mean_t.size)))
    cells = np.argsort(mean_t.ravel())[::-1][:n_top]
    t, p = t.reshape(len(t), -1)[:, cells], p.reshape(len(p), -1)[:, cells]
    codes = pd.factorize(months)[0]
    at, ap = np.empty_like(t), np.empty_like(p)
    for k in np.unique(codes):
        rows = codes == k
        at[rows], ap[rows] = t[rows] - t[rows].mean(axis=0), p[rows] - p[rows].mean(axis=0)
    scale = np.where(mean_t.ravel()[cells] > 0, mean_t.ravel()[cells], 1.0)
    at, ap = at / scale, ap / scale
    norm_t, norm_p = np.sqrt((at**2).sum()), np.sqrt((ap**2).sum())
    if norm_p <= 1e-9 * np.sqrt(((p / scale) ** 2).sum()) or norm_t == 0:   # fixed within months (rounding aside)
        return 0.0
    # anomalies within a month have zero mean, so this is Pearson's correlation of the pooled anomalies
    return float((at * ap).sum() / (norm_t * norm_p))


def paired_world_gain(a, b, *, n_boot: int = 2000, level: float = 0.9, seed: int = 0) -> dict:
    """Mean over worlds of ``a - b`` (one value per world, paired) with a percentile bootstrap interval over worlds
    (:func:`scipy.stats.bootstrap`).

    Returns ``{"mean", "lo", "hi", "n_worlds", "worlds_positive"}``; with one world the interval is that value.
    """
    from scipy.stats import bootstrap

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d)):
        raise DataError(f"paired_world_gain: expected one finite value per world for both, got {np.shape(a)} and {np.shape(b)}")
    if d.size == 1 or np.ptp(d) == 0:
        lo = hi = float(d.mean())
    else:
        ci = bootstrap((d,), np.mean, n_resamples=n_boot, confidence_level=level, method="percentile",
                       rng=np.random.default_rng(seed)).confidence_interval
        lo, hi = float(ci.low), float(ci.high)
    return {"mean": float(d.mean()), "lo": lo, "hi": hi, "n_worlds": int(d.size), "worlds_positive": int((d > 0).sum())}


def inventory_table(worlds) -> pd.DataFrame:
    """One row per world: its seed, plants switched off, new plants, sector factors, mean trend and its dip."""
    rows = []
    for w in worlds:
        inv = json.loads(w.attrs["inventory"])
        trends = [v for sec in inv["trends_pct"].values() for v in sec.values()]
        dip = inv.get("lockdown")
        rows.append({"world": int(w.attrs["seed"]), "plants off": inv.get("plants_switched_off_in_domain"),
                     "new plants": inv.get("new_plants"),
                     **{f"{k} factor": round(v, 2) for k, v in inv["sector_factors"].items()},
                     "trends (%)": f"{min(trends):+.0f} to {max(trends):+.0f}",
                     "dip": "none" if not dip else f"{dip['start']}, {dip['days']} d, -{100 * dip['depth']:.0f} %",
                     "AMF bias": f"{100 * float(w.attrs['amf_bias']):+.1f} %"})
    return pd.DataFrame(rows).set_index("world")


#: Variables a world file given to the notebook must hold.
WORLD_VARIABLES = ("emission", "prior_emission", "no2_column", "no2_column_precision", "valid", "u", "v", "lifetime",
                   "nox_column")


def load_world_files(paths) -> list[xr.Dataset]:
    """Read NOx worlds from netCDF files (one world each), checking variables, units and attributes.

    Raises
    ------
    DataError
        A file is missing, unreadable, lacks a variable or an attribute, or has wrong units (the message names it).
    """
    from ..io.checks import require_units

    units = {"emission": "mol m-2 s-1", "prior_emission": "mol m-2 s-1", "no2_column": "mol m-2",
             "no2_column_precision": "mol m-2", "u": "m s-1", "v": "m s-1", "lifetime": "h", "nox_column": "mol m-2"}
    out = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DataError(f"{p}: NOx world file not found")
        try:
            ds = xr.load_dataset(p)
        except (OSError, ValueError) as err:
            raise DataError(f"{p}: not a readable netCDF NOx world ({err})") from err
        missing = [v for v in WORLD_VARIABLES if v not in ds]
        if missing:
            raise DataError(f"{p}: lacks variables {missing}; expected those of eoretrieval.nox.make_nox_world")
        for name, unit in units.items():
            require_units(ds[name], unit, source=str(p))
        for attr in ("regions", "transport_substeps_per_day", "no2_background_mol_m2", "inventory", "seed"):
            if attr not in ds.attrs:
                raise DataError(f"{p}: attribute {attr!r} missing; expected a world of eoretrieval.nox.make_nox_world")
        if bool(ds["no2_column"].isnull().all()):
            raise DataError(f"{p}: no2_column is all NaN; expected observed columns")
        ds.attrs["title"] = f"{ds.attrs.get('title', 'NOx world')} ({p.name})"
        ds.attrs["source_file"] = str(p)
        out.append(ds)
    return out


def require_training_grid(worlds, memorisation: xr.DataArray) -> None:
    """Refuse test worlds whose grid size is not the training worlds' (that of the memorisation map).

    The networks would run on any size, but the memorisation baseline, against which every table reads, is a map
    of the training grid; another place of the same size is fine (the shifted domain).

    Raises
    ------
    DataError
        Naming the world's file (or title), its grid and the expected one.
    """
    want = tuple(memorisation.shape)
    for w in worlds:
        got = (w.sizes[LAT], w.sizes[LON])
        if got != want:
            name = w.attrs.get("source_file", w.attrs.get("title", f"world {w.attrs.get('seed')}"))
            raise DataError(f"{name}: grid {got[0]} x {got[1]} (lat x lon); the committed networks' memorisation map, "
                            f"the baseline of every table, is on the training worlds' {want[0]} x {want[1]} grid: a test "
                            "world must have that size (another place is fine, as the shifted domain shows)")
