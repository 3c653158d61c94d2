"""Study 2's end-to-end checks: the real-data path on format-exact TROPOMI files, and the world's realism.

- :func:`roundtrip` — a study-1 world → TROPOMI L2 orbits in the product's layout
  (:mod:`~eoretrieval.nox.tropomi_l2`) → the reader (:mod:`eoretrieval.io.tropomi`) → daily area-weighted
  oversampling (:mod:`~eoretrieval.nox.oversample`, dask), and its winds → hourly ERA5 pressure-level files in the
  CDS layout → :mod:`eoretrieval.io.era5` → daily boundary-layer winds (:mod:`~eoretrieval.nox.era5_winds`)
  → study 1's network and flux divergence → scores
  against the world's true emissions, next to study 1 on the gridded inputs of the same world and days.
  Study 1's code is reached through one adapter, :func:`study1_api`.
- :func:`estimate_real` — the same path on real files (no world): orbits and ERA5 winds → :func:`real_inputs`
  (columns, winds, the NOx lifetime, the prior of :func:`model_prior`, the configured background) → emissions;
  :func:`roundtrip` calls it on the files it writes, so the round trip tests the code real files go through.
- the lockdown comparison (:mod:`eoretrieval.nox.changes`) run through :func:`roundtrip` on a world whose dip is
  known checks the whole path on the question a user would ask of the archive.
- :func:`world_cycles` — weekly amplitude and winter/summer ratio of the world's NO2 in a box, to set
  against the stations (:func:`eoretrieval.nox.deweather.weekly_amplitude`, ``winter_summer_ratio``).
- :data:`STUDY2_PROFILES` — sizes of the "ci" and "paper" runs.

Public names: :class:`Study2Config`, :data:`STUDY2_PROFILES`, :func:`study1_api`, :func:`roundtrip_days`,
:func:`roundtrip`, :func:`roundtrip_summary`, :func:`world_config`, :func:`model_prior`, :func:`real_inputs`,
:func:`estimate_real`, :func:`world_cycles`, :data:`BEIJING_BOX`.
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
           "world_config", "model_prior", "real_inputs", "estimate_real", "world_cycles", "BEIJING_BOX"]

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


def world_config(world: xr.Dataset):
    """The :class:`~eoretrieval.nox.world.NoxWorldConfig` a world was made with (its ``config`` attribute)."""
    import json

    from .world import NoxWorldConfig

    if "config" not in world.attrs:
        raise DataError(f"{world.attrs.get('title', 'NOx world')}: attribute 'config' missing; make the world with "
                        "eoretrieval.nox.make_nox_world")
    return NoxWorldConfig(**{k: tuple(v) if isinstance(v, list) else v
                             for k, v in json.loads(world.attrs["config"]).items()})


def model_prior(lat, lon, days, config) -> xr.DataArray:
    """The prior emission of the model for ``days`` (mol m-2 s-1, ``(time, lat, lon)``).

    The world generator's mean inventory over the config's period (what the networks were trained with, see
    :func:`~eoretrieval.nox.inventory.expected_inventory`); a day outside that period takes the value of the day a
    whole number of 52 weeks away inside it (same weekday, the season within a few days), so real days of other
    years get the prior of their calendar place, without a trend extrapolated beyond the training period.

    Raises
    ------
    DataError
        If the period is shorter than 52 weeks and a day cannot be mapped into it.
    """
    from .inventory import as_dataarray, expected_inventory

    period = pd.date_range(config.start, config.end, freq="D")
    full = expected_inventory(np.asarray(lat), np.asarray(lon), period, config)
    idx = []
    for d in pd.DatetimeIndex(days):
        k = (d.normalize() - period[0]).days
        if k < 0:
            k += 364 * int(np.ceil(-k / 364))
        elif k > len(period) - 1:
            k -= 364 * int(np.ceil((k - len(period) + 1) / 364))
        if not 0 <= k < len(period):
            raise DataError(f"prior: {d:%Y-%m-%d} cannot be mapped into the prior's period {period[0]:%Y-%m-%d} to "
                            f"{period[-1]:%Y-%m-%d} (shorter than 52 weeks)")
        idx.append(k)
    return as_dataarray(full[idx], lat, lon, pd.DatetimeIndex(days),
                        "prior NOx emission: the world generator's mean inventory (NO2 eq.)")


def real_inputs(grid: xr.Dataset, met: xr.Dataset, *, config) -> xr.Dataset:
    """The model's inputs from real-format data: oversampled columns (``grid``, from
    :func:`~eoretrieval.nox.oversample.oversample_daily`) and daily winds (``met``, from
    :func:`~eoretrieval.nox.era5_winds.daily_boundary_layer_winds`) on the model grid of ``config``, with the NOx
    lifetime (:func:`~eoretrieval.nox.world.nox_lifetime`), the prior (:func:`model_prior`) and the configured
    background column. No true emission: what a user of real orbits has.

    Raises
    ------
    DataError
        If the columns or winds are not on the config's grid, or their days differ (naming the grid's files).
    """
    from .world import nox_lifetime, world_grid

    files = list(np.atleast_1d(grid.attrs.get("source_files", [])))
    src = (f"{files[0]} (and {len(files) - 1} more files)" if len(files) > 1 else files[0]) if files else \
        "oversampled columns"
    lat, lon = world_grid(config)
    for name, ds in (("columns", grid), ("winds", met)):
        if ds.sizes.get("lat") != len(lat) or ds.sizes.get("lon") != len(lon) or not (
                np.allclose(ds["lat"].values, lat) and np.allclose(ds["lon"].values, lon)):
            raise DataError(f"{src}: the {name} are not on the model grid ({len(lat)} x {len(lon)} cells of "
                            f"{config.resolution} deg from {config.lat0} N, {config.lon0} E); expected that grid")
    days = pd.DatetimeIndex(grid["time"].values)
    if not days.equals(pd.DatetimeIndex(met["time"].values)):
        raise DataError(f"{src}: the winds cover other days than the columns")
    coords = {"time": days, "lat": lat, "lon": lon}
    tau = nox_lifetime(lat, days, tau_summer_h=config.tau_summer_h, tau_winter_h=config.tau_winter_h)
    ds = xr.Dataset({
        "no2_column": grid["no2_column"].astype(np.float32).assign_attrs(units="mol m-2"),
        "valid": grid["valid"].astype(np.uint8),
        "u": met["u"].astype(np.float32), "v": met["v"].astype(np.float32),
        "lifetime": xr.DataArray(np.broadcast_to(tau[:, :, None], (len(days), len(lat), len(lon))).astype(np.float32),
                                 dims=("time", "lat", "lon"), coords=coords, attrs={"units": "h"}),
        "prior_emission": model_prior(lat, lon, days, config),
    }, coords=coords)
    ds.attrs = {"title": "NOx model inputs from TROPOMI L2 and ERA5 files", "no2_background_mol_m2":
                float(config.no2_background), "source_files": files}
    return ds


def estimate_real(tropomi_files, era5_files, days, artifact: str | os.PathLike, *, config, n_sub: int = 5,
                  scheduler=None, device: str = "cpu") -> dict:
    """Emissions of ``days`` from real-format files: TROPOMI L2 orbits and ERA5 pressure-level winds (globs or
    lists) → oversampled columns and daily boundary-layer winds (for ``days`` and the days before them that the
    network's inputs need) → :func:`real_inputs` → study 1's network and flux divergence.

    Returns
    -------
    dict
        ``estimates`` (``network``, ``flux_divergence``: ``(time, lat, lon)`` on ``days``), ``inputs``,
        ``grid`` (oversampled columns), ``met`` (winds), ``days``, ``files``, ``artifact_command``.
    """
    from ..io.era5 import read_era5_pressure_levels
    from ..io.stations import expand_paths
    from .era5_winds import daily_boundary_layer_winds
    from .features import history_days
    from .oversample import oversample_daily
    from .world import world_grid

    api = study1_api()
    model, objective, norm, manifest = api["load_artifact"](artifact, device=device)
    days = pd.DatetimeIndex(days).normalize().unique().sort_values()
    with_prev = _with_history(days, history_days(norm.channels))
    lat, lon = world_grid(config)
    files = [str(f) for f in expand_paths(tropomi_files)]
    grid = oversample_daily(files, lat, lon, days=with_prev, n_sub=n_sub, scheduler=scheduler)
    grid.attrs.setdefault("source_files", files)
    met = daily_boundary_layer_winds(read_era5_pressure_levels(era5_files), lat, lon, with_prev)
    inputs = real_inputs(grid, met, config=config)
    est = {"network": api["predict"](model, objective, inputs, days, norm, device=device),
           "flux_divergence": api["flux_divergence"](inputs, days)}
    return {"estimates": est, "inputs": inputs, "grid": grid, "met": met, "days": days, "files": files,
            "artifact_command": manifest.get("command", "")}


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
    from .era5_winds import write_era5_files
    from .features import history_days
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
    files = write_world_orbits(sub, with_prev, Path(folder), seed=seed) if tropomi_files is None else tropomi_files
    if era5_files is None:
        era5_files = write_era5_files(sub[["u", "v"]], Path(folder) / "era5")
    real = estimate_real(files, era5_files, days, artifact, config=world_config(world), n_sub=n_sub,
                         scheduler=scheduler, device=device)
    grid, met = real["grid"], real["met"]
    truth = world["emission"].sel(time=days)
    est = {
        ("roundtrip", "network"): real["estimates"]["network"],
        ("study1", "network"): api["predict"](model, objective, sub, days, norm, device=device),
        ("roundtrip", "flux_divergence"): real["estimates"]["flux_divergence"],
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
            "files": real["files"], "inputs": real["inputs"], "artifact_command": manifest.get("command", "")}


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
