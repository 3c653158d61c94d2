"""Tests of eoretrieval.nox.osse: scores at the users' scales, cVAE interval calibration, controls and file checks.

What is tested
--------------
- :func:`critical_inflation` on a hand-computed three-member ensemble; :func:`fit_inflation` recovers the
  under-dispersion factor ``k`` of ensembles drawn N(mu, (s/k)^2) for truths N(mu, s^2) (exactly in the
  many-member limit; for 32 members against an independent numpy Monte Carlo of the finite-ensemble widening),
  and :func:`inflate` with the fitted factor covers 90 % of independent points;
- :func:`vae_scores` on a synthetic (member, time, lat, lon) ensemble: coverage at the three scales after
  inflation with fitted factors, and the spread-skill ratio predicted by hand;
- :func:`scale_scores`: perfect and 1.1 x estimates, a known regional trend against a constant estimate;
  NaN and unit errors;
- :func:`aggregate` on nested dicts (hand-checked means and population sds);
- :func:`shuffled_observations` and :func:`anomaly_coherence`;
- :func:`anomaly_skill`: 1 for the truth and for the truth plus any month-wise offset, 0 for a map fixed within
  each month, 1/sqrt(2) for equal-variance independent noise on the anomalies, a two-cell case by hand, only the
  largest sources count; noise that cancels within blocks is invisible on blocks of cells; its errors; :func:`paired_world_gain` by hand;
- :func:`evaluation_days` (stride, paired calendar days, one-year error);
- :func:`load_world_files` errors naming the file.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox._fields import smooth_fields
from eoretrieval.nox.inventory import _region_masks, regions_of
from eoretrieval.nox.osse import (WORLD_VARIABLES, aggregate, targets_by_world, coverage_vs_amf_bias, amf_bias_diagnostic, amf_bias_summary,
                                  anomaly_coherence, anomaly_skill, critical_inflation, paired_world_gain, evaluation_days, fit_inflation, inflate,
                                  load_world_files, scale_scores, scale_views, shuffled_observations, vae_scores)
from eoretrieval.verify import interval_coverage

UNITS = "mol m-2 s-1"
DIMS = ("time", "lat", "lon")


def _points_ensemble(k, n_members, n_points, seed, mu=5.0, s=1.0):
    """Truth ~ N(mu, s^2) and members ~ N(mu, (s/k)^2), dims (member, point)."""
    rng = np.random.default_rng(seed)
    truth = xr.DataArray(mu + s * rng.standard_normal(n_points), dims="point")
    ens = xr.DataArray(mu + (s / k) * rng.standard_normal((n_members, n_points)), dims=("member", "point"))
    return ens, truth


# ------------------------------------------------------------------------------------------------- inflation


def test_critical_inflation_by_hand():
    # members -1, 0, 1: linear-interpolation quantiles q05 = -0.9, q95 = 0.9, mean 0
    e = np.array([[-1.0, -1.0, -1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 1.0, 2.0, 2.0]])
    ens = xr.DataArray(e, dims=("member", "point"))
    truth = xr.DataArray([1.8, -0.45, 0.0, 3.0, 2.0], dims="point")
    a = critical_inflation(ens, truth)
    np.testing.assert_allclose(a[:3], [2.0, 0.5, 0.0], rtol=1e-12)
    assert a[3] == np.inf           # a collapsed ensemble cannot be inflated to cover another value
    assert a[4] == 0.0              # ... but covers its own value
    # inflating by the critical factor puts the truth on the interval's edge, inside
    infl = inflate(ens.isel(point=0), 2.0)
    assert float(infl.quantile(0.95, dim="member")) == pytest.approx(1.8)


def test_fit_inflation_recovers_k_many_members():
    """With 512 members the empirical quantiles are the true ones (finite-member effect < 1 %), so the fitted
    factor is k; its sampling error for 5000 points is sqrt(0.9 x 0.1 / 5000) / (2 phi(1.645)) = 2 % of k;
    tolerance 6 %."""
    for k in (1.0, 2.5):
        ens, truth = _points_ensemble(k, 512, 5000, seed=int(10 * k))
        alpha = fit_inflation(ens, truth)
        assert abs(alpha / k - 1.0) < 0.06, (k, alpha)


def test_fit_inflation_32_members_and_coverage_on_independent_points():
    """32 members: the fitted factor is k times the finite-ensemble widening of the 5-95 % member interval,
    computed here by an independent numpy Monte Carlo (100 000 points); tolerance 4 standard errors of the
    0.9-quantile of both samples. Inflation by the fitted factor covers 90 % of independent points."""
    k, m, n = 2.0, 32, 20000
    ens, truth = _points_ensemble(k, m, n, seed=1)
    alpha = fit_inflation(ens, truth)
    # reference: the 0.9 quantile of the critical factor, with numpy only
    rng = np.random.default_rng(99)
    n_ref = 100_000
    y = rng.standard_normal(n_ref)
    x = rng.standard_normal((m, n_ref)) / k
    mean = x.mean(0)
    lo, hi = np.quantile(x, [0.05, 0.95], axis=0)
    a_ref = np.where(y >= mean, (y - mean) / (hi - mean), (mean - y) / (mean - lo))
    alpha_ref = np.quantile(a_ref, 0.9)
    inv_density = (np.quantile(a_ref, 0.91) - np.quantile(a_ref, 0.89)) / 0.02
    se = np.sqrt(0.09) * inv_density * np.sqrt(1 / n + 1 / n_ref)
    assert se < 0.03 * k
    assert abs(alpha - alpha_ref) < 4 * se
    assert 1.05 < alpha_ref / k < 1.25   # 32 members: their 5-95 % range is narrower than the true one
    # coverage of the inflated ensemble on independent points: 0.9 within 4 binomial standard errors
    ens2, truth2 = _points_ensemble(k, m, n, seed=2)
    cov = float(interval_coverage(inflate(ens2, alpha), truth2, level=0.9, weights=None))
    cov_raw = float(interval_coverage(ens2, truth2, level=0.9, weights=None))
    assert abs(cov - 0.9) < 4 * np.sqrt(0.09 / n + 0.09 / n)
    assert cov_raw < 0.65
    # a calibrated ensemble (k = 1) with many members needs no inflation
    ens1, truth1 = _points_ensemble(1.0, 512, 5000, seed=3)
    assert abs(fit_inflation(ens1, truth1) - 1.0) < 0.06


def test_inflate_keeps_mean_and_scales_spread():
    ens, _ = _points_ensemble(1.0, 8, 50, seed=4)
    ens = ens.assign_attrs(units="x")
    out = inflate(ens, 1.7)
    np.testing.assert_allclose(out.mean("member"), ens.mean("member"), rtol=1e-12)
    np.testing.assert_allclose(out.std("member"), 1.7 * ens.std("member"), rtol=1e-12)
    assert out.attrs["units"] == "x"
    xr.testing.assert_allclose(inflate(ens, 1.0).transpose(*ens.dims), ens)


def _grid_ensemble(k, m, seed, n_days=365, ny=16, nx=16):
    """Truth mu + s e, members mu + (s / k) e_m, independent in cells and days (units mol m-2 s-1)."""
    rng = np.random.default_rng(seed)
    coords = {"time": pd.date_range("2021-01-01", periods=n_days), "lat": 36.125 + 0.25 * np.arange(ny),
              "lon": 114.125 + 0.25 * np.arange(nx)}
    mu = 2e-8 * (1 + np.add.outer(np.arange(ny), np.arange(nx)) / 10.0)
    s = 4e-9
    truth = xr.DataArray(mu + s * rng.standard_normal((n_days, ny, nx)), dims=DIMS, coords=coords,
                         attrs={"units": UNITS})
    ens = xr.DataArray(mu + (s / k) * rng.standard_normal((m, n_days, ny, nx)), dims=("member", *DIMS),
                       coords=coords, attrs={"units": UNITS})
    return ens, truth


def test_vae_scores_after_fitted_inflation():
    k, m = 2.0, 32
    ens_fit, truth_fit = _grid_ensemble(k, m, seed=0)
    vf, tf = scale_views(ens_fit), scale_views(truth_fit)
    assert vf["total"].attrs["units"] == "mol s-1" and vf["deg1"].sizes["time"] == 12
    alpha = {s: fit_inflation(vf[s], tf[s]) for s in ("cell", "deg1", "total")}
    ens, truth = _grid_ensemble(k, m, seed=1)
    out = vae_scores(ens, truth, alpha)
    for s in ("cell", "deg1", "total"):
        assert {f"coverage90_{s}", f"coverage90_{s}_raw"} <= set(out)
        assert out[f"coverage90_{s}_raw"] < 0.7
    # coverage within 4 standard errors (fit and test sets: 0.9 x 0.1 x (1/n + 1/n))
    for s, n in (("cell", 365 * 256), ("deg1", 12 * 16), ("total", 365)):
        assert abs(out[f"coverage90_{s}"] - 0.9) < 4 * np.sqrt(0.18 / n), (s, out[f"coverage90_{s}"])
    # spread-skill by hand: spread alpha (s/k) sqrt((M+1)/M); skill (RMSE of the mean) s sqrt(1 + 1/(k^2 M))
    skill = np.sqrt(1 + 1 / (k**2 * m))
    assert out["spread_skill"] == pytest.approx(alpha["cell"] / k * np.sqrt((m + 1) / m) / skill, abs=0.02)
    assert out["spread_skill_raw"] == pytest.approx(1 / k * np.sqrt((m + 1) / m) / skill, abs=0.02)
    assert abs(out["spread_skill"] - 1.0) < 0.2


# ---------------------------------------------------------------------------------------------- scale_scores


@pytest.fixture(scope="module")
def truth_two_years():
    """Every 5th day of 2021-2022 on 16 x 16 cells: sources on a background, a weekly cycle, positive."""
    rng = np.random.default_rng(0)
    time = pd.date_range("2021-01-01", "2022-12-31", freq="5D")
    lat = 36.125 + 0.25 * np.arange(16)
    lon = 114.125 + 0.25 * np.arange(16)
    base = 1e-9 + 5e-9 * np.exp(smooth_fields(rng, 1, (16, 16), 2.0)[0])
    daily = 1 + 0.1 * np.sin(2 * np.pi * np.arange(len(time)) / 7.3)[:, None, None]
    noise = np.exp(0.1 * rng.standard_normal((len(time), 16, 16)))
    vals = base[None] * daily * noise
    return xr.DataArray(vals, dims=DIMS, coords={"time": time, "lat": lat, "lon": lon},
                        attrs={"units": UNITS, "long_name": "truth"})


def test_scale_scores_perfect_estimate(truth_two_years):
    truth = truth_two_years
    regions = regions_of(truth["lat"].values, truth["lon"].values)
    sc = scale_scores(truth.copy(), truth, regions)
    assert sc["cell_daily"]["rmse"] == 0.0 and sc["deg1_monthly"]["rmse"] == 0.0
    assert sc["cell_daily"]["corr"] == pytest.approx(1.0, abs=1e-12)
    assert sc["deg1_monthly"]["corr"] == pytest.approx(1.0, abs=1e-12)
    assert sc["top20_abs_rel_err"] == pytest.approx(0.0, abs=1e-12)
    assert sc["total_abs_rel_err"] == pytest.approx(0.0, abs=1e-12)
    assert sc["trend_abs_err_pp"] == pytest.approx(0.0, abs=1e-9)
    assert set(sc["trend_pct"]) == set(regions)


def test_scale_scores_ten_percent_high(truth_two_years):
    truth = truth_two_years
    regions = regions_of(truth["lat"].values, truth["lon"].values)
    sc = scale_scores((1.1 * truth).assign_attrs(units=UNITS), truth, regions)
    assert sc["total_abs_rel_err"] == pytest.approx(0.1, rel=1e-9)
    assert sc["top20_abs_rel_err"] == pytest.approx(0.1, rel=1e-9)
    assert sc["trend_abs_err_pp"] == pytest.approx(0.0, abs=1e-9)   # a constant factor keeps the trend
    assert sc["cell_daily"]["corr"] == pytest.approx(1.0, abs=1e-12)
    # cell RMSE by hand: 0.1 x the cos(lat)-weighted root mean square of the truth
    w = np.cos(np.radians(truth["lat"].values))[None, :, None] * np.ones(truth.shape)
    rms = np.sqrt((w * truth.values**2).sum() / w.sum())
    assert sc["cell_daily"]["rmse"] == pytest.approx(0.1 * rms, rel=1e-9)
    # the 1-degree monthly RMSE is linear in the error too
    sc2 = scale_scores((1.2 * truth).assign_attrs(units=UNITS), truth, regions)
    assert sc2["deg1_monthly"]["rmse"] == pytest.approx(2 * sc["deg1_monthly"]["rmse"], rel=1e-9)


def test_amf_bias_diagnostic(truth_two_years):
    truth = truth_two_years
    # an estimate carrying a +8 % column bias and a 2 % error of its own that changes sign every month
    months = truth["time"].dt.month.values
    own = xr.DataArray(np.where(months % 2 == 0, 1.02, 0.98), dims="time", coords={"time": truth["time"]})
    pred = (truth * 1.08 * own).assign_attrs(units=UNITS)
    d = amf_bias_diagnostic(pred, truth, 0.08)
    assert d["amf_bias"] == 0.08
    assert d["total_abs_rel_err_bias_removed"] == pytest.approx(0.02, rel=1e-6)
    assert d["total_abs_rel_err"] == pytest.approx(np.mean(np.abs(1.08 * np.array([0.98, 1.02]) - 1)), rel=0.05)
    assert d["total_signed_rel_err"] > 0.05
    # the wrong bias does not remove the error
    assert amf_bias_diagnostic(pred, truth, -0.08)["total_abs_rel_err_bias_removed"] > 0.1
    # the level against a reference map: a reference at half the truth's mean gives 2
    ref = (0.5 * truth.mean("time")).assign_attrs(units=UNITS)
    assert amf_bias_diagnostic(pred, truth, 0.08, reference=ref)["level_vs_reference"] == pytest.approx(2.0, rel=0.02)
    with pytest.raises(DataError, match="reference"):
        amf_bias_diagnostic(pred, truth, 0.08, reference=0.0 * ref)


def test_amf_bias_summary_says_what_the_errors_follow():
    biases, levels = [0.1, -0.05, 0.02, -0.12], [0.8, 1.3, 1.0, 1.1]
    rows = [{"follows_bias": {"amf_bias": b, "total_signed_rel_err": b, "total_abs_rel_err": abs(b),
                              "level_vs_reference": lv},
             "pulled": {"amf_bias": b, "total_signed_rel_err": 1.0 - lv, "total_abs_rel_err": abs(1.0 - lv),
                        "level_vs_reference": lv},
             "no_level": {"amf_bias": b, "total_signed_rel_err": -b, "total_abs_rel_err": abs(b)}}
            for b, lv in zip(biases, levels)]
    s = amf_bias_summary(rows)
    assert s["follows_bias"]["corr_signed_err_vs_amf_bias"] == pytest.approx(1.0)
    assert s["pulled"]["corr_signed_err_vs_level"] == pytest.approx(-1.0)
    assert s["no_level"]["corr_signed_err_vs_amf_bias"] == pytest.approx(-1.0)
    assert "corr_signed_err_vs_level" not in s["no_level"]
    assert s["follows_bias"]["total_abs_rel_err"] == pytest.approx(np.mean(np.abs(biases)))
    assert amf_bias_summary(rows[:1])["pulled"]["corr_signed_err_vs_level"] is None


def test_scale_scores_regional_trend(truth_two_years):
    base = (truth_two_years.mean("time") * xr.ones_like(truth_two_years)).transpose(*DIMS)   # same map every day
    lat, lon = base["lat"].values, base["lon"].values
    regions = regions_of(lat, lon)
    masks = _region_masks(lat, lon)
    trend = {"southwest": -20.0, "southeast": 10.0, "northwest": -5.0, "northeast": 30.0}
    factor = np.ones(base.shape)
    second = (base["time"].dt.year == 2022).values
    for r, p in trend.items():
        factor[np.ix_(second, masks[r].any(axis=1), masks[r].any(axis=0))] = 1 + p / 100.0
    truth = (base * factor).assign_attrs(units=UNITS)
    # a time-constant estimate: no trend anywhere
    const = xr.full_like(truth, 1.0) * truth.mean("time")
    const = const.assign_attrs(units=UNITS)
    sc = scale_scores(const, truth, regions)
    for r in trend:
        assert sc["trend_pct"][r] == pytest.approx(0.0, abs=1e-9)
    assert sc["trend_abs_err_pp"] == pytest.approx(np.mean([abs(p) for p in trend.values()]), rel=1e-9)  # 16.25
    # the truth itself reports the trends it was built with
    own = scale_scores(truth.copy(), truth, regions)
    for r, p in trend.items():
        assert own["trend_pct"][r] == pytest.approx(p, rel=1e-9)


def test_scale_scores_errors(truth_two_years):
    truth = truth_two_years
    regions = regions_of(truth["lat"].values, truth["lon"].values)
    bad = truth.copy()
    bad[3, 2, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        scale_scores(bad, truth, regions)
    with pytest.raises(DataError, match="units"):
        scale_scores(truth.copy().assign_attrs(units="mol m-2"), truth, regions)


# ------------------------------------------------------------------------------------------------- aggregate


def test_aggregate_nested():
    worlds = [{"a": 1.0, "n": 3, "flag": True, "name": "w0", "b": {"c": 2.0, "d": "x"}, "e": 4.0},
              {"a": 3.0, "n": 5, "flag": False, "name": "w1", "b": {"c": 6.0}},
              {"a": 8.0, "n": 4, "flag": True, "name": "w2", "b": {"c": 1.0}, "e": np.float64(6.0)}]
    out = aggregate(worlds)
    assert out["a"] == pytest.approx(4.0)
    assert out["a_sd"] == pytest.approx(np.sqrt(((1 - 4) ** 2 + (3 - 4) ** 2 + (8 - 4) ** 2) / 3))   # population sd
    assert out["n"] == pytest.approx(4.0) and out["n_sd"] == pytest.approx(np.sqrt(2 / 3))
    assert out["b"]["c"] == pytest.approx(3.0) and out["b"]["c_sd"] == pytest.approx(np.sqrt(14 / 3))
    assert out["e"] == pytest.approx(5.0) and out["e_sd"] == pytest.approx(1.0)   # missing in one world: skipped
    assert "flag" not in out and "name" not in out and "d" not in out["b"]
    single = aggregate(worlds[:1])
    assert single["a"] == 1.0 and "a_sd" not in single


# ---------------------------------------------------------------------------------------------------- controls


def test_shuffled_observations(nox_world):
    world = nox_world
    out = shuffled_observations(world, seed=3)
    no2_in, no2_out = world["no2_column"].values, out["no2_column"].values
    n = world.sizes["time"]
    perm = []
    for i in range(n):
        match = [j for j in range(n) if np.array_equal(no2_out[i], no2_in[j], equal_nan=True)]
        assert len(match) == 1
        perm.append(match[0])
    assert sorted(perm) == list(range(n)) and perm != list(range(n))
    for name in ("valid", "no2_column_precision", "cloud_fraction"):
        np.testing.assert_array_equal(out[name].values, world[name].values[perm])
    for name in ("emission", "u", "v", "lifetime", "nox_column", "prior_emission"):
        np.testing.assert_array_equal(out[name].values, world[name].values)
    np.testing.assert_array_equal(out["time"].values, world["time"].values)
    assert out.attrs["control"] == "observations permuted in time"
    assert "control" not in world.attrs                                  # the input is left alone
    other = shuffled_observations(world, seed=4)
    assert not np.array_equal(other["no2_column"].values, no2_out, equal_nan=True)


def test_anomaly_coherence():
    rng = np.random.default_rng(0)
    shape = (16, 10, 16, 16)
    white = xr.DataArray(rng.standard_normal(shape), dims=("member", *DIMS))
    n_pairs = 16 * 10 * 16 * 15
    assert abs(anomaly_coherence(white)) < 4 / np.sqrt(n_pairs)
    # smooth fields with kernel length L = 3 cells: lag-1 correlation exp(-1 / (4 L^2)) = 0.973
    smooth = xr.DataArray(smooth_fields(rng, 160, (16, 16), 3.0).reshape(shape), dims=("member", *DIMS))
    r = anomaly_coherence(smooth)
    assert r > 0.8
    assert r == pytest.approx(np.exp(-1 / 36), abs=0.01)


# ---------------------------------------------------------------------------------------------- anomaly_skill


def _with(truth, values, name="estimate"):
    return truth.copy(data=values).rename(name)


def test_anomaly_skill_perfect_offset_and_fixed_maps(truth_two_years):
    t = truth_two_years
    assert anomaly_skill(t, t) == pytest.approx(1.0)
    # a month-wise offset (a wrong level, a wrong trend) leaves the day-to-day anomalies as they are
    months = pd.DatetimeIndex(t.time.values).month.values
    offset = 1e-9 * (months / 12.0)[:, None, None]
    assert anomaly_skill(_with(t, t.values + offset), t) == pytest.approx(1.0)
    # each month's mean map on every day of the month (the memorisation baseline is a special case): no skill
    monthly = t.groupby("time.month").mean()   # any map fixed within each month
    fixed = monthly.sel(month=t["time.month"]).drop_vars("month").assign_attrs(t.attrs)
    assert anomaly_skill(fixed, t) == 0.0
    assert anomaly_skill(_with(t, np.broadcast_to(t.values.mean(0), t.shape).copy()), t) == 0.0


def test_anomaly_skill_equal_variance_noise_gives_one_over_root_two(truth_two_years):
    """pred anomaly = truth anomaly + independent noise with the same variance: r = 1/sqrt(2)."""
    t = truth_two_years
    rng = np.random.default_rng(1)
    codes = pd.factorize(pd.DatetimeIndex(t.time.values).to_period("M"))[0]
    vals = t.values.astype(float)
    anom = vals.copy()
    for k in np.unique(codes):
        anom[codes == k] -= vals[codes == k].mean(0)
    noise = rng.standard_normal(vals.shape)
    for k in np.unique(codes):
        noise[codes == k] -= noise[codes == k].mean(0)
    noise *= anom.std(axis=0, keepdims=True) / noise.std(axis=0, keepdims=True)   # same variance per cell
    r = anomaly_skill(_with(t, vals + noise), t, top_fraction=1.0)
    assert r == pytest.approx(1 / np.sqrt(2), abs=0.03)


def test_anomaly_skill_by_hand_on_two_cells():
    """One month, three days, two cells with truth means 2 and 1 (both in the top 100 %)."""
    time = pd.date_range("2022-03-01", periods=3, freq="D")
    t = xr.DataArray(np.array([[1.0, 0.5], [2.0, 1.0], [3.0, 1.5]])[:, None, :], dims=DIMS,
                     coords={"time": time, "lat": [30.0], "lon": [110.0, 110.25]}, attrs={"units": UNITS})
    p = t.copy(data=np.array([[2.0, 1.0], [2.0, 2.0], [2.0, 0.0]])[:, None, :])
    # truth anomalies / cell mean: (-0.5, 0, 0.5) in both cells; pred: (0, 0, 0) and (0, 1, -1)
    at = np.array([-0.5, 0, 0.5, -0.5, 0, 0.5])
    ap = np.array([0, 0, 0, 0, 1.0, -1.0])
    assert anomaly_skill(p, t, top_fraction=1.0) == pytest.approx((at * ap).sum() / np.sqrt((at**2).sum() * (ap**2).sum()))
    assert anomaly_skill(p, t, top_fraction=1.0) == pytest.approx(-0.5 / np.sqrt(1.0 * 2.0))
    # top half: only the first cell (truth mean 2), whose prediction does not change
    assert anomaly_skill(p, t, top_fraction=0.5) == 0.0


def test_anomaly_skill_scores_the_largest_sources_only(truth_two_years):
    t = truth_two_years
    rng = np.random.default_rng(2)
    top = t.mean("time") >= t.mean("time").quantile(0.9)
    noisy = t.values * np.exp(0.5 * rng.standard_normal(t.shape))
    outside = _with(t, np.where(top.values[None], t.values, noisy))
    inside = _with(t, np.where(top.values[None], noisy, t.values))
    assert anomaly_skill(outside, t) == pytest.approx(1.0)
    assert anomaly_skill(inside, t) < 0.5


def test_anomaly_skill_on_blocks_of_cells():
    """Noise that cancels within each 2 x 2 block is invisible at factor 2 and halves the skill at factor 1."""
    rng = np.random.default_rng(3)
    time = pd.date_range("2022-01-01", "2022-03-31", freq="D")
    lat, lon = 30.125 + 0.25 * np.arange(4), 110.125 + 0.25 * np.arange(4)
    truth = xr.DataArray(1e-9 * np.exp(0.2 * rng.standard_normal((len(time), 2, 2))).repeat(2, 1).repeat(2, 2), dims=DIMS,
                         coords={"time": time, "lat": lat, "lon": lon}, attrs={"units": UNITS})
    pattern = np.array([[1.0, -1.0], [-1.0, 1.0]])
    pattern = np.tile(pattern, (2, 2))   # +1/-1 inside every 2 x 2 block: sums to zero over a block
    noise = 1e-9 * 0.2 * rng.standard_normal((len(time), 1, 1)) * pattern[None] / 0.98
    pred = truth + noise
    # the cells of a block share a latitude band, so equal areas within rows: the block mean removes the noise
    assert anomaly_skill(pred, truth, top_fraction=1.0, factor=2) == pytest.approx(1.0, abs=1e-6)
    assert anomaly_skill(pred, truth, top_fraction=1.0) < 0.9


def test_anomaly_skill_errors(truth_two_years):
    t = truth_two_years
    with pytest.raises(DataError, match="units"):
        anomaly_skill(t.assign_attrs(units="kg m-2 s-1"), t)
    with pytest.raises(DataError, match="lacks 1 of the truth's days"):
        anomaly_skill(t.isel(time=slice(1, None)), t)
    with pytest.raises(DataError, match="NaN"):
        anomaly_skill(t.where(t.lat < 38), t)
    with pytest.raises(DataError, match="fraction"):
        anomaly_skill(t, t, top_fraction=0.0)
    monthly_days = t.isel(time=~pd.DatetimeIndex(t.time.values).to_period("M").duplicated())
    with pytest.raises(DataError, match="no calendar month holds two"):
        anomaly_skill(monthly_days, monthly_days)


def test_paired_world_gain_by_hand():
    g = paired_world_gain([0.5, 0.4, 0.3, 0.6, 0.2], [0.1, 0.1, 0.1, 0.1, 0.1])
    assert g["mean"] == pytest.approx(0.3) and g["n_worlds"] == 5 and g["worlds_positive"] == 5
    # the bootstrap mean of five values lies between their smallest and largest
    assert 0.1 <= g["lo"] < 0.3 < g["hi"] <= 0.5
    g = paired_world_gain([0.1, 0.3], [0.2, 0.1])
    assert g["worlds_positive"] == 1 and g["lo"] < 0 < g["hi"]
    assert paired_world_gain([0.3], [0.1]) == pytest.approx({"mean": 0.2, "lo": 0.2, "hi": 0.2, "n_worlds": 1,
                                                             "worlds_positive": 1})
    with pytest.raises(DataError, match="one finite value per world"):
        paired_world_gain([0.1, np.nan], [0.0, 0.0])


# ------------------------------------------------------------------------------------------- evaluation_days


def _time_world(start, end):
    return xr.Dataset(coords={"time": pd.date_range(start, end, freq="D")}, attrs={"title": "test world"})


def test_evaluation_days():
    world = _time_world("2021-01-01", "2022-12-31")
    days, var = evaluation_days(world, stride=5, n_variational=6)
    assert days[0] == pd.Timestamp("2021-01-02")
    strided = pd.date_range("2021-01-02", "2022-12-31", freq="5D")
    assert set(days) == set(strided) | set(var)   # every method is also scored on the variational days
    assert days.is_monotonic_increasing and days.is_unique
    assert len(var) == 12
    first, second = var[:6], var[6:]
    assert (first.year == 2021).all() and (second.year == 2022).all()
    assert list(zip(first.month, first.day)) == list(zip(second.month, second.day))
    assert first[0] == pd.Timestamp("2021-01-11") and first[-1] == pd.Timestamp("2021-12-21")   # 10 days trimmed
    assert first.is_monotonic_increasing and first.is_unique


def test_evaluation_days_needs_two_years():
    with pytest.raises(DataError, match="test world"):
        evaluation_days(_time_world("2021-01-01", "2021-12-31"), stride=3, n_variational=4)


# ------------------------------------------------------------------------------------------ load_world_files


def _tiny_world(n=3, ny=2, nx=2) -> xr.Dataset:
    coords = {"time": pd.date_range("2021-01-01", periods=n), "lat": [30.125, 30.375], "lon": [110.125, 110.375]}
    units = {"emission": UNITS, "prior_emission": UNITS, "no2_column": "mol m-2", "no2_column_precision": "mol m-2",
             "u": "m s-1", "v": "m s-1", "lifetime": "h", "nox_column": "mol m-2", "valid": "1"}
    assert set(units) == set(WORLD_VARIABLES)
    data = {k: (DIMS, np.full((n, ny, nx), 1.0, dtype=np.float32), {"units": u}) for k, u in units.items()}
    return xr.Dataset(data, coords=coords, attrs={"regions": json.dumps({}), "transport_substeps_per_day": 4,
                                                  "no2_background_mol_m2": 8e-6, "inventory": "{}", "seed": 1})


def test_load_world_files_ok(tmp_path):
    p = tmp_path / "world_ok.nc"
    _tiny_world().to_netcdf(p)
    (ds,) = load_world_files([p])
    assert "world_ok.nc" in ds.attrs["title"]
    assert set(WORLD_VARIABLES) <= set(ds.data_vars)


def test_a_world_on_another_grid_size_is_refused_naming_its_file(tmp_path):
    from eoretrieval.nox.osse import require_training_grid

    p = tmp_path / "world_2x2.nc"
    _tiny_world().to_netcdf(p)
    (ds,) = load_world_files([p])
    require_training_grid([ds], xr.DataArray(np.zeros((2, 2)), dims=("lat", "lon")))  # same size: accepted
    with pytest.raises(DataError, match=r"world_2x2.nc: grid 2 x 2 \(lat x lon\).*training worlds' 64 x 64 grid"):
        require_training_grid([ds], xr.DataArray(np.zeros((64, 64)), dims=("lat", "lon")))


def test_load_world_files_missing_file(tmp_path):
    with pytest.raises(DataError, match="absent_world.nc"):
        load_world_files([tmp_path / "absent_world.nc"])


def test_load_world_files_missing_variable(tmp_path):
    p = tmp_path / "no_lifetime.nc"
    _tiny_world().drop_vars("lifetime").to_netcdf(p)
    with pytest.raises(DataError, match="no_lifetime.nc") as err:
        load_world_files([p])
    assert "lifetime" in str(err.value)


def test_load_world_files_wrong_units_and_attrs(tmp_path):
    p = tmp_path / "bad_units.nc"
    w = _tiny_world()
    w["u"].attrs["units"] = "km h-1"
    w.to_netcdf(p)
    with pytest.raises(DataError, match="bad_units.nc"):
        load_world_files([p])
    q = tmp_path / "no_seed.nc"
    w = _tiny_world()
    del w.attrs["seed"]
    w.to_netcdf(q)
    with pytest.raises(DataError, match="no_seed.nc") as err:
        load_world_files([q])
    assert "seed" in str(err.value)


def test_load_world_files_unreadable(tmp_path):
    p = tmp_path / "garbage_world.nc"
    p.write_text("not a netCDF file")
    with pytest.raises(DataError, match="garbage_world.nc"):
        load_world_files([p])


def test_scale_scores_on_a_sparse_subset_of_days():
    """Four days in two years (the variational inversion's subset): empty months are dropped, every score is finite."""
    t = pd.DatetimeIndex(["2021-03-10", "2021-09-10", "2022-03-10", "2022-09-10"])
    lat, lon = 30.125 + 0.25 * np.arange(8), 110.125 + 0.25 * np.arange(8)
    rng = np.random.default_rng(0)
    truth = xr.DataArray(rng.uniform(1e-9, 5e-9, (4, 8, 8)), dims=("time", "lat", "lon"),
                         coords={"time": t, "lat": lat, "lon": lon}, attrs={"units": "mol m-2 s-1"})
    out = scale_scores(truth * 1.2, truth, regions_of(lat, lon), n_top=2)
    flat = [out["cell_daily"]["rmse"], out["deg1_monthly"]["rmse"], out["deg1_monthly"]["corr"],
            out["total_abs_rel_err"], out["trend_abs_err_pp"]]
    assert np.isfinite(flat).all()
    assert out["total_abs_rel_err"] == pytest.approx(0.2) and out["trend_abs_err_pp"] == pytest.approx(0.0, abs=1e-9)


def test_targets_by_world_counts_the_worlds_that_meet_each_target():
    from eoretrieval.nox.targets import TARGETS
    targets = TARGETS["01_nox_osse"]

    def world(smaat, memo, total_err, cov):
        sc = lambda r: {"cell_daily": {"rmse": r}, "deg1_monthly": {"rmse": r}, "top20_abs_rel_err": 0.1,  # noqa: E731
                        "total_abs_rel_err": total_err, "trend_abs_err_pp": 1.0}
        methods = {"smaat_unet": sc(smaat), "memorisation": sc(memo), "flux_divergence": sc(10.0),
                   "flux_divergence_7d": sc(10.0)}
        return methods, {"smaat_unet": sc(smaat), "variational": sc(smaat)}, {"coverage90_cell": cov,
                                                                               "coverage90_deg1": cov,
                                                                               "coverage90_total": cov}

    # the means of these three worlds meet "<= 0.5x memorisation" (1.5 / 3.0) though one world misses it
    worlds = [world(1.0, 3.0, 0.02, 0.9), world(2.0, 3.0, 0.08, 0.8), world(1.5, 3.0, 0.04, 0.99)]
    out = targets_by_world(targets, *map(list, zip(*worlds)))
    memo = out["SmaAt-UNet RMSE <= 0.5x the memorisation baseline (0.25 deg daily)"]
    assert memo["per_world"] == pytest.approx([1 / 3, 2 / 3, 0.5]) and memo["n_met"] == 2 and memo["n_measured"] == 3
    assert out["Monthly domain totals within 5 % (mean absolute)"]["n_met"] == 2
    assert out["cVAE 90 % intervals cover 85-95 % (domain total)"]["n_met"] == 1
    # measured once for all worlds, so not per world
    shifted = out["Shifted domain: SmaAt-UNet beats flux divergence at 1 deg monthly"]
    assert shifted["n_measured"] == 0 and shifted["per_world"] == [None, None, None]
    with pytest.raises(ValueError, match="one entry per test world"):
        targets_by_world(targets, [worlds[0][0]], [], [])


def test_targets_by_world_carries_a_stable_source_key():
    from eoretrieval.nox.targets import TARGETS
    v = {"coverage90_cell": 0.9, "coverage90_deg1": 0.9, "coverage90_total": 0.8}
    out = targets_by_world(TARGETS["01_nox_osse"], [{}], [{}], [v])
    by_source = {r["source"]: r for r in out.values()}
    assert by_source["vae.coverage90_total"]["per_world"] == [0.8]


def test_coverage_vs_amf_bias_by_hand():
    from scipy import stats
    cov = [0.99, 0.84, 0.85, 0.86, 0.93]
    bias = [-0.004, -0.058, 0.117, -0.157, 0.018]          # the sign is dropped: |bias| is what shifts the totals
    out = coverage_vs_amf_bias([{"coverage90_total": c} for c in cov], bias, 185)
    x = np.abs(bias)
    r = np.corrcoef(x, cov)[0, 1]
    t = r * np.sqrt(3 / (1 - r ** 2))                       # Pearson's t with n - 2 = 3 degrees of freedom
    assert out["r"] == pytest.approx(r, rel=1e-12) and out["r"] < -0.5
    assert out["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 3), rel=1e-9)
    assert out["coverage"] == cov and out["abs_amf_bias"] == pytest.approx(list(x)) and out["n_worlds"] == 5
    # the central 90 % of Binomial(185, 0.9) / 185, checked against its cumulative distribution
    lo, hi = out["binomial_range"]
    k_lo, k_hi = round(lo * 185), round(hi * 185)
    assert stats.binom.cdf(k_lo - 1, 185, 0.9) < 0.05 <= stats.binom.cdf(k_lo, 185, 0.9)
    assert stats.binom.cdf(k_hi - 1, 185, 0.9) < 0.95 <= stats.binom.cdf(k_hi, 185, 0.9)
    assert 0.85 < lo < 0.9 < hi < 0.95
    # the chance range narrows with more days
    wide = coverage_vs_amf_bias([{"coverage90_total": c} for c in cov], bias, 30)["binomial_range"]
    assert wide[0] < lo and wide[1] > hi


def test_coverage_vs_amf_bias_rejects_bad_input():
    v = [{"coverage90_total": 0.9}] * 3
    assert coverage_vs_amf_bias(v, [0.1, 0.2, 0.3], 10)["r"] is None          # constant coverage: no correlation
    assert coverage_vs_amf_bias(v[:2], [0.1, 0.2], 10)["r"] is None            # two worlds: no correlation
    with pytest.raises(ValueError, match="2 AMF biases"):
        coverage_vs_amf_bias(v, [0.1, 0.2], 10)
    with pytest.raises(ValueError, match="coverage90_deg1"):
        coverage_vs_amf_bias(v, [0.1, 0.2, 0.3], 10, scale="deg1")
    with pytest.raises(ValueError, match="scale"):
        coverage_vs_amf_bias(v, [0.1, 0.2, 0.3], 10, scale="month")
    with pytest.raises(ValueError, match="n_days"):
        coverage_vs_amf_bias(v, [0.1, 0.2, 0.3], 0)


# ------------------------------------------------------------------------------------------- extra networks

def _copy_artifact(src, dst, **manifest_changes):
    import shutil

    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest.setdefault("data_checksums", {}).update(manifest_changes)
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def test_extra_networks_are_loaded_ordered_and_estimated(tmp_path):
    """A further network is estimated like the SmaAt-UNet: the committed SmaAt-UNet loaded again under another name
    gives the same maps; methods_of lists it right after smaat_unet."""
    from eoretrieval.artifacts import artifact_path
    from eoretrieval.nox.osse import METHODS, estimate_world, level_estimates, load_networks, methods_of
    from tests.nox.conftest import fake_nox_world

    smaat, vae = artifact_path("nox", "smaat_unet"), artifact_path("nox", "vae")
    nets = load_networks(smaat, vae, extra={"smaat_copy": _copy_artifact(smaat, tmp_path / "copy")})
    assert methods_of(nets) == ("smaat_unet", "smaat_copy") + METHODS[1:]
    world = fake_nox_world(n_days=12, ny=64, nx=64)
    days = world.time.values[8:10]
    est, _, timing = estimate_world(world, days, nets, n_members=2)
    assert set(est) == {m for m in methods_of(nets) if m != "variational"}
    np.testing.assert_array_equal(est["smaat_copy"].values, est["smaat_unet"].values)
    assert timing["smaat_copy_s_per_day"] > 0
    assert methods_of(load_networks(smaat, vae)) == METHODS
    lev = level_estimates(world, days, nets)   # the level section's cheaper estimates are the same maps
    assert list(lev) == ["smaat_unet", "smaat_copy", "flux_divergence_7d", "prior"]
    for m, da in lev.items():
        np.testing.assert_allclose(da.values, est[m].values, rtol=1e-6, err_msg=m)


def test_extra_network_of_other_training_worlds_or_taken_name_is_refused(tmp_path):
    from eoretrieval.artifacts import artifact_path
    from eoretrieval.nox.osse import load_networks

    smaat, vae = artifact_path("nox", "smaat_unet"), artifact_path("nox", "vae")
    other = _copy_artifact(smaat, tmp_path / "other", train_world_seeds=[999])
    with pytest.raises(DataError, match=r"other.manifest\.json: trained on worlds \[999\]"):
        load_networks(smaat, vae, extra={"smaat_other": other})
    with pytest.raises(ValueError, match="'prior' is already a method"):
        load_networks(smaat, vae, extra={"prior": smaat})
