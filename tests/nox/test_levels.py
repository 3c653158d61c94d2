"""Tests of eoretrieval.nox.levels: the information floor of the monthly domain totals.

What is tested
--------------
- :func:`expected_abs_rel_err` against a Monte Carlo of :math:`E|e^X - 1|` and its small-sigma limit;
- :func:`monthly_total_ratios` by hand (an estimate 2x the truth in January and 1.5x in February; area weights
  cancel in a uniform ratio) and its unit error;
- :func:`level_floor` recovers the standard deviations of synthetic worlds whose column estimate is
  ``(1 + beta) exp(eps)`` and whose prior is ``exp(eta)``, and refuses worlds of different generators;
- :func:`combine_levels` on fresh synthetic worlds reaches the floor, beats either source alone, and beats other
  weights (the floor's weights are the best ones);
- :func:`level_record` names the world when its attributes are missing.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.nox.levels import (combine_levels, expected_abs_rel_err, level_floor, level_record,
                                    mean_abs_rel_err, monthly_total_ratios)
from eoretrieval.nox.scales import cell_area, monthly_domain_totals

UNITS = "mol m-2 s-1"


def _field(values_by_day, times):
    lat, lon = np.array([30.0, 30.25, 30.5]), np.array([110.0, 110.25])
    data = np.stack([np.full((3, 2), v, dtype=float) for v in values_by_day])
    return xr.DataArray(data, dims=("time", "lat", "lon"), coords={"time": times, "lat": lat, "lon": lon},
                        attrs={"units": UNITS})


def _records(n_worlds, n_months, seed, *, s_amf=0.1, s_obs=0.03, s_prior=0.12):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_worlds):
        beta = s_amf * rng.standard_normal()
        obs = (1 + beta) * np.exp(s_obs * rng.standard_normal(n_months))
        prior = np.exp(s_prior * rng.standard_normal(n_months))
        out.append({"seed": k, "amf_bias": beta, "amf_bias_std": s_amf,
                    "ratios": {"flux_divergence_7d": obs.tolist(), "prior": prior.tolist()}})
    return out


@pytest.mark.parametrize("sigma", [0.0, 0.05, 0.3])
def test_expected_abs_rel_err_matches_monte_carlo(sigma):
    x = sigma * np.random.default_rng(1).standard_normal(2_000_000)
    mc = float(np.mean(np.abs(np.exp(x) - 1)))
    assert expected_abs_rel_err(sigma) == pytest.approx(mc, rel=3e-3, abs=1e-12)
    if 0 < sigma < 0.1:
        assert expected_abs_rel_err(sigma) == pytest.approx(sigma * np.sqrt(2 / np.pi), rel=0.01)
    with pytest.raises(ValueError, match="sigma"):
        expected_abs_rel_err(-0.1)


def test_monthly_total_ratios_by_hand():
    times = pd.date_range("2021-01-30", periods=4, freq="D")   # 2 days of January, 2 of February
    truth = _field([1.0, 3.0, 2.0, 2.0], times)
    pred = _field([2.0, 6.0, 3.0, 3.0], times)
    assert monthly_total_ratios(pred, truth) == pytest.approx([2.0, 1.5])
    with pytest.raises(ValueError, match="same units"):
        monthly_total_ratios(pred.assign_attrs(units="kg"), truth)


def test_monthly_domain_totals_by_hand():
    times = pd.date_range("2021-01-30", periods=4, freq="D")
    field = _field([1.0, 3.0, 4.0, 4.0], times)
    area = float(cell_area(field).sum())
    assert monthly_domain_totals(field).values == pytest.approx([2.0 * area, 4.0 * area])
    assert list(monthly_domain_totals(field)["time"].dt.month.values) == [1, 2]


def test_mean_abs_rel_err_averages_worlds_of_months():
    recs = [{"seed": 1, "ratios": {"m": [1.1, 0.8]}}, {"seed": 2, "ratios": {"m": [1.0, 1.0, 1.06]}}]
    assert mean_abs_rel_err(recs, "m") == pytest.approx((0.15 + 0.02) / 2)
    with pytest.raises(ValueError, match="'x'.*\\[1, 2\\]"):
        mean_abs_rel_err(recs, "x")


def test_level_floor_recovers_the_sigmas():
    floor = level_floor(_records(300, 24, seed=2))
    assert floor["sigma_amf"] == 0.1
    assert floor["sigma_obs"] == pytest.approx(0.03, rel=0.05)
    assert floor["sigma_prior"] == pytest.approx(0.12, rel=0.05)
    s_col = np.hypot(0.1, floor["sigma_obs"])
    assert floor["sigma_post"] == pytest.approx((s_col ** -2 + floor["sigma_prior"] ** -2) ** -0.5)
    assert floor["w_obs"] == pytest.approx(floor["sigma_prior"] ** 2 / (floor["sigma_prior"] ** 2 + s_col ** 2))
    assert floor["n_months"] == 300 * 24 and len(floor["worlds"]) == 300


def test_combination_reaches_the_floor_and_beats_other_weights():
    floor = level_floor(_records(300, 24, seed=3))
    test = _records(2000, 12, seed=4)
    got = combine_levels(test, floor)["total_abs_rel_err"]
    assert got == pytest.approx(floor["expected_abs_rel_err"], rel=0.05)
    alone = {m: np.mean([np.mean(np.abs(np.array(r["ratios"][m]) - 1)) for r in test])
             for m in ("flux_divergence_7d", "prior")}
    assert got < min(alone.values())
    for dw in (-0.2, 0.2):
        other = combine_levels(test, {**floor, "w_obs": floor["w_obs"] + dw})["total_abs_rel_err"]
        assert other > got


def test_level_floor_refuses_mixed_generators_and_missing_ratios():
    recs = _records(4, 6, seed=5)
    recs[1]["amf_bias_std"] = 0.2
    with pytest.raises(ValueError, match="amf_bias_std"):
        level_floor(recs)
    recs = _records(4, 6, seed=5)
    del recs[2]["ratios"]["prior"]
    with pytest.raises(ValueError, match="'prior'"):
        level_floor(recs)
    with pytest.raises(ValueError, match="no worlds"):
        level_floor([])


def test_level_record_reads_the_world_and_names_it():
    times = pd.date_range("2021-01-01", periods=3, freq="D")
    truth = _field([1.0, 1.0, 1.0], times)
    world = xr.Dataset(attrs={"title": "world 7", "seed": 7, "amf_bias": -0.05,
                              "config": json.dumps({"amf_bias_std": 0.1})})
    rec = level_record(world, truth, {"prior": (truth * 1.2).assign_attrs(units=UNITS)})
    assert rec["seed"] == 7 and rec["amf_bias"] == -0.05 and rec["amf_bias_std"] == 0.1
    assert rec["ratios"]["prior"] == pytest.approx([1.2])
    with pytest.raises(ValueError, match="world 7.*amf_bias_std"):
        level_record(world.assign_attrs(config="{}"), truth, {})
    with pytest.raises(ValueError, match="world 7.*'amf_bias'"):
        level_record(xr.Dataset(attrs={"title": "world 7"}), truth, {})
