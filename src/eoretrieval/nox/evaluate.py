"""Evaluation helpers of the NOx study: predictions of trained networks as labelled maps, scores per
method, the multi-year trend, and perturbed observations for the sensitivity tests.

Public names: :class:`NoxEvalProfile`, :data:`NOX_EVAL_PROFILES`, :func:`evenly_spaced`, :func:`predict_emissions`, :func:`score`, :func:`score_table`, :func:`top_sources`,
:func:`annual_means`, :func:`trend_pct`, :func:`perturb_world`, :data:`PERTURBATIONS`, :func:`seconds_per_day`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..conventions import LAT, LON, MEMBER, TIME
from ..errors import DataError
from ..verify import bias, corr, relative_error, rmse
from .nox_data import NoxNormalisation, decode_targets, make_inputs

__all__ = ["predict_emissions", "score", "score_table", "top_sources", "annual_means", "trend_pct",
           "perturb_world", "PERTURBATIONS", "seconds_per_day", "area_weights", "NoxEvalProfile",
           "NOX_EVAL_PROFILES", "evenly_spaced", "check_targets", "TARGETS", "to_nmol"]

@dataclass(frozen=True)
class NoxEvalProfile:
    """Sizes of the evaluation in the study notebook (one per profile).

    Attributes
    ----------
    test_stride : int
        Evaluate every ``test_stride``-th day of the test split (the same days for every method).
    variational_days : int
        Number of test days (evenly spaced among the evaluated ones) given to the variational inversion.
    trend_stride : int
        Stride of the days of the first and last year of the independent world used for the trend (not a
        multiple of 7, so that both years sample every weekday alike: the emissions have a weekly cycle).
    trend_variational_days : int
        Days per year given to the variational inversion in the trend test.
    n_members : int
        VAE ensemble size.
    sensitivity_stride : int
        Every n-th evaluated test day is used in the sensitivity tests.
    smoke_train_days, smoke_steps : int
        Size of the retraining smoke test (days, optimiser steps).
    """

    test_stride: int
    variational_days: int
    trend_stride: int
    trend_variational_days: int
    n_members: int
    sensitivity_stride: int
    smoke_train_days: int
    smoke_steps: int


#: Evaluation sizes per profile.
NOX_EVAL_PROFILES = {
    "ci": NoxEvalProfile(test_stride=3, variational_days=12, trend_stride=3, trend_variational_days=4,
                         n_members=32, sensitivity_stride=2, smoke_train_days=16, smoke_steps=2),
    "paper": NoxEvalProfile(test_stride=1, variational_days=365, trend_stride=1, trend_variational_days=365,
                            n_members=100, sensitivity_stride=1, smoke_train_days=64, smoke_steps=20),
}

#: Targets of the study (see :func:`check_targets`).
TARGETS = {"rmse_vs_flux_divergence": 0.6, "rmse_vs_variational": 1.2, "total_rel_err": 0.05,
           "trend_pp": 3.0, "coverage90": (0.85, 0.95), "speedup_vs_variational": 100.0}


def evenly_spaced(days, n: int) -> pd.DatetimeIndex:
    """``n`` days picked evenly from ``days`` (all of them if ``n >= len(days)``)."""
    days = pd.DatetimeIndex(days)
    if n >= len(days):
        return days
    return days[np.unique(np.linspace(0, len(days) - 1, n).round().astype(int))]


def to_nmol(da: xr.DataArray) -> xr.DataArray:
    """An emission in mol m-2 s-1 converted to nmol m-2 s-1 (for plotting).

    Raises
    ------
    DataError
        If ``da`` is not in mol m-2 s-1.
    """
    if da.attrs.get("units") != "mol m-2 s-1":
        raise DataError(f"{da.name}: units {da.attrs.get('units')!r}, expected 'mol m-2 s-1'")
    return (da * 1e9).assign_attrs({**da.attrs, "units": "nmol m-2 s-1"})


def check_targets(*, net: str, scores: Mapping[str, Mapping[str, float]],
                  scores_variational_days: Mapping[str, Mapping[str, float]], trend: Mapping[str, float],
                  coverage90: float, seconds_per_day: Mapping[str, float]) -> dict:
    """Compare measured numbers with :data:`TARGETS`; return ``{target: {"value", "limit", "met"}}``.

    ``scores`` are per method on all evaluated test days, ``scores_variational_days`` on the days the
    variational inversion was run (the RMSE ratio against it uses those days), ``trend`` holds
    ``true_pct`` and ``<method>_pct``, ``seconds_per_day`` per method.
    """
    ratio_fd = scores[net]["rmse"] / scores["flux_divergence"]["rmse"]
    ratio_var = scores_variational_days[net]["rmse"] / scores_variational_days["variational"]["rmse"]
    total = abs(scores[net]["total_rel_err"])
    trend_err = abs(trend[f"{net}_pct"] - trend["true_pct"])
    speedup = seconds_per_day["variational"] / seconds_per_day[net]
    lo, hi = TARGETS["coverage90"]
    return {
        "rmse_vs_flux_divergence": {"value": ratio_fd, "limit": TARGETS["rmse_vs_flux_divergence"],
                                    "met": ratio_fd <= TARGETS["rmse_vs_flux_divergence"]},
        "rmse_vs_variational": {"value": ratio_var, "limit": TARGETS["rmse_vs_variational"],
                                "met": ratio_var <= TARGETS["rmse_vs_variational"]},
        "total_rel_err": {"value": total, "limit": TARGETS["total_rel_err"], "met": total < TARGETS["total_rel_err"]},
        "trend_pp": {"value": trend_err, "limit": TARGETS["trend_pp"], "met": trend_err <= TARGETS["trend_pp"]},
        "coverage90": {"value": coverage90, "limit": [lo, hi], "met": lo <= coverage90 <= hi},
        "speedup_vs_variational": {"value": speedup, "limit": TARGETS["speedup_vs_variational"],
                                   "met": speedup >= TARGETS["speedup_vs_variational"]},
    }


#: Sensitivity tests: name -> default magnitude (see :func:`perturb_world`).
PERTURBATIONS = {"noise": 2.0, "cloud": 0.2, "lifetime": 0.3, "wind": (0.2, 20.0)}


def area_weights(da: xr.DataArray) -> xr.DataArray:
    """Cell-area weights of a regular lat/lon grid, cos(latitude) (dimensionless), broadcast like ``da``."""
    return np.cos(np.deg2rad(da[LAT])).broadcast_like(da)


@torch.no_grad()
def predict_emissions(model: torch.nn.Module, objective, world: xr.Dataset, days, norm: NoxNormalisation, *,
                      n_samples: int = 1, seed: int = 0, batch_size: int = 32, device: str = "cpu") -> xr.DataArray:
    """Emission maps estimated by a trained network for ``days`` of ``world``.

    Parameters
    ----------
    model, objective
        From :func:`~eoretrieval.nets.nox_train.load_artifact`.
    world : xr.Dataset
        NOx world (observations, winds, lifetime; the truth is not used).
    days : sequence of datetime-like
        Days to estimate.
    norm : NoxNormalisation
        The artefact's statistics.
    n_samples : int
        Ensemble members for a generative model (ignored by a deterministic one).
    seed : int
        Seed of the sampling.

    Returns
    -------
    xr.DataArray
        ``(time, lat, lon)`` for a deterministic model, ``(member, time, lat, lon)`` for ``n_samples > 1``
        with a generative objective; units ``norm.target_units``.
    """
    days = pd.DatetimeIndex(days)
    model.eval().to(device)
    cond = make_inputs(world, days, norm)
    gen = torch.Generator(device=device).manual_seed(seed)
    parts = []
    for start in range(0, len(days), batch_size):
        c = cond[start:start + batch_size].to(device)
        parts.append(objective.sample(model, c, n_samples=n_samples, generator=gen).cpu())
    y = torch.cat(parts, dim=1)
    template = world["no2_column"].sel({TIME: days})
    out = decode_targets(y if y.shape[0] > 1 else y[0], norm, template)
    return out


def top_sources(truth: xr.DataArray, *, n: int = 20) -> xr.DataArray:
    """Boolean ``(lat, lon)`` mask of the ``n`` cells with the largest time-mean ``truth``."""
    mean = truth.mean(TIME) if TIME in truth.dims else truth
    thresh = np.sort(mean.values.ravel())[-n]
    return mean >= thresh


def score(pred: xr.DataArray, truth: xr.DataArray, *, n_top: int = 20) -> dict[str, float]:
    """Scores of an emission estimate against the truth, both ``(time, lat, lon)`` in the same units.

    Returns
    -------
    dict
        ``rmse`` and ``bias`` (area-weighted over all cells and days, units of ``truth``); ``corr``: the
        spatial correlation of each day's map, averaged over days; ``total_rel_err``: relative error of the
        domain total summed over all days; ``daily_total_abs_rel_err``: mean absolute relative error of the
        daily domain totals; ``top{n}_rel_err``: mean absolute relative error of the period totals of the
        ``n`` largest sources (cells with the largest mean truth); ``top{n}_total_rel_err``: relative error
        of their summed period total.

    Raises
    ------
    DataError
        If ``pred`` has NaNs or its units differ from those of ``truth``.
    """
    pred = pred.transpose(TIME, LAT, LON)
    truth = truth.transpose(TIME, LAT, LON)
    pu, tu = pred.attrs.get("units"), truth.attrs.get("units")
    if pu is not None and tu is not None and pu != tu:
        raise DataError(f"emission estimate: units {pu!r}, expected those of the truth, {tu!r}")
    if pred.isnull().any():
        raise DataError("emission estimate: has NaN values; expected a complete map for every day")
    w = area_weights(truth)
    top = top_sources(truth, n=n_top)
    per_source = relative_error(pred.where(top), truth.where(top), dim=TIME)
    daily = relative_error(pred * w, truth * w, dim=(LAT, LON))
    return {
        "rmse": float(rmse(pred, truth, weights=w)),
        "bias": float(bias(pred, truth, weights=w)),
        "corr": float(corr(pred, truth, dim=(LAT, LON), weights=w).mean()),
        "total_rel_err": float(relative_error(pred * w, truth * w)),
        "daily_total_abs_rel_err": float(abs(daily).mean()),
        f"top{n_top}_rel_err": float(abs(per_source).where(top).mean()),
        f"top{n_top}_total_rel_err": float(relative_error(pred.where(top, 0.0), truth.where(top, 0.0))),
    }


def score_table(preds: Mapping[str, xr.DataArray], truth: xr.DataArray, *, n_top: int = 20) -> xr.DataArray:
    """:func:`score` of every method, as a ``(method, metric)`` DataArray (``attrs["units"]``: emission units)."""
    rows = {name: score(p.sel({TIME: truth[TIME]}), truth, n_top=n_top) for name, p in preds.items()}
    frame = pd.DataFrame(rows).T
    out = xr.DataArray(frame.values, dims=("method", "metric"),
                       coords={"method": list(frame.index), "metric": list(frame.columns)}, name="score")
    out.attrs = {"units": truth.attrs.get("units", ""), "long_name": "scores of the emission estimates",
                 "note": "rmse and bias in units; the other metrics are dimensionless"}
    return out


def annual_means(emission: xr.DataArray) -> xr.DataArray:
    """Area-weighted domain-mean emission of each calendar year, dims ``(year,)``, units of ``emission``."""
    w = area_weights(emission)
    daily = (emission * w).sum((LAT, LON)) / w.sum((LAT, LON))
    out = daily.groupby(f"{TIME}.year").mean()
    out.attrs = {"units": emission.attrs.get("units", ""), "long_name": "annual domain-mean emission"}
    return out


def trend_pct(emission: xr.DataArray) -> float:
    """Percentage change of the annual domain-mean emission from the first to the last year."""
    annual = annual_means(emission)
    if annual.sizes["year"] < 2:
        raise DataError(f"emission: spans {annual.sizes['year']} year(s); a trend needs at least 2")
    return float(100.0 * (annual[-1] / annual[0] - 1.0))


def perturb_world(world: xr.Dataset, kind: str, *, magnitude=None, seed: int = 0) -> xr.Dataset:
    """A copy of ``world`` whose observations or meteorology are degraded; the truth is unchanged.

    Parameters
    ----------
    world : xr.Dataset
        NOx world.
    kind : {"noise", "cloud", "lifetime", "wind"}
        - ``noise``: random noise std multiplied by ``magnitude`` (default 2): independent Gaussian noise of
          std :math:`\\sqrt{m^2-1}\\,\\sigma` (``no2_column_precision``) is added to the observed columns and
          the reported precision is multiplied by ``m``;
        - ``cloud``: the cloud cover grows by ``magnitude`` (default 0.2, fraction of all cells): the
          observed cells with the highest cloud fraction are masked (cloud edges grow);
        - ``lifetime``: the lifetime given to the methods is multiplied by ``1 + magnitude`` (default +30 %);
        - ``wind``: the winds given to the methods are scaled by ``1 + magnitude[0]`` and rotated by
          ``magnitude[1]`` degrees (default 20 %, 20°).
    magnitude : float or tuple
        See ``kind``; defaults in :data:`PERTURBATIONS`.
    seed : int
        Seed of the added noise.

    Raises
    ------
    ValueError
        If ``kind`` is unknown (the message lists the valid kinds).
    """
    if kind not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}; valid: {sorted(PERTURBATIONS)}")
    m = PERTURBATIONS[kind] if magnitude is None else magnitude
    out = world.copy()
    if kind == "noise":
        rng = np.random.default_rng(seed)
        sigma = world["no2_column_precision"].broadcast_like(world["no2_column"])
        extra = np.sqrt(m**2 - 1.0) * sigma * rng.standard_normal(world["no2_column"].shape)
        out["no2_column"] = (world["no2_column"] + extra).assign_attrs(world["no2_column"].attrs)
        out["no2_column_precision"] = (world["no2_column_precision"] * m).assign_attrs(
            world["no2_column_precision"].attrs)
    elif kind == "cloud":
        valid = world["valid"].astype(bool) & world["no2_column"].notnull()
        cf = world["cloud_fraction"].where(valid)
        n_remove = int(round(m * valid.size))
        vals = np.sort(cf.values[np.isfinite(cf.values)])
        if n_remove >= len(vals):
            raise ValueError(f"cloud perturbation {m} masks every observed cell")
        thresh = vals[len(vals) - n_remove - 1] if n_remove > 0 else np.inf
        new_valid = valid & (cf <= thresh)
        out["valid"] = new_valid.astype(world["valid"].dtype).assign_attrs(world["valid"].attrs)
        out["no2_column"] = world["no2_column"].where(new_valid).assign_attrs(world["no2_column"].attrs)
    elif kind == "lifetime":
        out["lifetime"] = (world["lifetime"] * (1.0 + m)).assign_attrs(world["lifetime"].attrs)
    elif kind == "wind":
        speed, angle = m
        a = np.deg2rad(angle)
        u, v = world["u"], world["v"]
        out["u"] = ((1 + speed) * (np.cos(a) * u - np.sin(a) * v)).assign_attrs(u.attrs)
        out["v"] = ((1 + speed) * (np.sin(a) * u + np.cos(a) * v)).assign_attrs(v.attrs)
    out.attrs = {**world.attrs, "perturbation": f"{kind}={m}"}
    return out


def seconds_per_day(fn: Callable[[], object], *, n_days: int, repeat: int = 1) -> float:
    """Wall-clock seconds per daily map of ``fn()`` (which estimates ``n_days`` maps); best of ``repeat``."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best / n_days)
