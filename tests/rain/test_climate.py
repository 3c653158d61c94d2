"""Climate regimes: Clausius-Clapeyron scaling of extremes, freezing level, known truth."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.rain import climate
from eoretrieval.rain.gmi_simulator import make_environment, stochastic_rain_fields


def test_regimes_and_errors():
    assert list(climate.REGIMES) == ["present", "plus2K", "plus4K"]
    assert climate.get_regime("PLUS4K").delta_t == 4.0
    with pytest.raises(ValueError, match="valid regimes"):
        climate.get_regime("plus8K")


def test_present_is_identity():
    rain = stochastic_rain_fields(5, seed=0)
    env = make_environment(5, seed=0)
    r, e = climate.apply_regime(rain, env, "present")
    np.testing.assert_allclose(r.values, rain.values)
    xr.testing.assert_allclose(e["tcwv"], env["tcwv"])


@pytest.mark.parametrize("regime,dt", [("plus2K", 2.0), ("plus4K", 4.0)])
def test_environment_warms(regime, dt):
    rain = stochastic_rain_fields(3, seed=0)
    env = make_environment(3, seed=0)
    r, e = climate.apply_regime(rain, env, regime)
    np.testing.assert_allclose(e["surface_temperature"] - env["surface_temperature"], dt)
    np.testing.assert_allclose(e["tcwv"] / env["tcwv"], 1.07 ** dt)
    np.testing.assert_allclose(e["freezing_level"] - env["freezing_level"], dt / 6.5)
    assert r.attrs["regime"] == regime and r.attrs["units"] == "mm h-1"
    # inputs untouched
    assert "regime" not in rain.attrs


def test_extremes_follow_clausius_clapeyron_light_rain_does_not():
    rain = stochastic_rain_fields(400, seed=1)
    env = make_environment(400, seed=1)
    r4, _ = climate.apply_regime(rain, env, "plus4K")
    s = climate.true_scaling(rain, r4, 4.0, q=0.999)
    assert 5.5 < s < 7.0
    light = (rain > 0.0) & (rain < 1.0)
    assert int(light.sum()) > 100
    assert float((r4 / rain).where(light).max()) < 1.075
    # the known truth equals the analytic scaling at the present 99.9th percentile, to first order
    q = float(np.quantile(rain.values[rain.values > 0.1], 0.999))
    analytic = 100 * (1.07 ** (q / (q + 3.0)) - 1)
    assert s == pytest.approx(analytic, abs=0.3)


def test_scaling_pct_per_k_known():
    assert climate.scaling_pct_per_k(1.21, 1.0, 2.0) == pytest.approx(10.0)
    assert np.isnan(climate.scaling_pct_per_k(0.0, 1.0, 2.0))
    with pytest.raises(ValueError):
        climate.scaling_pct_per_k(1.0, 1.0, 0.0)


def test_units_checked():
    rain = stochastic_rain_fields(1, seed=0).assign_attrs(units="mm")
    with pytest.raises(ValueError, match="expected 'mm h-1'"):
        climate.apply_regime(rain, make_environment(1, seed=0), "plus2K")


def test_control_regimes_change_the_rain_law_only():
    """The controls warm and moisten the environment exactly as plus4K does; their rain does not intensify, or
    intensifies at twice the CC rate."""
    rain = stochastic_rain_fields(400, seed=2)
    env = make_environment(400, seed=2)
    r4, e4 = climate.apply_regime(rain, env, "plus4K")
    r0, e0 = climate.apply_regime(rain, env, "plus4K_rain0")
    r14, e14 = climate.apply_regime(rain, env, "PLUS4K_RAIN14")
    for e in (e0, e14):
        xr.testing.assert_allclose(e[["surface_temperature", "tcwv", "freezing_level"]],
                                   e4[["surface_temperature", "tcwv", "freezing_level"]])
    np.testing.assert_array_equal(r0.values, rain.values)
    wet = rain.values > 0
    np.testing.assert_allclose((r14 / rain).values[wet], (1.14 ** (4 * rain / (rain + 3.0))).values[wet], rtol=1e-5)
    assert climate.true_scaling(rain, r0, 4.0) == pytest.approx(0.0, abs=1e-9)
    assert 1.7 < climate.true_scaling(rain, r14, 4.0) / climate.true_scaling(rain, r4, 4.0) < 2.1
    assert climate.get_regime("plus4K").rain_rate == climate.CC_RATE
    assert set(climate.CONTROL_REGIMES).isdisjoint(climate.REGIMES)  # the study's three regimes stay three


def test_control_regime_scenes_differ_from_plus4k_in_the_rain_only():
    """Same environment and instrument noise as plus4K: scenes without rain have identical Tbs."""
    from eoretrieval.rain.gmi_data import simulate_scenes

    rain = stochastic_rain_fields(4, seed=3) * 0.0
    rain.attrs["units"] = "mm h-1"
    a = simulate_scenes(rain, regime="plus4K", seed=5)
    b = simulate_scenes(rain, regime="plus4K_rain0", seed=5)
    np.testing.assert_array_equal(a["tb"].values, b["tb"].values)
    wet = simulate_scenes(stochastic_rain_fields(4, seed=3), regime="plus4K_rain14", seed=5)
    assert wet.attrs["regime"] == "plus4K_rain14" and not np.array_equal(wet["tb"].values, a["tb"].values)
