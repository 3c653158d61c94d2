"""Data sets of the GMI study: radar-driven and stochastic scenes, simulated in each climate regime.

:func:`build_scenes` cuts rain patches from real radar composites (split by time: the earliest frames train,
the latest test) and adds stochastic fields; :func:`simulate_scenes` turns them, with their environment,
into brightness temperatures of a sensor in a climate regime; :func:`input_channels` names the
network inputs with statistics of the present-climate training set.

Public names: :class:`GMIProfile`, :data:`GMI_PROFILES`, :func:`build_scenes`, :func:`simulate_scenes`,
:func:`network_inputs`, :func:`input_channels`, :func:`data_checksums`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from ..conventions import CHANNEL, UNITS, X, Y
from .climate import apply_regime, get_regime
from .gmi_simulator import (SAMPLE, _expand, extract_patches, load_radar_fields, make_environment, simulate_tb,
                            stochastic_rain_fields)

__all__ = ["GMIProfile", "GMI_PROFILES", "build_scenes", "simulate_scenes", "network_inputs", "input_channels",
           "data_checksums", "DEFAULT_RAIN_FILES", "DEFAULT_IMPORTER"]

DEFAULT_RAIN_FILES = "data/radar_rain/knmi_rap_5min_20100826/*.h5"
DEFAULT_IMPORTER = "knmi_hdf5"


@dataclass(frozen=True)
class GMIProfile:
    """Sizes of one run: radar files read, stochastic scenes, patch size, training epochs."""

    max_files: int | None
    n_stochastic: int
    size: int = 32
    coarsen: int = 2
    epochs: int = 30
    base_channels: int = 16
    n_database: int = 600
    fm_steps: int = 8
    fm_members: int = 8


GMI_PROFILES: dict[str, GMIProfile] = {
    "ci": GMIProfile(max_files=46, n_stochastic=900, n_database=2000, fm_steps=6, fm_members=6),
    "smoke": GMIProfile(max_files=3, n_stochastic=40, epochs=1, base_channels=8, n_database=200, fm_steps=2,
                        fm_members=2),
    "paper": GMIProfile(max_files=None, n_stochastic=3000, epochs=60, n_database=2000, fm_steps=16, fm_members=16),
}


def build_scenes(rain_files: str = DEFAULT_RAIN_FILES, *, importer: str = DEFAULT_IMPORTER, profile: GMIProfile,
                 seed: int = 0, fractions: tuple[float, float] = (0.65, 0.1)) -> xr.DataArray:
    """Return present-climate rain patches with a ``split`` coordinate (``train``/``val``/``test``).

    Radar patches are split by frame time (the first ``fractions[0]`` of the frames train, the next
    ``fractions[1]`` validate, the rest test), so no test scene is a neighbour in time of a training scene;
    stochastic patches are split at random with the same fractions.

    Returns
    -------
    xr.DataArray
        Dims ``(sample, y, x)``, units ``mm h-1``; coordinates ``split`` and ``source`` (``radar``/``stochastic``).
    """
    radar = load_radar_fields(rain_files, importer=importer, coarsen=profile.coarsen, max_files=profile.max_files)
    patches = extract_patches(radar, size=profile.size)
    n_frames = radar.sizes["time"]
    edges = np.array(fractions).cumsum() * n_frames
    frame = patches["frame"].values
    split_r = np.where(frame < edges[0], "train", np.where(frame < edges[1], "val", "test"))
    stoch = stochastic_rain_fields(profile.n_stochastic, size=profile.size, seed=seed + 1000,
                                   pixel_km=float(radar.attrs["pixel_km"]))
    u = np.random.default_rng(seed + 2000).uniform(size=profile.n_stochastic)
    split_s = np.where(u < fractions[0], "train", np.where(u < sum(fractions), "val", "test"))
    data = np.concatenate([patches.values, stoch.values]).astype(np.float32)
    return xr.DataArray(data, dims=(SAMPLE, Y, X),
                        coords={SAMPLE: np.arange(len(data)), "split": (SAMPLE, np.concatenate([split_r, split_s])),
                                "source": (SAMPLE, np.array(["radar"] * len(patches) + ["stochastic"] * len(stoch)))},
                        name="surface_precip",
                        attrs={"units": UNITS["rain_rate"], "long_name": "surface precipitation rate",
                               "pixel_km": float(radar.attrs["pixel_km"]), "importer": importer,
                               "rain_files": str(rain_files)})


def simulate_scenes(rain: xr.DataArray, *, regime: str = "present", sensor: str = "gmi", seed: int = 0,
                    delta_t: np.ndarray | None = None) -> xr.Dataset:
    """Simulate ``sensor`` observations of ``rain`` (present climate) in ``regime``.

    The environment of each scene is drawn with ``seed`` (the same for every regime, so regimes are paired
    scene by scene); the regime then warms it and intensifies the rain (:func:`~eoretrieval.rain.climate.apply_regime`).
    With ``delta_t`` (one warming per scene, K) the scenes get individual warmings instead (hybrid training).

    Returns
    -------
    xr.Dataset
        ``tb`` (sample, channel, y, x) K, ``surface_precip`` (sample, y, x) mm h-1, ``land_fraction``,
        ``surface_temperature``, ``tcwv``, ``freezing_level``; attrs ``regime``, ``sensor``.
    """
    size = rain.sizes[Y]
    env = make_environment(rain.sizes[SAMPLE], size=size, seed=seed)
    env = env.assign_coords({SAMPLE: rain[SAMPLE].values})
    if delta_t is None:
        r, e = apply_regime(rain, env, regime)
        name = get_regime(regime).name
    else:
        from .climate import Regime
        dt = xr.DataArray(np.asarray(delta_t, dtype=float), dims=SAMPLE, coords={SAMPLE: rain[SAMPLE].values})
        r, e = apply_regime(rain, env, Regime("hybrid", dt))
        r.attrs["delta_t"] = float(dt.mean())
        e.attrs["delta_t"] = float(dt.mean())
        name = "hybrid"
    # the control regimes share plus4K's noise draw: they differ from it in the rain only
    noise_seed = seed + {"present": 11, "plus2K": 12, "plus4K": 13, "hybrid": 14}.get(name, 13) * 7919
    tb = simulate_tb(r, e, sensor=sensor, seed=noise_seed)
    ds = xr.Dataset({"tb": tb, "surface_precip": r, "land_fraction": e["land_fraction"],
                     "surface_temperature": e["surface_temperature"], "tcwv": e["tcwv"],
                     "freezing_level": e["freezing_level"]})
    ds.attrs = {"regime": name, "sensor": sensor}
    return ds


def network_inputs(ds: xr.Dataset) -> np.ndarray:
    """Stack ``tb`` channels and ``land_fraction`` into ``(sample, channel + 1, y, x)`` float32 (unnormalised)."""
    tb = ds["tb"].transpose(SAMPLE, CHANNEL, Y, X).values
    land = ds["land_fraction"].transpose(SAMPLE, Y, X).values[:, None]
    return np.concatenate([tb, land], axis=1).astype(np.float32)


def input_channels(ds: xr.Dataset) -> list[str]:
    """Names of the network input channels of :func:`network_inputs`: the sensor's channels, then ``land_fraction``."""
    return [str(c) for c in ds["tb"][CHANNEL].values] + ["land_fraction"]


def data_checksums(rain_files: str) -> dict[str, str]:
    """SHA-256 (first 16 hex digits) of every file matched by ``rain_files``."""
    out = {}
    for path in _expand(rain_files):
        with open(path, "rb") as f:
            out[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()[:16]
    return out
