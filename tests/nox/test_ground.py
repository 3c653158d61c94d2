"""Tests of eoretrieval.nox.ground: ground-based columns and the AMF-bias estimate they give.

What is tested
--------------
- error-free sites recover a world's bias exactly, and daily errors alone average away over many days;
- the site errors leave the estimate an error of about sigma_site / sqrt(sites) (Monte Carlo over seeds);
- sites outside the grid, missing variables, wrong units, too few coincident days: clear errors naming the world
  or the site; sites with too few days are left out *and listed*;
- :func:`calibrate_columns` divides the columns and their precision only, once;
- :func:`sensitivity` falls with the number of sites and grows with the site error, and the post-hoc totals of an
  estimate linear in the columns are exact with error-free sites;
- :func:`calibration_response` recovers a known exponent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.ground import (calibrate_columns, calibration_response, estimate_amf_bias, ground_calibration,
                                    largest_site_error, sensitivity, simulate_ground, site_series, sites_inside,
                                    summarise)

SITES = {"A": (30.1, 116.1), "B": (30.6, 117.4), "C": (30.9, 116.6), "D": (30.4, 117.9)}


def _world(beta=0.2, *, n_days=400, seed=0, frac_valid=0.6):
    rng = np.random.default_rng(seed)
    time = pd.date_range("2021-01-01", periods=n_days, freq="D")
    lat, lon = 30.125 + 0.25 * np.arange(4), 116.125 + 0.25 * np.arange(8)
    true = np.exp(rng.normal(np.log(3e-4), 0.5, (n_days, 4, 8))).astype(np.float32)
    valid = rng.uniform(size=true.shape) < frac_valid
    obs = np.where(valid, true * (1 + beta), np.nan).astype(np.float32)
    dims = ("time", "lat", "lon")
    return xr.Dataset({"no2_column": (dims, obs, {"units": "mol m-2"}),
                       "no2_column_precision": (dims, np.full(true.shape, 1e-5, np.float32), {"units": "mol m-2"}),
                       "no2_column_true": (dims, true, {"units": "mol m-2"}),
                       "valid": (dims, valid.astype(np.uint8)),
                       "u": (dims, np.zeros(true.shape, np.float32), {"units": "m s-1"})},
                      coords={"time": time, "lat": lat, "lon": lon},
                      attrs={"title": "test world", "seed": seed, "amf_bias": beta})


def test_error_free_sites_recover_the_bias_exactly():
    w = _world(0.2)
    cal, rec = ground_calibration(w, w.time.values, sites=SITES, site_error=0.0, daily_error=0.0)
    assert rec["beta_hat"] == pytest.approx(0.2, rel=1e-5)
    assert rec["log_error"] == pytest.approx(0.0, abs=1e-5)
    assert rec["sites_used"] == list(SITES) and rec["sites_left_out"] == {}
    assert all(100 < v["n"] < 300 for v in rec["per_site"].values())   # ~60 % of 400 days
    # the calibrated columns are the true ones
    ok = w["valid"].values > 0
    np.testing.assert_allclose(cal["no2_column"].values[ok], w["no2_column_true"].values[ok], rtol=1e-5)


def test_daily_errors_average_away():
    w = _world(-0.25, n_days=400)
    rec = ground_calibration(w, w.time.values, sites=SITES, site_error=0.0, daily_error=0.3, seed=3)[1]
    # 4 sites x ~240 days: the median's error is ~1.25 * 0.3 / sqrt(960) ~ 0.012
    assert abs(rec["log_error"]) < 0.04
    assert abs(rec["beta_hat"] - (-0.25)) < 0.03


def test_site_errors_leave_sigma_over_sqrt_sites():
    w = _world(0.1, n_days=60)
    ser = site_series(w, w.time.values, SITES)
    errs = [np.log((1 + estimate_amf_bias(ser, simulate_ground(ser, site_error=0.2, daily_error=0.0, seed=k))["beta_hat"])
                   / 1.1) for k in range(400)]
    assert np.std(errs) == pytest.approx(0.2 / np.sqrt(4), rel=0.15)
    assert abs(np.mean(errs)) < 0.02


def test_simulate_ground_depends_on_seed_and_world():
    ser = site_series(_world(seed=0), _world(seed=0).time.values, SITES)
    a, b = simulate_ground(ser, seed=1), simulate_ground(ser, seed=1)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, simulate_ground(ser, seed=2).values)
    other = site_series(_world(seed=5), _world(seed=5).time.values, SITES)
    r_a = np.log(a.values / ser["no2_column_true"].values)
    r_o = np.log(simulate_ground(other, seed=1).values / other["no2_column_true"].values)
    assert not np.allclose(r_a, r_o)
    assert a.attrs["units"] == "mol m-2"
    with pytest.raises(ValueError, match="site_error"):
        simulate_ground(ser, site_error=-0.1)


def test_sites_outside_the_grid():
    w = _world()
    with pytest.raises(DataError, match="site Far .* outside the grid"):
        site_series(w, w.time.values, {**SITES, "Far": (40.0, 116.4)})
    assert list(sites_inside(w, {**SITES, "Far": (40.0, 116.4)})) == list(SITES)


def test_bad_worlds_are_named():
    w = _world()
    with pytest.raises(DataError, match="test world .*no2_column_true"):
        site_series(w.drop_vars("no2_column_true"), w.time.values, SITES)
    bad = w.copy()
    bad["no2_column"] = bad["no2_column"].assign_attrs(units="molec cm-2")
    with pytest.raises(DataError, match="test world .*molec cm-2.*mol m-2"):
        site_series(bad, w.time.values, SITES)


def test_too_few_coincident_days():
    w = _world(n_days=6, frac_valid=0.5)
    ser = site_series(w, w.time.values, SITES)
    g = simulate_ground(ser, site_error=0.0, daily_error=0.0)
    counts = (np.isfinite(ser["no2_column"].values)).sum(axis=1)
    rec = estimate_amf_bias(ser, g, min_coincidences=int(counts.max()))
    left = {s: int(n) for s, n in zip(SITES, counts) if n < counts.max()}
    assert rec["sites_left_out"] == left            # listed, not dropped silently
    assert set(rec["sites_used"]) == set(SITES) - set(left)
    with pytest.raises(DataError, match="no site has 7 days"):
        estimate_amf_bias(ser, g, min_coincidences=7)
    with pytest.raises(DataError, match="expected 'mol m-2'"):
        estimate_amf_bias(ser, g.assign_attrs(units="DU"))
    with pytest.raises(DataError, match="expected the series"):
        estimate_amf_bias(ser, g.isel(site=slice(0, 2)))


def test_calibrate_columns_divides_the_columns_once():
    w = _world(0.2)
    c = calibrate_columns(w, 0.25)
    np.testing.assert_allclose(c["no2_column"].values, w["no2_column"].values / 1.25, rtol=1e-6)
    np.testing.assert_allclose(c["no2_column_precision"].values, w["no2_column_precision"].values / 1.25, rtol=1e-6)
    np.testing.assert_array_equal(c["no2_column_true"].values, w["no2_column_true"].values)
    assert c["no2_column"].attrs["units"] == "mol m-2" and c.attrs["ground_calibration_beta_hat"] == 0.25
    assert "ground_calibration_beta_hat" not in w.attrs
    with pytest.raises(ValueError, match="already calibrated"):
        calibrate_columns(c, 0.1)
    with pytest.raises(ValueError, match="positive"):
        calibrate_columns(w, -1.0)


def test_sensitivity_trends_and_exact_linear_totals():
    worlds = [_world(b, n_days=80, seed=k) for k, b in enumerate((0.2, -0.1, 0.05))]
    series = [site_series(w, w.time.values, SITES) for w in worlds]
    linear = {"linear": [[1 + w.attrs["amf_bias"]] * 3 for w in worlds]}   # totals that carry the bias exactly
    tab = sensitivity(series, site_errors=(0.0, 0.3), n_sites=(1, 4), daily_error=0.0, n_draws=30, ratios=linear)
    by = tab.set_index(["site_error", "n_sites"])
    assert by.loc[(0.0, 1), "rms_log_error"] < 1e-5 and by.loc[(0.0, 4), "total_abs_rel_err_linear"] < 1e-5
    assert by.loc[(0.3, 4), "rms_log_error"] < by.loc[(0.3, 1), "rms_log_error"]
    assert by.loc[(0.3, 1), "rms_log_error"] == pytest.approx(0.3, rel=0.35)
    assert by.loc[(0.3, 4), "total_abs_rel_err_linear"] > 0.05
    # an estimate that ignores the columns' level (response 0) keeps its raw error whatever the ground network
    flat = sensitivity(series, site_errors=(0.0,), n_sites=(4,), daily_error=0.0, n_draws=2, ratios=linear,
                       response={"linear": 0.0})
    assert flat["total_abs_rel_err_linear"].iloc[0] == pytest.approx(np.mean([abs(w.attrs["amf_bias"]) for w in worlds]))
    with pytest.raises(ValueError, match="5 sites asked"):
        sensitivity(series, n_sites=(5,), n_draws=1)
    with pytest.raises(ValueError, match="ratio lists of linear"):
        sensitivity(series, ratios={"linear": linear["linear"][:2]}, n_draws=1)


def test_calibration_response_recovers_the_exponent():
    beta_hat = [0.2, -0.15, 0.1, -0.3]
    raw = [{"ratios": {"lin": [1.0, 1.1], "half": [0.9, 1.0], "none": [1.2, 1.2]}} for _ in beta_hat]
    cal = [{"ratios": {"lin": [r / (1 + b) for r in [1.0, 1.1]], "half": [r / np.sqrt(1 + b) for r in [0.9, 1.0]],
                       "none": [1.2, 1.2]}} for b in beta_hat]
    k = calibration_response(raw, cal, beta_hat)
    assert k == pytest.approx({"lin": 1.0, "half": 0.5, "none": 0.0}, abs=1e-9)
    with pytest.raises(ValueError, match="same number"):
        calibration_response(raw, cal[:2], beta_hat)
    with pytest.raises(ValueError, match="every beta_hat is 0"):
        calibration_response(raw, raw, [0.0] * 4)


def test_summarise_by_hand():
    raw = [{"seed": 1, "ratios": {"a": [1.2, 0.8]}}, {"seed": 2, "ratios": {"a": [1.1, 1.1]}}]
    cal = [{"record": {"log_error": 0.3, "amf_bias": 0.1, "beta_hat": 0.2, "sites_used": ["A"]},
            "level": {"seed": 1, "ratios": {"a": [1.0, 1.0]}}},
           {"record": {"log_error": -0.4, "amf_bias": -0.1, "beta_hat": -0.3, "sites_used": ["A", "B"]},
            "level": {"seed": 2, "ratios": {"a": [0.95, 1.05]}}}]
    out = summarise(raw, cal, ["a"])
    assert out["n_worlds"] == 2 and out["rms_log_error"] == pytest.approx(np.sqrt((0.09 + 0.16) / 2))
    assert out["mean_abs_err_raw"]["a"] == pytest.approx((0.2 + 0.1) / 2)
    assert out["mean_abs_err_ground"]["a"] == pytest.approx((0.0 + 0.05) / 2)
    assert [w["seed"] for w in out["per_world"]] == [1, 2] and out["per_world"][1]["sites_used"] == ["A", "B"]
    with pytest.raises(ValueError, match="different worlds"):
        summarise(raw[::-1], cal, ["a"])
    with pytest.raises(ValueError, match="same"):
        summarise(raw[:1], cal, ["a"])


def test_largest_site_error():
    tab = pd.DataFrame({"site_error": [0.0, 0.1, 0.2, 0.0, 0.1, 0.2], "n_sites": [1, 1, 1, 5, 5, 5],
                        "total_abs_rel_err_a": [0.03, 0.08, 0.15, 0.02, 0.049, 0.07]})
    assert largest_site_error(tab, "a", 0.05) == 0.1                 # the largest network (5 sites)
    assert largest_site_error(tab, "a", 0.05, n_sites=1) == 0.0
    assert largest_site_error(tab, "a", 0.01) is None
    with pytest.raises(ValueError, match="no column 'total_abs_rel_err_b'"):
        largest_site_error(tab, "b", 0.05)


def test_why_unusable_names_the_reason():
    from eoretrieval.nox.ground import why_unusable

    lat, lon = np.arange(28.125, 44, 0.25), np.arange(108.125, 124, 0.25)
    world = xr.Dataset({"no2_column_true": (("lat", "lon"), np.ones((lat.size, lon.size)))},
                       coords={"lat": lat, "lon": lon})
    assert why_unusable(world) is None
    assert "no2_column_true" in why_unusable(world.drop_vars("no2_column_true"))
    far = world.assign_coords(lat=lat - 25.0)  # a domain south of every site
    assert why_unusable(far) == "no ground site inside its domain"
