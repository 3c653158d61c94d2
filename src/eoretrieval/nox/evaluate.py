"""Evaluation helpers of the NOx study: predictions of trained networks as labelled maps, scores per
method, and perturbed observations for the sensitivity tests.

Study 1's evaluation over the family of test worlds, at every scale, is :mod:`eoretrieval.nox.osse`.

Public names: :func:`evenly_spaced`, :func:`predict_emissions`, :func:`score`, :func:`score_table`, :func:`top_sources`,
:func:`perturb_world`, :data:`PERTURBATIONS`, :func:`seconds_per_day`, :func:`timed`, :func:`sensitivity_table`,
:func:`to_nmol`, :func:`area_weights`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..conventions import LAT, LON, TIME
from ..errors import DataError
from ..io.checks import require_units
from ..verify import bias, corr, relative_error, rmse
from ..verify import area_weights as _area_weights
from ..nets.normalisation import Normalisation
from .features import decode_targets, make_inputs, scene_scale

__all__ = ["predict_emissions", "score", "score_table", "top_sources", "perturb_world", "PERTURBATIONS",
           "seconds_per_day", "timed", "area_weights", "evenly_spaced", "to_nmol", "sensitivity_table"]

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
    require_units(da, "mol m-2 s-1", source="to_nmol")
    return (da * 1e9).assign_attrs({**da.attrs, "units": "nmol m-2 s-1"})


#: Sensitivity tests: name -> default magnitude (see :func:`perturb_world`).
PERTURBATIONS = {"noise": 2.0, "cloud": 0.2, "lifetime": 0.3, "wind": (0.2, 20.0)}


def area_weights(da: xr.DataArray) -> xr.DataArray:
    """Cell-area weights (cos latitude, :func:`eoretrieval.verify.area_weights`) broadcast like ``da``."""
    return _area_weights(da).broadcast_like(da)


@torch.no_grad()
def predict_emissions(model: torch.nn.Module, objective, world: xr.Dataset, days, norm: Normalisation, *,
                      n_samples: int = 1, seed: int = 0, batch_size: int = 32, device: str = "cpu",
                      inputs: torch.Tensor | None = None, deterministic: bool = False) -> xr.DataArray:
    """Emission maps estimated by a trained network for ``days`` of ``world``.

    Parameters
    ----------
    model, objective
        From :func:`~eoretrieval.nox.train.load_artifact`.
    world : xr.Dataset
        NOx world (observations, winds, lifetime; the truth is not used).
    days : sequence of datetime-like
        Days to estimate.
    norm : Normalisation
        The artefact's statistics.
    n_samples : int
        Ensemble members for a generative model (ignored by a deterministic one).
    seed : int
        Seed of the sampling.
    batch_size, device
        Days per network call; torch device.
    inputs : torch.Tensor, optional
        The network inputs of ``days`` if already made by :func:`~eoretrieval.nox.features.make_inputs`
        (training keeps them in memory); made from ``world`` otherwise.
    deterministic : bool
        Call the network itself (the cVAE: its decoder at the prior-mean latent) instead of sampling.

    Returns
    -------
    xr.DataArray
        ``(time, lat, lon)`` for a deterministic model, ``(member, time, lat, lon)`` for ``n_samples > 1``
        with a generative objective; units ``norm.target_units``.
    """
    days = pd.DatetimeIndex(days)
    model.eval().to(device)
    cond = make_inputs(world, days, norm) if inputs is None else inputs
    if len(cond) != len(days):
        raise ValueError(f"inputs hold {len(cond)} days, but {len(days)} days were asked for")
    gen = torch.Generator(device=device).manual_seed(seed)
    parts = []
    with torch.no_grad():
        for start in range(0, len(days), batch_size):
            c = cond[start:start + batch_size].to(device)
            if deterministic:
                parts.append(model(c)[None].cpu())
            else:
                parts.append(objective.sample(model, c, n_samples=n_samples, generator=gen).cpu())
    y = torch.cat(parts, dim=1)
    template = world["no2_column"].sel({TIME: days})
    out = decode_targets(y if y.shape[0] > 1 else y[0], norm, template, scale=scene_scale(world, days, norm))
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


def timed(fn: Callable[[], object], *, n_days: int) -> tuple[object, float]:
    """Call ``fn()`` once; return its result and the wall-clock seconds per daily map (``n_days`` maps)."""
    t0 = time.perf_counter()
    out = fn()
    return out, float((time.perf_counter() - t0) / n_days)


def sensitivity_table(world: xr.Dataset, days, truth: xr.DataArray,
                      estimators: Mapping[str, Callable[[xr.Dataset, pd.DatetimeIndex], xr.DataArray]], *,
                      kinds=("none", *PERTURBATIONS), seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """Scores of each estimator on perturbed copies of ``world`` (:func:`perturb_world`; ``"none"``: unperturbed).

    Returns
    -------
    (table, valid_fraction)
        ``table``: rows ``(kind, method)``, columns rmse, corr, total_rel_err; ``valid_fraction``: observed share
        of cells on ``days`` per kind.
    """
    days = pd.DatetimeIndex(days)
    rows, valid = {}, {}
    for kind in kinds:
        pw = world if kind == "none" else perturb_world(world, kind, seed=seed)
        sc = score_table({name: fn(pw, days) for name, fn in estimators.items()}, truth).to_pandas()
        for name in estimators:
            rows[(kind, name)] = sc.loc[name, ["rmse", "corr", "total_rel_err"]]
        valid[kind] = float(pw["valid"].sel({TIME: days}).mean())
    return pd.DataFrame(rows).T, valid
