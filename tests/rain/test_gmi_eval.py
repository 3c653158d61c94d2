"""The climatological evaluation protocol: known answers."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from eoretrieval.rain import gmi_eval as ge


def _field(values):
    v = np.asarray(values, dtype=np.float32).reshape(-1, 10, 10)
    return xr.DataArray(v, dims=("sample", "y", "x"), attrs={"units": "mm h-1"})


def test_perfect_retrieval_scores():
    rng = np.random.default_rng(0)
    truth = _field(rng.gamma(0.5, 4.0, 20000) * (rng.uniform(size=20000) < 0.4))
    s = ge.regime_scores(truth.copy(), truth)
    assert s["mae"] == 0 and s["bias_pct"] == pytest.approx(0, abs=1e-4) and s["corr"] == pytest.approx(1)
    assert s["hss"] == pytest.approx(1) and s["hss_10"] == pytest.approx(1)
    assert s["q999_ratio"] == pytest.approx(1) and s["crps"] is None
    assert s["extreme_share"] == pytest.approx(s["extreme_share_truth"])


def test_scores_of_a_scaled_retrieval():
    truth = _field(np.linspace(0, 19, 1000))
    s = ge.regime_scores((truth * 0.5).assign_attrs(units="mm h-1"), truth)
    assert s["bias_pct"] == pytest.approx(-50.0, abs=1e-3)
    assert s["q999_ratio"] == pytest.approx(0.5, rel=1e-5)
    assert s["pod_10"] == 0.0


def test_crps_from_quantiles_and_units():
    truth = _field(np.full(100, 2.0))
    q = xr.DataArray(np.broadcast_to(np.array([1.0, 2.0, 3.0])[:, None, None, None], (3, 1, 10, 10)).copy(),
                     dims=("quantile", "sample", "y", "x"), coords={"quantile": [0.25, 0.5, 0.75]},
                     attrs={"units": "mm h-1"})
    ds = xr.Dataset({"surface_precip": truth.copy(), "quantiles": q})
    s = ge.regime_scores(ds, truth)
    assert 0 < s["crps"] < 1.0
    with pytest.raises(ValueError, match="expected 'mm h-1'"):
        ge.regime_scores(truth.assign_attrs(units="mm"), truth)


def test_quantiles_as_members_uniform_distribution():
    taus = np.linspace(0.05, 0.95, 19)
    q = xr.DataArray(taus[:, None], dims=("quantile", "x"), coords={"quantile": taus})
    m = ge.quantiles_as_members(q, n=10)
    np.testing.assert_allclose(m.values[:, 0], (np.arange(10) + 0.5) / 10, atol=1e-12)


def test_gpd_return_levels_recover_known_distribution():
    rng = np.random.default_rng(1)
    xi, sigma = 0.1, 2.0
    v = 0.2 + stats.genpareto.rvs(xi, scale=sigma, size=50000, random_state=rng)
    out = ge.gpd_return_levels(v, threshold_q=0.9, return_periods=(1e3,), n_boot=50)
    # true level exceeded once in 1000 values
    true = 0.2 + stats.genpareto.ppf(1 - 1e-3, xi, scale=sigma)
    assert out["shape"] == pytest.approx(xi, abs=0.07)
    assert out["lower"][0] < true < out["upper"][0]


def test_scaling_and_pdf():
    rng = np.random.default_rng(2)
    base = rng.gamma(0.5, 3.0, 100000)
    vals = {"present": base, "plus2K": base * 1.05 ** 2, "plus4K": base * 1.05 ** 4}
    assert ge.scaling_across_regimes(vals) == pytest.approx(5.0, rel=1e-6)
    c, d = ge.log_pdf(base)
    inside = ((base >= ge.LOG_BINS[0]) & (base <= ge.LOG_BINS[-1])).mean()
    assert np.sum(d * np.diff(ge.LOG_BINS)) == pytest.approx(inside, rel=1e-6)


def test_evaluate_method_and_table():
    rng = np.random.default_rng(3)
    truths = {r: _field(rng.gamma(0.5, 4.0, 10000) * f) for r, f in (("present", 1), ("plus2K", 1.1), ("plus4K", 1.2))}
    preds = {r: xr.Dataset({"surface_precip": t * 0.9}) for r, t in truths.items()}
    for p in preds.values():
        p["surface_precip"].attrs["units"] = "mm h-1"
    res = ge.evaluate_method(preds, truths)
    assert set(res) >= {"present", "plus2K", "plus4K", "scaling_pct_per_K"}
    truth = ge.truth_entry(truths)
    assert res["scaling_pct_per_K"] == pytest.approx(truth["scaling_pct_per_K"], abs=1e-6)
    table = ge.comparison_table({"m": res})
    assert table.loc["m", ("plus4K", "q999_ratio")] == pytest.approx(0.9, rel=1e-4)


def test_warming_law_control_tells_a_reader_of_the_rain_from_a_law_applier():
    from eoretrieval.rain.climate import apply_regime
    from eoretrieval.rain.gmi_simulator import make_environment, stochastic_rain_fields

    rain = stochastic_rain_fields(200, seed=4)
    env = make_environment(200, seed=4)
    truth = {reg: apply_regime(rain, env, reg)[0].values for reg in ("plus4K_rain0", "plus4K_rain14")}
    law = 1.07 ** 4  # a "retrieval" that multiplies the present rain by the training's CC law whenever it is warm
    present = {"truth": rain.values, "reader": rain.values, "law": rain.values}
    control = {reg: {"truth": t, "reader": t, "law": rain.values * law} for reg, t in truth.items()}
    out = ge.warming_law_control(present, control, tolerance=1.0, best="law")
    assert out["plus4K_rain0"]["rain_alpha_pct_per_K"] == 0.0
    assert out["plus4K_rain14"]["rain_alpha_pct_per_K"] == pytest.approx(14.0)
    for reg, row in out.items():
        assert row["reader"] == pytest.approx(row["truth"])
        assert row["law"] == pytest.approx(7.0)
        assert row["best_passes"] is False  # 7 % K-1 where the truth is 0 or about 12
    assert ge.warming_law_control(present, control, tolerance=1.0, best="reader")["plus4K_rain14"]["best_passes"] is True
    with pytest.raises(ValueError, match=r"methods \['law'\] are not in both"):
        ge.warming_law_control(present, {"plus4K_rain0": {"truth": rain.values, "reader": rain.values}}, tolerance=1.0)
