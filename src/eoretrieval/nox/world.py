"""The synthetic NOx world of Study 1: true emissions, transport, TROPOMI-like observations.

:func:`make_nox_world` builds, deterministically from a seed, a daily dataset over eastern China:

1. true emissions drawn per world from real proxies (:mod:`eoretrieval.nox.inventory`: plants switched on or
   off and rescaled, new plants, sector maps with per-world factors, per-sector and per-region trends, an
   occasional lockdown-like dip), and the prior, the generator's mean inventory
   (:func:`eoretrieval.nox.inventory.expected_inventory`);
2. daily boundary-layer winds from the ERA-Interim climatology plus synoptic noise
   (:mod:`eoretrieval.nox.winds`);
3. a NOx lifetime varying with season and latitude,
   :math:`\\tau = \\tau_s(\\varphi) + (\\tau_w(\\varphi) - \\tau_s(\\varphi))\\tfrac12(1 + \\cos(2\\pi(d-15)/365.25))`,
   linear in latitude between ``tau_summer_h`` and ``tau_winter_h`` given at 18 N and 45 N
   (3–6 h in summer to 10–24 h in winter; the ranges of :cite:`beirle2011`, :cite:`lange2022`);
4. the NOx column at the 13:30 overpass from the 2-D transport model
   (:mod:`eoretrieval.nox.transport`), state carried from day to day;
5. TROPOMI-like NO2 observations (:mod:`eoretrieval.nox.tropomi_operator`).

The transport runs day-sequentially in ``chunk_days`` blocks that are integrated in parallel as a
batch; each block is spun up over the ``spinup_days`` real days before it (from the background
column), so block boundaries carry a tiny spin-up error (measured in the tests, well below 1 %).
Every day uses the same number of sub-steps (``transport_substeps_per_day`` attribute, from the
CFL condition on the whole wind record), so :func:`eoretrieval.nox.transport.simulate_day` with
the dataset's fields reproduces ``nox_column`` exactly from ``nox_column`` of the previous day.

Seeds: one :class:`numpy.random.SeedSequence` per world seed, spawned into independent streams
for the inventory draw, the daily emission noise, winds and observations; another seed gives another
inventory, other trends and other weather over the same real proxies. The seeds of the training,
validation, test and shifted-domain worlds are disjoint (:data:`eoretrieval.nox.profiles.WORLD_SEEDS`).
A world's ``split_*`` attributes default to its whole period ("all"): worlds, not dates, are split.

What "13:30" means in a daily model: each day is one 24-hour transport window that ends at the TROPOMI
overpass (13:30 local solar time); the emission of a day is the mean rate over that window, and the
column of the day is the state at its end, the snapshot the satellite sees. Diurnal cycles of emission,
mixing depth and chemistry are not resolved: the lifetime is a daily effective one.

Public names: :class:`NoxWorldConfig`, :data:`NOX_PROFILES`, :func:`make_nox_world`,
:func:`nox_lifetime`, :func:`world_grid`, :func:`split_days`, :func:`world_path`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from eoretrieval.config import cache_dir, get_profile
from eoretrieval.errors import DataError

__all__ = ["NoxWorldConfig", "NOX_PROFILES", "SHIFTED_DOMAIN", "make_nox_world", "nox_lifetime", "world_grid", "split_days",
           "world_path", "WORLD_VERSION", "SPLITS"]

#: Bumped whenever the generator changes; part of the cache key.
WORLD_VERSION = "2"


@dataclass(frozen=True)
class NoxWorldConfig:
    """Settings of a synthetic NOx world (all physical units stated per field).

    Grid: cell centres from ``lat0 + res/2`` to ``lat1 - res/2`` (degrees north), likewise lon.
    """

    lat0: float = 28.0
    lat1: float = 44.0
    lon0: float = 108.0
    lon1: float = 124.0
    resolution: float = 0.25  #: degrees
    start: str = "2021-01-01"
    end: str = "2022-12-31"
    #: "all" (the whole period: worlds, not dates, are split) or "YYYY-MM-DD/YYYY-MM-DD"
    split_train: str = "all"
    split_val: str = "all"
    split_test: str = "all"
    # emissions (see eoretrieval.nox.inventory)
    national_total_tg: float = 22.0  #: Tg NO2 yr-1, base year
    sector_sigma: float = 0.25  #: lognormal sigma of the per-world sector factors
    plant_off_prob: float = 0.15  #: probability that a power plant is switched off in a world
    plant_factor_sigma: float = 0.35  #: lognormal sigma of a plant's capacity x emission-factor scaling
    new_plants_mean: float = 8.0  #: mean number of new coal plants in the domain
    industry_sigma: float = 0.8  #: lognormal sigma of a city's industrial intensity
    city_sigma: float = 0.4  #: lognormal sigma of per-city residential and per-corridor transport factors
    trend_range_pct: tuple = (-45.0, 10.0)  #: per-sector, per-region trend over the period (%), uniform
    lockdown_prob: float = 0.5
    lockdown_days: tuple = (20, 60)
    lockdown_depth: tuple = (0.2, 0.6)
    daily_noise: float = 0.15  #: lognormal sigma of the day-to-day variability
    # winds
    wind_scale: float = 0.7
    synoptic_std: float = 3.0  #: m s-1
    synoptic_length_km: float = 400.0
    synoptic_timescale_days: float = 3.0
    # lifetime (h) at 18 N and 45 N
    tau_summer_h: tuple = (3.0, 6.0)
    tau_winter_h: tuple = (10.0, 24.0)
    # transport
    diffusivity: float = 1000.0  #: m2 s-1
    #: advective flux of the transport model, "upwind" (first order) or "vanleer" (second order, flux-limited);
    #: see :mod:`eoretrieval.nox.transport` for the numerical diffusion of each
    advection: str = "vanleer"
    background_nox: float = 1.0e-5  #: mol m-2, inflow at open boundaries and initial state
    cfl: float = 0.9
    spinup_days: int = 5
    chunk_days: int = 30
    # observation operator (see eoretrieval.nox.tropomi_operator.observe)
    no2_nox_ratio: float = 0.75
    ratio_std: float = 0.05
    amf_rel_error: float = 0.15
    amf_length_km: float = 100.0
    noise_abs: float = 1.66e-5  #: mol m-2 (1e15 molec cm-2), one TROPOMI pixel
    noise_rel: float = 0.1  #: one TROPOMI pixel
    pixel_area_km2: float = 19.25  #: nadir pixel 5.5 x 3.5 km; 0 = one pixel per cell
    amf_bias_std: float = 0.1  #: std of the per-world systematic AMF bias
    cloud_weather_corr: float = 0.5  #: correlation of the cloud field with the wind vorticity
    cloud_cover: float = 0.45
    cloud_length_km: float = 100.0
    cloud_seasonal_amplitude: float = 0.1
    cloud_threshold: float = 0.3
    no2_background: float = 8.0e-6  #: mol m-2

    def __post_init__(self):
        for name in ("lat", "lon"):
            a, b = getattr(self, name + "0"), getattr(self, name + "1")
            n = (b - a) / self.resolution
            if b <= a or abs(n - round(n)) > 1e-6:
                raise ValueError(f"{name}0/{name}1 = {a}/{b} must be increasing and a whole number of "
                                 f"resolution = {self.resolution} cells")
        if pd.Timestamp(self.end) <= pd.Timestamp(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if self.advection not in ("upwind", "vanleer"):
            raise ValueError(f"advection must be 'upwind' or 'vanleer', got {self.advection!r}")
        lo, hi = self.trend_range_pct
        if not -100 < lo <= hi:
            raise ValueError(f"trend_range_pct must be (low, high) with -100 < low <= high, got {self.trend_range_pct}")

    @property
    def shape(self) -> tuple[int, int]:
        return (round((self.lat1 - self.lat0) / self.resolution), round((self.lon1 - self.lon0) / self.resolution))


#: Profiles: "ci" = 64 x 64 cells of 0.25 deg over the North China Plain / Yangtze delta;
#: "paper" = 224 x 208 cells of 0.125 deg over 17.5-45.5 N, 100-126 E (sizes divisible by 16).
NOX_PROFILES = {
    "ci": NoxWorldConfig(),
    "paper": NoxWorldConfig(lat0=17.5, lat1=45.5, lon0=100.0, lon1=126.0, resolution=0.125, chunk_days=92),
}

#: The shifted domain per profile: a part of China no training world covers (south China: Pearl River
#: delta, Guangxi, Fujian, Hainan; 12-28 N, 104-120 E for "ci", disjoint from the training domain 28-44 N).
SHIFTED_DOMAIN = {
    "ci": {"lat0": 12.0, "lat1": 28.0, "lon0": 104.0, "lon1": 120.0},
    "paper": {"lat0": 17.5, "lat1": 45.5, "lon0": 74.0, "lon1": 100.0},
}


def world_grid(config: NoxWorldConfig) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitudes and longitudes (degrees, ascending) of a config."""
    ny, nx = config.shape
    r = config.resolution
    lat = np.round(config.lat0 + r * (np.arange(ny) + 0.5), 6)
    lon = np.round(config.lon0 + r * (np.arange(nx) + 0.5), 6)
    return lat, lon


def nox_lifetime(lat, dates, *, tau_summer_h=(3.0, 6.0), tau_winter_h=(10.0, 24.0)) -> np.ndarray:
    """NOx lifetime (h) for each day and latitude, shape (time, lat).

    Linear in latitude between the values given at 18 N and 45 N (extrapolated outside, floored
    at 1 h), cosine in day of year between summer (mid-July) and winter (mid-January).

    References: :cite:`beirle2011` (τ ≈ 4 h in summer at low latitudes, up to ~8 h at Moscow in
    summer and ~1 day in winter), :cite:`lange2022` (TROPOMI-derived lifetimes 2–8 h, longer at
    higher latitudes and in winter).
    """
    lat = np.asarray(lat, dtype=float)
    x = (lat - 18.0) / 27.0
    ts = tau_summer_h[0] + (tau_summer_h[1] - tau_summer_h[0]) * x
    tw = tau_winter_h[0] + (tau_winter_h[1] - tau_winter_h[0]) * x
    doy = pd.DatetimeIndex(dates).day_of_year.values.astype(float)
    w = 0.5 * (1 + np.cos(2 * np.pi * (doy - 15.0) / 365.25))[:, None]
    return np.maximum(ts[None] + (tw - ts)[None] * w, 1.0)


#: Names of the splits a world declares in its ``split_<name>`` attributes.
SPLITS = ("train", "val", "test")


def split_days(world: xr.Dataset, split: str) -> pd.DatetimeIndex:
    """Days of ``world`` in the split ``"train"``, ``"val"`` or ``"test"`` (attr ``split_<name>``, inclusive).

    The one parser of the splits: the baselines, the features and the training command call it.

    Raises
    ------
    ValueError
        If ``split`` is not one of :data:`SPLITS`.
    DataError
        If the attribute is missing or not ``"YYYY-MM-DD/YYYY-MM-DD"`` (the message names the world).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {list(SPLITS)}")
    key = f"split_{split}"
    name = world.attrs.get("title", "NOx world")
    if key not in world.attrs:
        raise DataError(f"{name}: attribute {key!r} missing; expected 'YYYY-MM-DD/YYYY-MM-DD'")
    try:
        start, end = (pd.Timestamp(s) for s in str(world.attrs[key]).split("/"))
    except ValueError as err:
        raise DataError(f"{name}: attribute {key!r} = {world.attrs[key]!r}; expected 'YYYY-MM-DD/YYYY-MM-DD'") from err
    times = pd.DatetimeIndex(world["time"].values)
    return times[(times >= start) & (times <= end + pd.Timedelta("23h59min"))]


def _config_for(profile: str, overrides: dict) -> NoxWorldConfig:
    base = get_profile(profile, NOX_PROFILES)
    valid = {f.name for f in dataclasses.fields(NoxWorldConfig)}
    bad = sorted(set(overrides) - valid)
    if bad:
        raise ValueError(f"unknown NoxWorldConfig field(s) {bad}; valid fields: {sorted(valid)}")
    return dataclasses.replace(base, **overrides)


def _config_json(config: NoxWorldConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def world_path(*, profile: str = "ci", seed: int = 0, **overrides) -> Path:
    """Cache file of a world: ``cache_dir()/nox_world_<profile>_s<seed>_<hash>.nc``."""
    config = _config_for(profile, overrides)
    key = hashlib.sha256(f"{WORLD_VERSION}|{profile}|{int(seed)}|{_config_json(config)}".encode()).hexdigest()[:16]
    return cache_dir() / f"nox_world_{str(profile).lower()}_s{int(seed)}_{key}.nc"


def _run_transport(emission, u, v, tau_h, lat, lon, config, progress=True, device="cpu"):
    """Chunk-parallel day-sequential transport; returns (columns (time, lat, lon), n_substeps)."""
    import torch
    from tqdm import tqdm

    from eoretrieval.nox.transport import SphericalGrid, cfl_substeps, simulate_day

    grid = SphericalGrid.from_coords(lat, lon)
    n_sub = cfl_substeps(u, v, grid, duration=86400.0, cfl=config.cfl, diffusivity=config.diffusivity)
    nt = emission.shape[0]
    L, S = int(config.chunk_days), int(config.spinup_days)
    starts = np.arange(0, nt, L)
    idx = np.stack([np.clip(np.arange(s - S, s + L), 0, nt - 1) for s in starts])  # (chunk, S+L)
    # before the first day, the spin-up repeats day 0
    out = np.empty_like(emission, dtype=np.float32)
    geom = grid.tensors(dtype=torch.float32, device=device)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(device)  # noqa: E731
    inv_tau_all = 1.0 / (3600.0 * tau_h)  # (time, lat)
    with torch.no_grad():
        c = torch.full((len(starts), *emission.shape[1:]), float(config.background_nox), device=device)
        prev = np.clip(idx[:, 0] - 1, 0, nt - 1)
        u_prev, v_prev = t(u[prev]), t(v[prev])
        for j in tqdm(range(S + L), desc="NOx transport", disable=not progress, leave=False):
            d = idx[:, j]
            u1, v1 = t(u[d]), t(v[d])
            # the chunks are a batch dim: the one forward model M, the same the variational inversion runs
            c = simulate_day(c, t(emission[d]), u_prev, v_prev, u1, v1, t(inv_tau_all[d])[:, :, None], grid,
                             n_substeps=n_sub, diffusivity=config.diffusivity, boundary="open",
                             background=config.background_nox, geom=geom, scheme=config.advection)
            u_prev, v_prev = u1, v1
            if j >= S:
                days = starts + (j - S)
                ok = days < nt
                out[days[ok]] = c.cpu().numpy()[ok]
    return out, n_sub


def _generate(config: NoxWorldConfig, profile: str, seed: int, progress: bool = True,
              device: str = "cpu") -> xr.Dataset:
    from tqdm import tqdm

    from eoretrieval.nox.inventory import regions_of
    from eoretrieval.nox.inventory import as_dataarray, daily_emissions, draw_inventory, expected_inventory
    from eoretrieval.nox.tropomi_operator import observe
    from eoretrieval.nox.winds import make_winds

    t0 = _time.perf_counter()
    steps = tqdm(total=5, desc=f"NOx world ({profile}, seed {seed})", disable=not progress)
    lat, lon = world_grid(config)
    dates = pd.date_range(config.start, config.end, freq="D")
    ss = np.random.SeedSequence([int(seed), 2021])
    r_inv, r_noise, r_wind, r_obs = ss.spawn(4)
    obs_seed = int(r_obs.generate_state(1)[0])
    rng_inv = np.random.default_rng(r_inv)
    inventory = draw_inventory(lat, lon, dates, config, rng_inv)
    amf_bias = float(config.amf_bias_std * rng_inv.standard_normal())
    emis = {"emission": as_dataarray(daily_emissions(inventory, lat, lon, dates, rng=np.random.default_rng(r_noise),
                                                     daily_noise=config.daily_noise), lat, lon, dates,
                                     "true daily NOx emission (NO2 eq.)"),
            "prior_emission": as_dataarray(expected_inventory(lat, lon, dates, config), lat, lon, dates,
                                           "prior NOx emission: the world generator's mean inventory (NO2 eq.)")}
    steps.update()
    winds = make_winds(lat, lon, dates, rng=np.random.default_rng(r_wind), wind_scale=config.wind_scale,
                       synoptic_std=config.synoptic_std, synoptic_length_km=config.synoptic_length_km,
                       synoptic_timescale_days=config.synoptic_timescale_days)
    tau_h = nox_lifetime(lat, dates, tau_summer_h=config.tau_summer_h, tau_winter_h=config.tau_winter_h)
    steps.update()
    col, n_sub = _run_transport(emis["emission"].values, winds["u"].values, winds["v"].values, tau_h, lat, lon,
                                config, progress=progress, device=device)
    steps.update()
    coords = {"time": dates, "lat": lat, "lon": lon}
    nox = xr.DataArray(col, dims=("time", "lat", "lon"), coords=coords,
                       attrs={"units": "mol m-2", "long_name": "true NOx column (NO2 eq.) at 13:30 local overpass, "
                              "noise-free", "standard_name": "atmosphere_mole_content_of_nitrogen_oxides"})
    obs = observe(nox, seed=obs_seed, no2_nox_ratio=config.no2_nox_ratio, ratio_std=config.ratio_std,
                  amf_rel_error=config.amf_rel_error, amf_length_km=config.amf_length_km,
                  noise_abs=config.noise_abs, noise_rel=config.noise_rel, cloud_cover=config.cloud_cover,
                  cloud_length_km=config.cloud_length_km, cloud_seasonal_amplitude=config.cloud_seasonal_amplitude,
                  cloud_threshold=config.cloud_threshold, background=config.no2_background, amf_bias=amf_bias,
                  pixel_area_km2=config.pixel_area_km2, winds=(winds["u"], winds["v"]),
                  cloud_weather_corr=config.cloud_weather_corr)
    steps.update()
    lifetime = xr.DataArray(np.broadcast_to(tau_h[:, :, None], col.shape).astype(np.float32),
                            dims=("time", "lat", "lon"), coords=coords,
                            attrs={"units": "h", "long_name": "NOx lifetime (first-order loss)"})
    ds = xr.Dataset({
        "emission": emis["emission"], "prior_emission": emis["prior_emission"], "nox_column": nox,
        **{k: obs[k] for k in obs.data_vars}, "u": winds["u"], "v": winds["v"], "lifetime": lifetime,
        **{f"base_emission_{k}": xr.DataArray(m.astype(np.float32), dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                                              attrs={"units": "mol m-2 s-1",
                                                     "long_name": f"this world's base-year {k} emission"})
           for k, m in inventory.maps.items()},
    })
    ds["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    ds["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    ds["time"].attrs = {"long_name": "day of the 13:30 local-time overpass (emission = daily mean of that day)"}
    ds.attrs = {
        "title": "Synthetic NOx world (OSSE) over eastern China",
        "Conventions": "CF-1.8",
        "source": f"eoretrieval.nox.world.make_nox_world version {WORLD_VERSION}",
        "profile": str(profile).lower(), "seed": int(seed), "config": _config_json(config),
        **{f"split_{k}": (f"{dates[0]:%Y-%m-%d}/{dates[-1]:%Y-%m-%d}" if v == "all" else v)
           for k, v in (("train", config.split_train), ("val", config.split_val), ("test", config.split_test))},
        "inventory": inventory.to_json(), "amf_bias": amf_bias,
        "regions": json.dumps(regions_of(lat, lon)),
        "transport_substeps_per_day": int(n_sub), "transport_diffusivity_m2_s": float(config.diffusivity),
        "transport_background_nox_mol_m2": float(config.background_nox), "transport_boundary": "open",
        "transport_window_s": 86400.0, "transport_scheme": config.advection,
        "no2_background_mol_m2": float(config.no2_background),
        "overpass_local_time": "13:30",
        "generation_seconds": round(_time.perf_counter() - t0, 2),
        **{k: v for k, v in obs.attrs.items() if k != "obs_seed"}, "obs_seed": obs_seed,
    }
    steps.update()
    steps.close()
    return ds


def make_nox_world(*, profile: str = "ci", seed: int = 0, cache: bool = True, progress: bool = True,
                   device: str = "cpu", **overrides) -> xr.Dataset:
    """Build (or load from the cache) the synthetic NOx world.

    Parameters
    ----------
    profile : {"ci", "paper"}
        Base configuration from :data:`NOX_PROFILES`.
    seed : int
        World seed (weather, clouds, noise, day-to-day variability, prior error).
    cache : bool
        Read/write ``world_path(...)`` (netCDF; atomic write via a temporary file and rename).
    progress : bool
        Show tqdm progress bars.
    device : str
        torch device of the transport run ("cpu", "cuda"). Not part of the cache key: a GPU run
        agrees with the CPU run to float32 round-off, not bit for bit. Use "cuda" for "paper".
    **overrides
        Any :class:`NoxWorldConfig` field, e.g. ``noise_abs=3.3e-5``, ``cloud_cover=0.7``,
        ``start="2019-01-01", end="2019-03-31"``.

    Returns
    -------
    xr.Dataset
        Dims (time, lat, lon); variables ``emission``, ``prior_emission`` (mol m-2 s-1), ``nox_column``,
        ``no2_column``, ``no2_column_precision``, ``no2_column_true`` (mol m-2), ``valid`` (uint8),
        ``cloud_fraction``, ``no2_nox_ratio``, ``amf_error`` (1), ``u``, ``v`` (m s-1), ``lifetime`` (h),
        ``n_pixels`` (1), ``base_emission_<sector>`` (lat, lon; mol m-2 s-1). Attrs: splits, seed, profile,
        config (JSON), ``inventory`` (JSON: trends per sector and region, dip, counts), ``amf_bias``, ``regions``
        (JSON: name -> lat0, lat1, lon0, lon1), transport settings.

    Raises
    ------
    ValueError
        Unknown profile or unknown/invalid override.

    Examples
    --------
    >>> ds = make_nox_world(profile="ci", seed=1, cache=False, progress=False,
    ...                     start="2019-01-01", end="2019-01-10", lat0=36.0, lat1=40.0, lon0=114.0, lon1=118.0)
    >>> ds["no2_column"].dims, ds["emission"].attrs["units"]
    (('time', 'lat', 'lon'), 'mol m-2 s-1')
    """
    config = _config_for(profile, overrides)
    path = world_path(profile=profile, seed=seed, **overrides)
    big = config.shape[0] * config.shape[1] > 128 * 128
    if cache and path.exists():
        return xr.open_dataset(path, chunks={"time": 64}) if big else xr.load_dataset(path)
    ds = _generate(config, str(profile).lower(), int(seed), progress=progress, device=device)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        enc = {k: {"zlib": True, "complevel": 1} for k in ds.data_vars}
        try:
            (ds.chunk({"time": 64}) if big else ds).to_netcdf(tmp, encoding=enc)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        if big:
            ds.close()
            return xr.open_dataset(path, chunks={"time": 64})
    return ds
