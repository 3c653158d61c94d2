"""Study 2's end-to-end checks: the real-data path on format-exact TROPOMI files, and the world's realism.

- :func:`roundtrip` — a study-1 world → TROPOMI L2 orbits in the product's layout
  (:mod:`~eoretrieval.nox.tropomi_l2`) → the reader (:mod:`eoretrieval.io.tropomi`) → daily area-weighted
  oversampling (:mod:`~eoretrieval.nox.oversample`, dask) → study 1's network and flux divergence → scores
  against the world's true emissions, next to study 1 on the gridded inputs of the same world and days.
  Study 1's code is reached through one adapter, :func:`study1_api`.
- :func:`world_cycles` — weekly amplitude and winter/summer ratio of the world's NO2 in a box, to set
  against the stations (:func:`eoretrieval.nox.deweather.weekly_amplitude`, ``winter_summer_ratio``).
- :data:`STUDY2_PROFILES` — sizes of the "ci" and "paper" runs.

Public names: :class:`Study2Config`, :data:`STUDY2_PROFILES`, :func:`study1_api`, :func:`roundtrip_days`,
:func:`roundtrip`, :func:`roundtrip_summary`, :func:`world_cycles`, :data:`BEIJING_BOX`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["Study2Config", "STUDY2_PROFILES", "study1_api", "roundtrip_days", "roundtrip", "roundtrip_summary",
           "world_cycles", "BEIJING_BOX"]

#: (lat_min, lat_max, lon_min, lon_max) of urban Beijing and its surroundings (the 12 stations lie inside)
BEIJING_BOX = (39.5, 40.5, 115.75, 117.0)


@dataclass(frozen=True)
class Study2Config:
    """Sizes of a study-2 run."""

    n_draws: int = 50  #: weather draws per day in the normalisation
    n_boot: int = 1000  #: bootstrap replicates
    max_iter: int = 300  #: boosting iterations
    roundtrip_days: int = 24  #: evaluated days of the round trip (each with the days its inputs need)
    n_sub: int = 5  #: sub-pixels per side in the oversampling


STUDY2_PROFILES = {"ci": Study2Config(), "paper": Study2Config(n_draws=200, n_boot=2000, roundtrip_days=60)}


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
    with_history = chosen
    for k in range(1, history + 1):
        with_history = with_history.union(chosen - pd.Timedelta(days=k))
    return chosen, with_history


def roundtrip(world: xr.Dataset, artifact: str | os.PathLike, folder: str | os.PathLike, *, n_days: int,
              tropomi_files=None, seed: int = 0, n_sub: int = 5, scheduler=None, device: str = "cpu") -> dict:
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
    tropomi_files : glob or list, optional
        Use these L2 files instead of writing them (they must cover the days).
    scheduler
        Passed to :func:`~eoretrieval.nox.oversample.oversample_daily` (None: in-process).

    Returns
    -------
    dict
        ``scores`` (``roundtrip``/``study1`` × ``network``/``flux_divergence``, each a dict of study-1 scores),
        ``grid`` (the oversampled Dataset), ``estimates`` (DataArrays), ``days``, ``files``.
    """
    from .features import history_days
    from .oversample import oversample_daily
    from .tropomi_l2 import write_world_orbits

    api = study1_api()
    model, objective, norm, manifest = api["load_artifact"](artifact, device=device)
    history = history_days(norm.channels)
    days, with_prev = roundtrip_days(world, n_days, history=history, block=3 if history > 1 else 1)
    sub = world.sel(time=with_prev).load()
    if tropomi_files is None:
        files = write_world_orbits(sub, with_prev, Path(folder), seed=seed)
    else:
        from ..io.stations import expand_paths

        files = expand_paths(tropomi_files)
    grid = oversample_daily([str(f) for f in files], world["lat"].values, world["lon"].values, days=with_prev,
                            n_sub=n_sub, scheduler=scheduler)
    rt_world = sub.copy()
    rt_world["no2_column"] = grid["no2_column"].astype(np.float32).assign_attrs(sub["no2_column"].attrs)
    rt_world["valid"] = grid["valid"].astype(np.uint8)
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
                                           sub["no2_column"].sel(time=days).where(both)))}
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
        from ..errors import DataError

        raise DataError(f"world_cycles: box {box} has no cell of the world's grid")
    series = sub.mean(("lat", "lon"))
    weekly = series.groupby("time.dayofweek").mean("time").values
    m = series["time"].dt.month
    ratio = float(series.where(m.isin([12, 1, 2])).mean() / series.where(m.isin([6, 7, 8])).mean())
    return {"weekly": [float(v) for v in weekly], "weekly_amplitude": float((weekly.max() - weekly.min()) / weekly.mean()),
            "winter_summer_ratio": ratio, "n_cells": int(sub.sizes["lat"] * sub.sizes["lon"])}
