"""Study 2's end-to-end checks: the real-data path on format-exact TROPOMI files, and the world's realism.

- :func:`roundtrip` — a study-1 world → TROPOMI L2 orbits in the product's layout
  (:mod:`~eoretrieval.nox.tropomi_l2`) → the reader (:mod:`eoretrieval.io.tropomi`) → daily area-weighted
  oversampling (:mod:`~eoretrieval.nox.oversample`, dask), and its winds → hourly ERA5 pressure-level files in the
  CDS layout → :mod:`eoretrieval.io.era5` → daily boundary-layer winds (:mod:`~eoretrieval.nox.era5_winds`)
  → study 1's network and flux divergence → scores
  against the world's true emissions, next to study 1 on the gridded inputs of the same world and days.
  Study 1's code is reached through one adapter, :func:`study1_api`.
- :func:`lockdown_periods`, :func:`period_days` and :func:`period_change` — the change of emissions between a
  lockdown and the same weekdays 52 weeks earlier (the 2020-against-2019 comparison of real studies), with a
  paired block-bootstrap interval; run through :func:`roundtrip` on a world whose dip is known, it checks the
  whole path on the question a user would ask of the archive.
- :func:`world_cycles` — weekly amplitude and winter/summer ratio of the world's NO2 in a box, to set
  against the stations (:func:`eoretrieval.nox.deweather.weekly_amplitude`, ``winter_summer_ratio``).
- :data:`STUDY2_PROFILES` — sizes of the "ci" and "paper" runs.

Public names: :class:`Study2Config`, :data:`STUDY2_PROFILES`, :func:`study1_api`, :func:`roundtrip_days`,
:func:`roundtrip`, :func:`roundtrip_summary`, :func:`lockdown_periods`, :func:`period_days`, :func:`period_change`,
:func:`world_cycles`, :data:`BEIJING_BOX`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

__all__ = ["Study2Config", "STUDY2_PROFILES", "study1_api", "roundtrip_days", "roundtrip", "roundtrip_summary",
           "lockdown_periods", "period_days", "period_change", "world_cycles", "BEIJING_BOX"]

#: (lat_min, lat_max, lon_min, lon_max) of urban Beijing and its surroundings (the 12 stations lie inside)
BEIJING_BOX = (39.5, 40.5, 115.75, 117.0)


@dataclass(frozen=True)
class Study2Config:
    """Sizes of a study-2 run."""

    n_draws: int = 50  #: weather draws per day in the normalisation
    n_boot: int = 1000  #: bootstrap replicates
    max_iter: int = 300  #: boosting iterations
    roundtrip_days: int = 24  #: evaluated days of the round trip (each with the days its inputs need)
    lockdown_days: int = 12  #: evaluated days in each period of the lockdown comparison (0: the whole periods)
    n_sub: int = 5  #: sub-pixels per side in the oversampling


STUDY2_PROFILES = {"ci": Study2Config(),
                   "paper": Study2Config(n_draws=200, n_boot=2000, roundtrip_days=60, lockdown_days=0)}


def study1_api() -> dict:
    """Study 1's functions the round trip uses, from ``eoretrieval.nox`` (one place to switch imports)."""
    from eoretrieval.nox.evaluate import predict_emissions, score
    from eoretrieval.nox.flux_divergence import flux_divergence_world
    from eoretrieval.nox.train import load_artifact
    from eoretrieval.nox.world import make_nox_world, split_days

    return {"make_world": make_nox_world, "split_days": split_days, "load_artifact": load_artifact,
            "predict": predict_emissions, "score": score, "flux_divergence": flux_divergence_world}


def roundtrip_days(world: xr.Dataset, n: int, *, split: str = "test", history: int = 1,
                   block: int = 1) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """``n`` days of a split in evenly spaced runs of ``block`` consecutive days, and the sorted union of those
    days and the ``history`` days before each (the days the network's inputs need, see
    :func:`~eoretrieval.nox.features.history_days`)."""
    days = study1_api()["split_days"](world, split)
    days = days[days >= pd.Timestamp(world["time"].values[0]) + pd.Timedelta(days=history)]   # history inside
    block = max(int(block), 1)
    n_blocks = int(np.ceil(n / block))
    starts = np.unique(np.linspace(0, max(len(days) - block, 0), n_blocks).round().astype(int))
    idx = np.unique(np.concatenate([starts + b for b in range(block)]))
    chosen = days[idx[idx < len(days)][:n]]
    return chosen, _with_history(chosen, history)


def _with_history(days: pd.DatetimeIndex, history: int) -> pd.DatetimeIndex:
    out = days
    for k in range(1, history + 1):
        out = out.union(days - pd.Timedelta(days=k))
    return out


def lockdown_periods(world: xr.Dataset, *, shift_days: int = 364) -> dict:
    """The lockdown of a world (from its ``inventory`` attribute) and the reference: the same weekdays
    ``shift_days`` earlier (52 weeks), or later when the world begins after that.

    Returns
    -------
    dict
        ``{"lockdown": [first, last], "reference": [first, last]}`` (``YYYY-MM-DD`` strings, inclusive).

    Raises
    ------
    DataError
        If the world has no lockdown, or neither reference period lies in its time span (naming the world).
    """
    import json

    name = world.attrs.get("title", "NOx world")
    lockdown = json.loads(world.attrs.get("inventory", "{}")).get("lockdown")
    if not lockdown:
        raise DataError(f"{name}: its inventory has no lockdown; choose a world with one (attribute 'inventory')")
    first = pd.Timestamp(lockdown["start"])
    last = first + pd.Timedelta(days=int(lockdown["days"]) - 1)
    t0, t1 = pd.Timestamp(world["time"].values[0]), pd.Timestamp(world["time"].values[-1])
    for shift in (-shift_days, shift_days):
        r0, r1 = first + pd.Timedelta(days=shift), last + pd.Timedelta(days=shift)
        if r0 >= t0 + pd.Timedelta(days=7) and r1 <= t1:
            return {"lockdown": [f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"],
                    "reference": [f"{r0:%Y-%m-%d}", f"{r1:%Y-%m-%d}"]}
    raise DataError(f"{name}: no reference period {shift_days} days before or after its lockdown "
                    f"({first:%Y-%m-%d} to {last:%Y-%m-%d}) lies in {t0:%Y-%m-%d} to {t1:%Y-%m-%d}")


def period_days(periods: dict, n: int = 0, *, block: int = 3) -> dict:
    """Evaluated days of each period: all of them (``n = 0``), or ``n`` days in runs of ``block`` consecutive days,
    one run centred in each of ``n / block`` equal parts of the period (so a subsample weighs the period's start,
    middle and end alike), at the same offsets in every period (so the k-th days of two periods pair up).

    Raises
    ------
    ValueError
        If the periods differ in length or a period is empty.
    """
    spans = {k: pd.date_range(v[0], v[1], freq="D") for k, v in periods.items()}
    lengths = {len(v) for v in spans.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"periods must be non-empty and of one length, got {({k: len(v) for k, v in spans.items()})}")
    length = lengths.pop()
    if n <= 0 or n >= length:
        return spans
    block = max(1, min(int(block), n))
    n_blocks = int(np.ceil(n / block))
    centres = (np.arange(n_blocks) + 0.5) * length / n_blocks
    starts = np.clip(np.floor(centres - block / 2).astype(int), 0, length - block)
    idx = np.unique(np.concatenate([starts + b for b in range(block)]))[:n]
    return {k: v[idx] for k, v in spans.items()}


def period_change(field: xr.DataArray, days, reference_days, *, box: tuple | None = None, block: int = 3,
                  n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """Relative change (%) of the area-weighted mean of ``field`` over ``days`` against ``reference_days``.

    The k-th day of each list pair up; the interval is a paired moving-block bootstrap (the same blocks of
    ``block`` consecutive pairs drawn for both), so the day-to-day weather of each period enters it.

    Parameters
    ----------
    field : xr.DataArray
        ``(time, lat, lon)`` (an emission estimate, the truth, a column).
    days, reference_days : sequence of datetime-like
        Equal numbers of days.
    box : (lat_min, lat_max, lon_min, lon_max), optional
        Region; the whole domain when None.

    Returns
    -------
    dict
        ``pct``, ``ci`` ([lo, hi] at ``level``), ``mean``, ``mean_reference`` (field units), ``n_days``.

    Raises
    ------
    ValueError
        If the day lists differ in length.
    DataError
        If a day is missing from ``field``, the box holds no cell, or a day's regional mean is not finite (e.g. a
        method without an estimate that day), naming the day.
    """
    from .deweather import block_bootstrap_index

    days, ref = pd.DatetimeIndex(days), pd.DatetimeIndex(reference_days)
    if len(days) != len(ref) or len(days) == 0:
        raise ValueError(f"days ({len(days)}) and reference_days ({len(ref)}) must be equal in number and non-empty")
    name = field.name or "field"
    missing = days.append(ref).difference(pd.DatetimeIndex(field["time"].values))
    if len(missing):
        raise DataError(f"{name}: no values for {len(missing)} of the days ({missing[0]:%Y-%m-%d} ...)")
    sub = field
    if box is not None:
        sub = field.sel(lat=slice(box[0], box[1]), lon=slice(box[2], box[3]))
        if sub.sizes["lat"] == 0 or sub.sizes["lon"] == 0:
            raise DataError(f"{name}: the box {box} holds no grid cell")
    w = np.cos(np.deg2rad(sub["lat"]))
    series = sub.weighted(w).mean(("lat", "lon"))
    a, b = series.sel(time=days).values.astype(float), series.sel(time=ref).values.astype(float)
    bad = ~np.isfinite(a) | ~np.isfinite(b)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(f"{name}: no finite regional mean on {days[k]:%Y-%m-%d} or {ref[k]:%Y-%m-%d}")
    rng = np.random.default_rng(seed)
    blk = max(1, min(int(block), len(a)))
    draws = np.empty(n_boot)
    for i in range(n_boot):
        idx = block_bootstrap_index(len(a), blk, rng)
        draws[i] = 100 * (a[idx].mean() / b[idx].mean() - 1)
    alpha = (1 - level) / 2
    return {"pct": float(100 * (a.mean() / b.mean() - 1)),
            "ci": [float(np.quantile(draws, alpha)), float(np.quantile(draws, 1 - alpha))],
            "mean": float(a.mean()), "mean_reference": float(b.mean()), "n_days": int(len(a))}


def roundtrip(world: xr.Dataset, artifact: str | os.PathLike, folder: str | os.PathLike, *, n_days: int | None = None,
              days=None, tropomi_files=None, era5_files=None, seed: int = 0, n_sub: int = 5, scheduler=None,
              device: str = "cpu") -> dict:
    """Run the real-data path on format-exact L2 files of ``world`` and score it against the world's truth.

    Parameters
    ----------
    world : xr.Dataset
        A study-1 world (truth known).
    artifact : path-like
        Folder of the trained study-1 network.
    folder : path-like
        Where the L2 files are written (when ``tropomi_files`` is None).
    n_days : int
        Evaluated days (test split), each with the days before it that the network's inputs need (the previous
        day for ``no2_prev``, a week for the ``*_7d`` channels; then in runs of 3 consecutive days).
    days : sequence of datetime-like, optional
        The evaluated days themselves (in place of ``n_days``; e.g. from :func:`period_days`); the days their
        inputs need are added.
    tropomi_files : glob or list, optional
        Use these L2 files instead of writing them (they must cover the days).
    era5_files : glob or list, optional
        ERA5 pressure-level files (CDS netCDF) for the winds; by default the world's daily winds are written in
        that layout (:func:`~eoretrieval.nox.era5_winds.write_era5_files`, under ``folder/era5``). Either way they
        go through :func:`~eoretrieval.io.era5.read_era5_pressure_levels` and
        :func:`~eoretrieval.nox.era5_winds.daily_boundary_layer_winds`.
    scheduler
        Passed to :func:`~eoretrieval.nox.oversample.oversample_daily` (None: in-process).

    Returns
    -------
    dict
        ``scores`` (``roundtrip``/``study1`` × ``network``/``flux_divergence``, each a dict of study-1 scores),
        ``grid`` (the oversampled Dataset), ``estimates`` (DataArrays), ``days``, ``files``.
    """
    from ..io.era5 import read_era5_pressure_levels
    from .era5_winds import daily_boundary_layer_winds, write_era5_files
    from .features import history_days
    from .oversample import oversample_daily
    from .tropomi_l2 import write_world_orbits

    if (days is None) == (n_days is None):
        raise ValueError("give either n_days or days")
    api = study1_api()
    model, objective, norm, manifest = api["load_artifact"](artifact, device=device)
    history = history_days(norm.channels)
    if days is None:
        days, with_prev = roundtrip_days(world, n_days, history=history, block=3 if history > 1 else 1)
    else:
        days = pd.DatetimeIndex(days).normalize().unique().sort_values()
        with_prev = _with_history(days, history)
        outside = with_prev.difference(pd.DatetimeIndex(world["time"].values))
        if len(outside):
            raise DataError(f"{world.attrs.get('title', 'NOx world')}: the evaluated days need {len(outside)} days "
                            f"outside the world's period ({outside[0]:%Y-%m-%d} ...)")
    sub = world.sel(time=with_prev).load()
    if tropomi_files is None:
        files = write_world_orbits(sub, with_prev, Path(folder), seed=seed)
    else:
        from ..io.stations import expand_paths

        files = expand_paths(tropomi_files)
    grid = oversample_daily([str(f) for f in files], world["lat"].values, world["lon"].values, days=with_prev,
                            n_sub=n_sub, scheduler=scheduler)
    if era5_files is None:
        era5_files = write_era5_files(sub[["u", "v"]], Path(folder) / "era5")
    met = daily_boundary_layer_winds(read_era5_pressure_levels(era5_files), world["lat"].values,
                                     world["lon"].values, with_prev)
    rt_world = sub.copy()
    rt_world["no2_column"] = grid["no2_column"].astype(np.float32).assign_attrs(sub["no2_column"].attrs)
    rt_world["valid"] = grid["valid"].astype(np.uint8)
    rt_world["u"], rt_world["v"] = met["u"], met["v"]
    truth = world["emission"].sel(time=days)
    est = {
        ("roundtrip", "network"): api["predict"](model, objective, rt_world, days, norm, device=device),
        ("study1", "network"): api["predict"](model, objective, sub, days, norm, device=device),
        ("roundtrip", "flux_divergence"): api["flux_divergence"](rt_world, days),
        ("study1", "flux_divergence"): api["flux_divergence"](sub, days),
    }
    scores = {f"{path}/{method}": api["score"](e.fillna(0.0).assign_attrs(e.attrs), truth) for (path, method), e in est.items()}
    both = (grid["valid"].sel(time=days) == 1) & (sub["valid"].sel(time=days) == 1)
    diff = (grid["no2_column"].sel(time=days) - sub["no2_column"].sel(time=days)).where(both)
    column = {"valid_agreement": float((grid["valid"].sel(time=days) == sub["valid"].sel(time=days)).mean()),
              "observed_fraction_roundtrip": float(grid["valid"].sel(time=days).mean()),
              "observed_fraction_world": float(sub["valid"].sel(time=days).mean()),
              "column_rmse_mol_m2": float(np.sqrt((diff ** 2).mean())),
              "column_corr": float(xr.corr(grid["no2_column"].sel(time=days).where(both),
                                           sub["no2_column"].sel(time=days).where(both))),
              "wind_rmse_m_s": float(np.sqrt(((met["u"] - sub["u"]) ** 2 + (met["v"] - sub["v"]) ** 2).mean()))}
    return {"scores": scores, "column": column, "grid": grid, "estimates": est, "truth": truth, "days": days,
            "files": [str(f) for f in files], "artifact_command": manifest.get("command", "")}


def roundtrip_summary(rt: dict) -> dict:
    """The round trip's headline numbers from a :func:`roundtrip` result.

    Returns
    -------
    dict
        ``rmse`` and ``corr`` of the network through the L2 path, ``rmse_study1`` and ``corr_study1`` on the
        gridded inputs of the same days, their ``ratio`` (L2 path / gridded), the same RMSEs and ratio for flux
        divergence (``flux_divergence_rmse``, ``flux_divergence_rmse_study1``, ``flux_divergence_ratio``),
        ``n_days``, ``n_files``, ``units`` of the truth, and the column agreement (``rt["column"]``).
    """
    sc = rt["scores"]
    net, net1 = sc["roundtrip/network"], sc["study1/network"]
    fd, fd1 = sc["roundtrip/flux_divergence"], sc["study1/flux_divergence"]
    return {"rmse": float(net["rmse"]), "rmse_study1": float(net1["rmse"]),
            "corr": float(net["corr"]), "corr_study1": float(net1["corr"]),
            "ratio": float(net["rmse"] / net1["rmse"]),
            "flux_divergence_rmse": float(fd["rmse"]), "flux_divergence_rmse_study1": float(fd1["rmse"]),
            "flux_divergence_ratio": float(fd["rmse"] / fd1["rmse"]),
            "n_days": len(rt["days"]), "n_files": len(rt["files"]), "units": rt["truth"].attrs.get("units", ""),
            **rt["column"]}


def world_cycles(field: xr.DataArray, *, box: tuple[float, float, float, float] = BEIJING_BOX) -> dict:
    """Weekly amplitude and winter/summer ratio of a world field (time, lat, lon) averaged over ``box``.

    Returns
    -------
    dict
        ``weekly`` (7 means, Monday first), ``weekly_amplitude`` ((max - min) / mean), ``winter_summer_ratio``
        (DJF / JJA mean), ``n_cells``.
    """
    la0, la1, lo0, lo1 = box
    sub = field.sel(lat=slice(la0, la1), lon=slice(lo0, lo1))
    if sub.sizes["lat"] * sub.sizes["lon"] == 0:
        raise DataError(f"world_cycles: box {box} has no cell of the world's grid")
    series = sub.mean(("lat", "lon"))
    weekly = series.groupby("time.dayofweek").mean("time").values
    m = series["time"].dt.month
    ratio = float(series.where(m.isin([12, 1, 2])).mean() / series.where(m.isin([6, 7, 8])).mean())
    return {"weekly": [float(v) for v in weekly], "weekly_amplitude": float((weekly.max() - weekly.min()) / weekly.mean()),
            "winter_summer_ratio": ratio, "n_cells": int(sub.sizes["lat"] * sub.sizes["lon"])}
