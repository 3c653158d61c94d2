"""Tests of eoretrieval.nox.inventory: the family of NOx inventories drawn per OSSE world.

What is tested
--------------
- :func:`draw_inventory` is reproducible for a seed and differs between seeds;
- :func:`_sector_maps` with ``rng=None`` (the maps behind :func:`expected_inventory`) is the mean of the
  generator: sector and domain totals of the mean of 20 drawn worlds agree within a tolerance computed from the
  world-to-world spread, and the mean maps are spatially correlated with it (at 1 degree for the kernels that
  the expectation spreads);
- :func:`daily_emissions` without noise: per-region trend times the seasonal and weekly cycles, checked against
  the formulas of the module written out by hand; the lockdown dip (plateau, ramps, outside);
- :func:`expected_inventory` on its first day is the sum of the sector maps times their cycles (trend 1);
- :func:`regions_of` / :func:`_region_masks` partition the grid;
- the day-to-day noise is mean-preserving (tolerance from the day-to-day spread of the sample).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from eoretrieval.nox.emissions import _cell_area
from eoretrieval.nox.inventory import (LOCKDOWN_SHARE, SEASONAL, SECTORS, WEEKEND, InventoryDraw, _region_masks,
                                       _sector_maps, daily_emissions, draw_inventory, expected_inventory, regions_of)
from eoretrieval.nox.world import NOX_PROFILES

# 36-40 N, 114-118 E at 0.25 deg: 16 x 16 cells (cell centres)
LAT = 36.125 + 0.25 * np.arange(16)
LON = 114.125 + 0.25 * np.arange(16)
CONFIG = NOX_PROFILES["ci"]
N_DRAWS = 20


def _blocks(x: np.ndarray, f: int = 4) -> np.ndarray:
    """Sum over f x f blocks of a (lat, lon) array."""
    ny, nx = x.shape
    return x.reshape(ny // f, f, nx // f, f).sum(axis=(1, 3))


def _cycles_by_hand(dates: pd.DatetimeIndex, sector: str) -> np.ndarray:
    """Seasonal x weekly factor from the module's formulas (SEASONAL, WEEKEND), written out independently."""
    out = []
    for d in dates:
        seasonal = 1.0 + SEASONAL[sector] * np.cos(2.0 * np.pi * (d.day_of_year - 15.0) / 365.25)
        wf = WEEKEND[sector]
        weekday_level = 7.0 / (5.0 + 2.0 * wf)   # five weekdays at w, two weekend days at wf * w: mean 1
        weekly = wf * weekday_level if d.day_of_week >= 5 else weekday_level
        out.append(seasonal * weekly)
    return np.array(out)


def _one_sector_draw(sector: str, trends: dict, lockdown=None, shape=(16, 16)) -> InventoryDraw:
    return InventoryDraw(maps={sector: np.ones(shape)}, trends_pct={sector: dict(trends)}, lockdown=lockdown)


@pytest.fixture(scope="module")
def drawn_maps():
    """Sector maps of N_DRAWS worlds (seeds 0..N-1) and of the generator's mean."""
    draws = [_sector_maps(LAT, LON, CONFIG, np.random.default_rng(seed))[0] for seed in range(N_DRAWS)]
    mean_maps, _ = _sector_maps(LAT, LON, CONFIG, None)
    return draws, mean_maps


def test_draw_inventory_reproducible_and_seed_dependent():
    dates = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    a = draw_inventory(LAT, LON, dates, CONFIG, np.random.default_rng(11))
    b = draw_inventory(LAT, LON, dates, CONFIG, np.random.default_rng(11))
    c = draw_inventory(LAT, LON, dates, CONFIG, np.random.default_rng(12))
    assert set(a.maps) == set(SECTORS)
    for s in SECTORS:
        np.testing.assert_array_equal(a.maps[s], b.maps[s])
    assert a.trends_pct == b.trends_pct and a.lockdown == b.lockdown and a.summary == b.summary
    assert a.to_json() == b.to_json()
    # another seed: another power map (plants switched off / scaled, new plants), other sector levels and trends
    assert not np.allclose(a.maps["power"], c.maps["power"])
    assert not np.allclose(a.maps["industry"], c.maps["industry"])
    fa, fc = a.summary["sector_factors"], c.summary["sector_factors"]
    assert all(fa[s] != fc[s] for s in SECTORS)
    assert a.trends_pct != c.trends_pct
    lo, hi = CONFIG.trend_range_pct
    assert all(lo <= p <= hi for sec in a.trends_pct.values() for p in sec.values())
    assert set(a.trends_pct["power"]) == set(regions_of(LAT, LON))


def test_expected_maps_are_the_mean_of_drawn_worlds_totals(drawn_maps):
    """Sector and domain totals (mol s-1) of the mean world agree with the rng=None maps within 4 standard errors.

    The standard error is the world-to-world std of the drawn totals over sqrt(N_DRAWS) (it is dominated by the
    per-world sector factor, lognormal sigma 0.25, so about 5 % per sector and 2-3 % for the sum of sectors).
    """
    draws, mean_maps = drawn_maps
    area = _cell_area(LAT, LON)
    total_draws = np.zeros(N_DRAWS)
    total_expected = 0.0
    for s in SECTORS:
        t = np.array([(d[s] * area).sum() for d in draws])
        e = float((mean_maps[s] * area).sum())
        se = t.std(ddof=1) / np.sqrt(N_DRAWS)
        assert e > 0 and se < 0.1 * e          # the tolerance is meaningful (< 10 % of the total)
        assert abs(t.mean() - e) < 4 * se, (s, t.mean() / e, se / e)
        total_draws += t
        total_expected += e
    se = total_draws.std(ddof=1) / np.sqrt(N_DRAWS)
    assert se < 0.05 * total_expected
    assert abs(total_draws.mean() - total_expected) < 4 * se


def test_expected_maps_are_the_mean_of_drawn_worlds_pattern(drawn_maps):
    """The mean of the drawn maps (all sectors) has the pattern of the expected map: correlation > 0.95 on
    1-degree blocks (the expectation spreads new plants with a 25 km and industry with a 20 km kernel), and the
    mean of 20 worlds is closer to it than a single world is."""
    draws, mean_maps = drawn_maps
    area = _cell_area(LAT, LON)

    def total(maps):
        return _blocks(sum(maps[s] for s in SECTORS) * area)

    expected = total(mean_maps)
    mean_of_draws = np.mean([total(d) for d in draws], axis=0)
    r_mean = np.corrcoef(mean_of_draws.ravel(), expected.ravel())[0, 1]
    r_single = np.mean([np.corrcoef(total(d).ravel(), expected.ravel())[0, 1] for d in draws])
    assert r_mean > 0.95
    assert r_mean > r_single
    # per sector without kernels that differ between draw and expectation: transport and residential at cell scale
    for s in ("transport", "residential", "diffuse"):
        m = np.mean([d[s] for d in draws], axis=0)
        assert np.corrcoef(m.ravel(), mean_maps[s].ravel())[0, 1] > 0.95, s


@pytest.mark.parametrize("sector", ["power", "industry", "transport", "residential"])
def test_daily_emissions_trend_and_cycles_by_region(sector):
    dates = pd.date_range("2021-01-04", "2022-12-25", freq="D")   # Monday ... Sunday
    trends = {"southwest": -40.0, "southeast": 10.0, "northwest": -12.5, "northeast": 0.0}
    inv = _one_sector_draw(sector, trends)
    out = daily_emissions(inv, LAT, LON, dates, rng=None)
    assert out.shape == (len(dates), 16, 16) and out.dtype == np.float32
    cyc = _cycles_by_hand(dates[[0, -1]], sector)
    masks = _region_masks(LAT, LON)
    for region, p in trends.items():
        ratio = out[-1][masks[region]] / out[0][masks[region]]
        np.testing.assert_allclose(ratio, (1 + p / 100.0) * cyc[1] / cyc[0], rtol=1e-5)
    # first day: trend factor 1, the map of ones times the cycles
    np.testing.assert_allclose(out[0], cyc[0], rtol=1e-6)
    # halfway through the period the trend is half done (linear path)
    mid = len(dates) // 2
    frac = (dates[mid] - dates[0]) / (dates[-1] - dates[0])
    cm = _cycles_by_hand(dates[[mid]], sector)[0]
    np.testing.assert_allclose(out[mid][masks["southwest"]], cm * (1 - 0.40 * frac), rtol=1e-5)


def test_weekly_cycle_keeps_weekly_mean():
    """Over whole weeks with the seasonal cycle switched off (transport), the weekly factor averages to 1."""
    dates = pd.date_range("2021-03-01", periods=28, freq="D")
    out = daily_emissions(_one_sector_draw("transport", dict.fromkeys(regions_of(LAT, LON), 0.0)), LAT, LON,
                          dates, rng=None)
    np.testing.assert_allclose(out[:, 0, 0].mean(), 1.0, rtol=1e-6)
    weekend = dates.day_of_week >= 5
    np.testing.assert_allclose(out[weekend, 0, 0] / out[~weekend, 0, 0].mean(), WEEKEND["transport"], rtol=1e-6)


@pytest.mark.parametrize("sector", list(SECTORS))
def test_lockdown_dip(sector):
    dates = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    trends = {"southwest": -20.0, "southeast": 5.0, "northwest": 0.0, "northeast": -3.0}
    lock = {"start": "2021-03-01", "days": 40, "depth": 0.5}
    free = daily_emissions(_one_sector_draw(sector, trends), LAT, LON, dates, rng=None)
    dip = daily_emissions(_one_sector_draw(sector, trends, lock), LAT, LON, dates, rng=None)
    ratio = dip / free
    t = (dates - pd.Timestamp(lock["start"])).days.values
    plateau = (t >= 6) & (t <= lock["days"] - 7)     # 7-day ramps: full depth from day 6 to days - 7
    outside = (t < 0) | (t >= lock["days"])
    ramp = ~plateau & ~outside
    assert plateau.sum() == 40 - 12 and ramp.sum() == 12
    np.testing.assert_allclose(ratio[plateau], 1 - LOCKDOWN_SHARE[sector] * lock["depth"], rtol=1e-5)
    np.testing.assert_array_equal(dip[outside], free[outside])
    r = ratio[ramp][:, 0, 0]
    assert np.all(r > 1 - LOCKDOWN_SHARE[sector] * lock["depth"] + 1e-4) and np.all(r < 1 - 1e-4)
    # first ramp day: 1/7 of the depth
    first = int(np.flatnonzero(t == 0)[0])
    np.testing.assert_allclose(ratio[first], 1 - LOCKDOWN_SHARE[sector] * lock["depth"] / 7.0, rtol=1e-5)


def test_expected_inventory_first_day_is_sum_of_cycled_maps():
    dates = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    exp = expected_inventory(LAT, LON, dates, CONFIG)
    maps, _ = _sector_maps(LAT, LON, CONFIG, None)
    assert exp.shape == (len(dates), 16, 16) and exp.dtype == np.float32
    day0 = sum(maps[s] * _cycles_by_hand(dates[[0]], s)[0] for s in SECTORS)
    np.testing.assert_allclose(exp[0], day0, rtol=1e-5)
    # last day: the mean trend path (midpoint of trend_range_pct) is completed in every region
    mean_trend = 0.5 * sum(CONFIG.trend_range_pct) / 100.0
    day_last = sum(maps[s] * _cycles_by_hand(dates[[-1]], s)[0] for s in SECTORS) * (1 + mean_trend)
    np.testing.assert_allclose(exp[-1], day_last, rtol=1e-5)


@pytest.mark.parametrize("shape", [(16, 16), (15, 17), (5, 4)])
def test_regions_partition_the_grid(shape):
    lat = 30.125 + 0.25 * np.arange(shape[0])
    lon = 110.125 + 0.25 * np.arange(shape[1])
    masks = _region_masks(lat, lon)
    assert set(masks) == {"southwest", "southeast", "northwest", "northeast"}
    count = sum(m.astype(int) for m in masks.values())
    np.testing.assert_array_equal(count, np.ones(shape, dtype=int))
    # the quadrants are the four corners
    ny, nx = shape
    assert masks["southwest"][0, 0] and masks["southeast"][0, nx - 1]
    assert masks["northwest"][ny - 1, 0] and masks["northeast"][ny - 1, nx - 1]
    # edges: outer edges of the grid, split at a cell edge in the middle
    reg = regions_of(lat, lon)
    assert reg["southwest"][0] == pytest.approx(lat[0] - 0.125)
    assert reg["northeast"][1] == pytest.approx(lat[-1] + 0.125)
    assert reg["southwest"][1] == pytest.approx(lat[0] - 0.125 + 0.25 * ((ny + 1) // 2))


def test_daily_noise_is_mean_preserving():
    """Mean over days and cells of noisy / noise-free within 4 standard errors of 1; the standard error is the
    day-to-day std of the daily domain means over sqrt(days) (days are independent draws)."""
    n_days = 400
    dates = pd.date_range("2021-01-01", periods=n_days, freq="D")
    inv = _one_sector_draw("industry", dict.fromkeys(regions_of(LAT, LON), -10.0))
    clean = daily_emissions(inv, LAT, LON, dates, rng=None)
    noisy = daily_emissions(inv, LAT, LON, dates, rng=np.random.default_rng(5), daily_noise=0.15)
    ratio = (noisy / clean).astype(float)
    daily_mean = ratio.mean(axis=(1, 2))
    se = daily_mean.std(ddof=1) / np.sqrt(n_days)
    assert se < 0.01
    assert abs(daily_mean.mean() - 1.0) < 4 * se
    # log-ratio: mean -sigma^2/2, std sigma (half regional, half local variance)
    log_r = np.log(ratio)
    assert abs(log_r.std() - 0.15) < 0.01
    assert abs(log_r.mean() + 0.5 * 0.15**2) < 4 * log_r.mean(axis=(1, 2)).std(ddof=1) / np.sqrt(n_days)
    # no noise with daily_noise = 0
    zero = daily_emissions(inv, LAT, LON, dates[:5], rng=np.random.default_rng(5), daily_noise=0.0)
    np.testing.assert_array_equal(zero, daily_emissions(inv, LAT, LON, dates[:5], rng=None))


def test_expected_power_weights_plants_by_probability_of_running():
    """Expected power map without new plants: the listed plants times (1 - plant_off_prob), exactly."""
    all_on, _ = _sector_maps(LAT, LON, dataclasses.replace(CONFIG, plant_off_prob=0.0, new_plants_mean=0.0), None)
    some_off, _ = _sector_maps(LAT, LON, dataclasses.replace(CONFIG, plant_off_prob=0.3, new_plants_mean=0.0), None)
    assert all_on["power"].sum() > 0
    np.testing.assert_allclose(some_off["power"], 0.7 * all_on["power"], rtol=1e-12)
    for s in ("industry", "transport", "residential", "diffuse"):
        np.testing.assert_array_equal(some_off[s], all_on[s])
