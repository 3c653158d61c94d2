"""A family of NOx inventories: every OSSE world draws its own sources, sector levels, trends and dips.

The first version of the study gave every world the same source map and date-set levels, so a network
could score well by memorising one map. Here each world seed draws, from the same real proxies
(:func:`~eoretrieval.nox.emissions.load_point_sources`, :func:`~eoretrieval.nox.emissions.load_cities`):

Sectors and their spatial proxies (shares of the national total ``national_total_tg``)
--------------------------------------------------------------------------------------
- **power** (0.20): the fossil plants of the WRI list; each plant is switched off with probability
  ``plant_off_prob`` and otherwise scaled by a mean-one lognormal capacity-times-emission-factor factor
  (σ = ``plant_factor_sigma``); a Poisson number (mean ``new_plants_mean``) of new coal plants is built at
  plausible sites: 10–40 km from a city of the domain with at least 300 000 inhabitants (chosen with
  probability proportional to population), capacity drawn from the list's coal plants.
- **industry** (0.30): one industrial zone per city, at a random bearing and a distance of 5–30 km from
  the centre (redrawn per world), kernel 6 km, weight population^0.8 times a lognormal intensity
  (σ = ``industry_sigma``).
- **transport** (0.20): road corridors joining each city of at least 300 000 inhabitants to its three
  nearest such cities (within 400 km), weight √(P_a P_b), sampled every ~5 km with an 8 km kernel; a
  per-world lognormal factor per corridor (σ = ``city_sigma``).
- **residential** (0.15): population with the kernel of :func:`~eoretrieval.nox.emissions.base_emission_map`
  (σ = 10 km √(P/10⁶), 6–40 km), lognormal factor per city (σ = ``city_sigma``).
- **diffuse** (0.15): population with a 150 km kernel.

Each sector's level is multiplied by a per-world mean-one lognormal factor (σ = ``sector_sigma``).

Time
----
Per sector a seasonal cycle (amplitudes :data:`SEASONAL`, winter maximum) and a weekly cycle
(:data:`WEEKEND`); per sector and region (the four quadrants of the domain, :func:`regions_of`) a linear
trend from 1 on the first day to ``1 + p/100`` on the last, ``p`` uniform in ``trend_range_pct``; with
probability ``lockdown_prob`` a national lockdown-like dip (start uniform, length and depth uniform in
``lockdown_days`` and ``lockdown_depth``; industry and transport take the full depth, residential half,
power 30 %, diffuse 30 %; 7-day ramps); a mean-preserving lognormal day-to-day factor (σ = ``daily_noise``,
half regional, half local).

The prior
---------
:func:`expected_inventory` is the mean of this generator over worlds: every random factor at its mean,
plants weighted by their probability of running, new plants and industrial zones spread over their
possible sites, the mean trend path, no dip, no daily noise. It is what averaging infinitely many training
worlds converges to (tested against the mean of drawn worlds); it knows nothing of any one world's draw.

Public names: :class:`InventoryDraw`, :data:`SECTORS`, :data:`SEASONAL`, :data:`WEEKEND`, :func:`regions_of`,
:func:`draw_inventory`, :func:`expected_inventory`, :func:`daily_emissions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from eoretrieval.nox._fields import smooth_fields
from eoretrieval.nox.emissions import (M_NO2, _cell_area, _edges, _gaussian_cell_fractions, load_cities,
                                       load_point_sources)

__all__ = ["InventoryDraw", "SECTORS", "SEASONAL", "WEEKEND", "LOCKDOWN_SHARE", "regions_of", "draw_inventory",
           "expected_inventory", "daily_emissions"]

#: Sectors and their shares of the national total.
SECTORS = {"power": 0.20, "industry": 0.30, "transport": 0.20, "residential": 0.15, "diffuse": 0.15}
#: Seasonal amplitude per sector: factor 1 + a cos(2π(doy − 15)/365.25) (heating in winter).
SEASONAL = {"power": 0.12, "industry": 0.05, "transport": 0.0, "residential": 0.35, "diffuse": 0.10}
#: Weekend factor per sector (relative to weekdays; weekly mean kept at 1).
WEEKEND = {"power": 0.97, "industry": 0.92, "transport": 0.85, "residential": 1.0, "diffuse": 1.0}
#: Fraction of the lockdown depth each sector takes.
LOCKDOWN_SHARE = {"power": 0.3, "industry": 1.0, "transport": 1.0, "residential": 0.5, "diffuse": 0.3}

_EARTH_RADIUS_KM = 6371.0
_SECONDS_PER_YEAR = 365.25 * 86400.0
_BIG_CITY = 3.0e5


@dataclass
class InventoryDraw:
    """The random choices of one world's inventory (all kept, so that a world can be explained).

    Attributes
    ----------
    maps : dict[str, np.ndarray]
        Annual-mean base map per sector (mol m-2 s-1), (lat, lon), before trends and cycles.
    trends_pct : dict[str, dict[str, float]]
        Sector → region → trend over the period (%).
    lockdown : dict or None
        ``start`` (date), ``days``, ``depth`` (fraction), or None.
    summary : dict
        Counts and factors (plants switched off, new plants, sector factors).
    """

    maps: dict
    trends_pct: dict
    lockdown: dict | None
    summary: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"trends_pct": self.trends_pct, "lockdown": self.lockdown, **self.summary}, sort_keys=True)


def regions_of(lat, lon) -> dict[str, tuple[float, float, float, float]]:
    """The four quadrants of a grid: name → (lat0, lat1, lon0, lon1) edges (degrees)."""
    ye, xe = _edges(np.asarray(lat, float)), _edges(np.asarray(lon, float))
    ym, xm = float(ye[len(ye) // 2]), float(xe[len(xe) // 2])
    y0, y1, x0, x1 = float(ye[0]), float(ye[-1]), float(xe[0]), float(xe[-1])
    return {"southwest": (y0, ym, x0, xm), "southeast": (y0, ym, xm, x1),
            "northwest": (ym, y1, x0, xm), "northeast": (ym, y1, xm, x1)}


def _region_masks(lat, lon) -> dict[str, np.ndarray]:
    la, lo = np.meshgrid(np.asarray(lat, float), np.asarray(lon, float), indexing="ij")
    return {k: (la >= a) & (la < b) & (lo >= c) & (lo < d) for k, (a, b, c, d) in regions_of(lat, lon).items()}


def _offset(lat, lon, bearing, dist_km):
    """Points ``dist_km`` away from (lat, lon) along ``bearing`` (radians from north), small-distance approximation."""
    dlat = np.degrees(dist_km * np.cos(bearing) / _EARTH_RADIUS_KM)
    dlon = np.degrees(dist_km * np.sin(bearing) / (_EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    return lat + dlat, lon + dlon


def _near(lat, lon, src_lat, src_lon, margin_deg=3.0):
    return ((src_lat > lat[0] - margin_deg) & (src_lat < lat[-1] + margin_deg)
            & (src_lon > lon[0] - margin_deg) & (src_lon < lon[-1] + margin_deg))


def _kernel_map(lat, lon, src_lat, src_lon, mass, sigma_km) -> np.ndarray:
    """Mass (mol s-1) per cell of Gaussian-spread sources (only those near the grid are computed)."""
    sigma = np.broadcast_to(np.asarray(sigma_km, float), np.shape(src_lat))
    keep = _near(lat, lon, src_lat, src_lon) & (mass > 0)
    if not keep.any():
        return np.zeros((len(lat), len(lon)))
    fy, fx = _gaussian_cell_fractions(lat, lon, src_lat[keep], src_lon[keep], sigma[keep])
    return np.einsum("s,sy,sx->yx", mass[keep], fy, fx)


def _point_map(lat, lon, src_lat, src_lon, mass) -> np.ndarray:
    out, _, _ = np.histogram2d(src_lat, src_lon, bins=[_edges(lat), _edges(lon)], weights=mass)
    return out


def _corridors(cities: pd.DataFrame):
    """Road corridors between big cities: (lat, lon, weight) of points every ~5 km (weights sum per corridor)."""
    big = cities[cities["population"] >= _BIG_CITY].reset_index(drop=True)
    y = np.radians(big["lat"].values)
    x = np.radians(big["lon"].values)
    d = _EARTH_RADIUS_KM * np.sqrt((y[:, None] - y[None]) ** 2 + ((x[:, None] - x[None]) * np.cos(y[:, None])) ** 2)
    np.fill_diagonal(d, np.inf)
    pairs = set()
    for i in range(len(big)):
        for j in np.argsort(d[i])[:3]:
            if d[i, j] <= 400.0:
                pairs.add((min(i, j), max(i, j)))
    pairs = sorted(pairs)
    plat, plon, pw, pid = [], [], [], []
    pop = big["population"].values
    for k, (i, j) in enumerate(pairs):
        n = max(int(d[i, j] / 5.0), 2)
        t = (np.arange(n) + 0.5) / n
        plat.append(big["lat"].values[i] + t * (big["lat"].values[j] - big["lat"].values[i]))
        plon.append(big["lon"].values[i] + t * (big["lon"].values[j] - big["lon"].values[i]))
        pw.append(np.full(n, np.sqrt(pop[i] * pop[j]) / n))
        pid.append(np.full(n, k))
    return np.concatenate(plat), np.concatenate(plon), np.concatenate(pw), np.concatenate(pid), len(pairs)


def _lognormal(rng, sigma, size):
    return np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)


def _sector_maps(lat, lon, config, rng: np.random.Generator | None) -> tuple[dict, dict]:
    """Base maps per sector (mol m-2 s-1): one world's draw (``rng``) or the generator's mean (``rng=None``)."""
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    total = config.national_total_tg * 1e12 / M_NO2 / _SECONDS_PER_YEAR  # mol s-1
    area = _cell_area(lat, lon)
    plants, cities = load_point_sources(), load_cities()
    chn = cities["iso3"] == "CHN"
    pop = cities["population"].values
    summary = {}
    sector_f = {s: 1.0 for s in SECTORS} if rng is None else {
        s: float(f) for s, f in zip(SECTORS, _lognormal(rng, config.sector_sigma, len(SECTORS)))}
    maps = {}
    # power: existing plants (on/off, factor) + new plants near big cities of the domain
    w = plants["weight"].values
    unit = SECTORS["power"] * total / w.sum()      # mol s-1 per unit of weight
    if rng is None:
        scale = np.full(len(w), 1.0 - config.plant_off_prob)
    else:
        on = rng.random(len(w)) >= config.plant_off_prob
        scale = on * _lognormal(rng, config.plant_factor_sigma, len(w))
        inside = _near(lat, lon, plants["lat"].values, plants["lon"].values, margin_deg=0.0)
        summary["plants_in_domain"] = int(inside.sum())
        summary["plants_switched_off_in_domain"] = int((~on & inside).sum())
    power = _point_map(lat, lon, plants["lat"].values, plants["lon"].values, unit * w * scale)
    big = cities[(cities["population"] >= _BIG_CITY) & _near(lat, lon, cities["lat"].values, cities["lon"].values,
                                                               margin_deg=0.0)]
    coal = plants.loc[plants["fuel"] == "Coal", "weight"].values
    if len(big):
        p_site = big["population"].values / big["population"].sum()
        if rng is None:   # expected new-plant mass spread around each candidate city (10-40 km ring ~ 25 km kernel)
            mass = config.new_plants_mean * coal.mean() * unit * p_site
            power = power + _kernel_map(lat, lon, big["lat"].values, big["lon"].values, mass, 25.0)
        else:
            n_new = int(rng.poisson(config.new_plants_mean))
            site = rng.choice(len(big), size=n_new, p=p_site)
            nl, nx = _offset(big["lat"].values[site], big["lon"].values[site], rng.uniform(0, 2 * np.pi, n_new),
                             rng.uniform(10.0, 40.0, n_new))
            power = power + _point_map(lat, lon, nl, nx, unit * rng.choice(coal, size=n_new))
            summary["new_plants"] = n_new
    maps["power"] = power
    # industry: one zone per city, random bearing and distance
    wi = pop ** 0.8
    unit_i = SECTORS["industry"] * total / wi[chn].sum()
    if rng is None:
        maps["industry"] = _kernel_map(lat, lon, cities["lat"].values, cities["lon"].values, unit_i * wi, 20.0)
    else:
        il, ix = _offset(cities["lat"].values, cities["lon"].values, rng.uniform(0, 2 * np.pi, len(cities)),
                         rng.uniform(5.0, 30.0, len(cities)))
        maps["industry"] = _kernel_map(lat, lon, il, ix, unit_i * wi * _lognormal(rng, config.industry_sigma,
                                                                                  len(cities)), 6.0)
    # transport: corridors between big cities
    clat, clon, cw, cid, n_corr = _corridors(cities)
    cf = np.ones(n_corr) if rng is None else _lognormal(rng, config.city_sigma, n_corr)
    maps["transport"] = _kernel_map(lat, lon, clat, clon, SECTORS["transport"] * total / cw.sum() * cw * cf[cid], 8.0)
    # residential and diffuse: population
    per_cap = pop / pop[chn].sum()
    rf = np.ones(len(cities)) if rng is None else _lognormal(rng, config.city_sigma, len(cities))
    sig = np.clip(10.0 * np.sqrt(pop / 1e6), 6.0, 40.0)
    maps["residential"] = _kernel_map(lat, lon, cities["lat"].values, cities["lon"].values,
                                      SECTORS["residential"] * total * per_cap * rf, sig)
    maps["diffuse"] = _kernel_map(lat, lon, cities["lat"].values, cities["lon"].values,
                                  SECTORS["diffuse"] * total * per_cap, 150.0)
    maps = {s: sector_f[s] * m / area for s, m in maps.items()}
    summary["sector_factors"] = sector_f
    return maps, summary


def draw_inventory(lat, lon, dates, config, rng: np.random.Generator) -> InventoryDraw:
    """One world's inventory: sector maps, per-sector/region trends and an optional dip (see the module text).

    ``config`` is a :class:`~eoretrieval.nox.world.NoxWorldConfig` (the inventory settings are its fields).
    """
    maps, summary = _sector_maps(lat, lon, config, rng)
    lo, hi = config.trend_range_pct
    trends = {s: {r: float(rng.uniform(lo, hi)) for r in regions_of(lat, lon)} for s in SECTORS}
    lockdown = None
    dates = pd.DatetimeIndex(dates)
    if rng.random() < config.lockdown_prob and len(dates) > 120:
        days = int(rng.integers(config.lockdown_days[0], config.lockdown_days[1] + 1))
        start = int(rng.integers(30, len(dates) - days - 30))
        lockdown = {"start": f"{dates[start]:%Y-%m-%d}", "days": days,
                    "depth": float(rng.uniform(*config.lockdown_depth))}
    return InventoryDraw(maps=maps, trends_pct=trends, lockdown=lockdown, summary=summary)


def _dip(dates: pd.DatetimeIndex, lockdown: dict | None, ramp: int = 7) -> np.ndarray:
    """Fraction of the lockdown depth applied on each day (0 outside, 1 on the plateau, linear ramps)."""
    if not lockdown:
        return np.zeros(len(dates))
    t = (dates - pd.Timestamp(lockdown["start"])).days.values.astype(float)
    n = float(lockdown["days"])
    up = np.clip((t + 1) / ramp, 0, 1)
    down = np.clip((n - t) / ramp, 0, 1)
    return np.where((t >= 0) & (t < n), np.minimum(up, down), 0.0)


def _cycles(dates: pd.DatetimeIndex, sector: str) -> np.ndarray:
    doy = dates.day_of_year.values.astype(float)
    seasonal = 1 + SEASONAL[sector] * np.cos(2 * np.pi * (doy - 15.0) / 365.25)
    wf = WEEKEND[sector]
    weekday = 7.0 / (5.0 + 2.0 * wf)
    weekly = np.where(dates.day_of_week.values >= 5, wf * weekday, weekday)
    return seasonal * weekly


def daily_emissions(inv: InventoryDraw, lat, lon, dates, *, rng: np.random.Generator | None,
                    daily_noise: float = 0.15) -> np.ndarray:
    """Daily emission (mol m-2 s-1), (time, lat, lon) float32, from an inventory draw.

    With ``rng=None`` no day-to-day noise is added (used for the expected inventory).
    """
    dates = pd.DatetimeIndex(dates)
    frac = ((dates - dates[0]) / (dates[-1] - dates[0])).values.astype(float) if len(dates) > 1 else np.zeros(1)
    masks = _region_masks(lat, lon)
    dip = _dip(dates, inv.lockdown)
    out = np.zeros((len(dates), len(lat), len(lon)), dtype=np.float64)
    for s, base in inv.maps.items():
        cyc = _cycles(dates, s) * (1 - LOCKDOWN_SHARE[s] * (inv.lockdown or {}).get("depth", 0.0) * dip)
        trend_map = np.zeros((len(dates), len(lat), len(lon)))
        for r, m in masks.items():
            trend_map[:, m] = (1 + inv.trends_pct[s][r] / 100.0 * frac)[:, None]
        out += base[None] * cyc[:, None, None] * trend_map
    if rng is not None and daily_noise > 0:
        sig = daily_noise / np.sqrt(2.0)
        shape = (len(lat), len(lon))
        z = sig * smooth_fields(rng, len(dates), shape, 3.0) + sig * rng.standard_normal((len(dates), *shape))
        out *= np.exp(z - 0.5 * daily_noise**2)
    return out.astype(np.float32)


def expected_inventory(lat, lon, dates, config) -> np.ndarray:
    """The generator's mean inventory (the prior): mean factors, mean trend path, no dip, no noise.

    Returns (time, lat, lon) float32, mol m-2 s-1.
    """
    maps, _ = _sector_maps(lat, lon, config, None)
    mean_trend = 0.5 * (config.trend_range_pct[0] + config.trend_range_pct[1])
    inv = InventoryDraw(maps=maps, trends_pct={s: {r: mean_trend for r in regions_of(lat, lon)} for s in SECTORS},
                        lockdown=None)
    return daily_emissions(inv, lat, lon, dates, rng=None)


def as_dataarray(values: np.ndarray, lat, lon, dates, long_name: str) -> xr.DataArray:
    """Label a (time, lat, lon) emission array."""
    return xr.DataArray(values, dims=("time", "lat", "lon"),
                        coords={"time": pd.DatetimeIndex(dates), "lat": np.asarray(lat), "lon": np.asarray(lon)},
                        attrs={"units": "mol m-2 s-1", "long_name": long_name})
