import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox import train as nox_train
from eoretrieval.nox.world import split_days
from eoretrieval.nox.evaluate import annual_means, perturb_world, predict_emissions, score, score_table, \
    scores_by_class, scores_json, seconds_per_day, sensitivity_table, timed, top_sources, trend_days, trend_pct, \
    trend_summary


def test_score_perfect_and_scaled(nox_world):
    truth = nox_world["emission"]
    s = score(truth, truth, n_top=5)
    assert s["rmse"] == 0 and s["bias"] == 0 and s["total_rel_err"] == 0 and s["top5_rel_err"] == 0
    assert s["corr"] == pytest.approx(1.0)
    s = score(truth * 1.1, truth, n_top=5)
    assert s["total_rel_err"] == pytest.approx(0.1, rel=1e-5)
    assert s["top5_rel_err"] == pytest.approx(0.1, rel=1e-5)
    assert s["daily_total_abs_rel_err"] == pytest.approx(0.1, rel=1e-5)
    assert s["bias"] > 0
    table = score_table({"a": truth, "b": truth * 1.1}, truth, n_top=5)
    assert table.dims == ("method", "metric") and table.attrs["units"] == "mol m-2 s-1"


def test_score_rejects_bad_input(nox_world):
    truth = nox_world["emission"]
    with pytest.raises(DataError, match="units"):
        score(truth.assign_attrs(units="kg m-2 s-1"), truth)
    with pytest.raises(DataError, match="NaN"):
        score(truth.where(truth < truth.max()), truth)


def test_top_sources(nox_world):
    mask = top_sources(nox_world["emission"], n=7)
    assert int(mask.sum()) == 7


def test_trend():
    time = xr.date_range("2019-01-01", "2020-12-31", freq="D", use_cftime=False)
    factor = np.where(time.year == 2019, 1.0, 0.8)
    e = xr.DataArray(factor[:, None, None] * np.ones((1, 3, 4)), dims=("time", "lat", "lon"),
                     coords={"time": time, "lat": [30.0, 31.0, 32.0], "lon": np.arange(4.0)}, attrs={"units": "u"})
    assert annual_means(e).sizes["year"] == 2
    assert trend_pct(e) == pytest.approx(-20.0)
    with pytest.raises(DataError, match="at least 2"):
        trend_pct(e.sel(time="2019"))


@pytest.mark.parametrize("kind", ["noise", "cloud", "lifetime", "wind"])
def test_perturb_world(nox_world, kind):
    out = perturb_world(nox_world, kind)
    xr.testing.assert_identical(out["emission"], nox_world["emission"])
    if kind == "noise":
        diff = (out["no2_column"] - nox_world["no2_column"]).std()
        assert float(diff) == pytest.approx(np.sqrt(3) * 2e-6, rel=0.05)
    if kind == "cloud":
        assert float(out["valid"].mean()) == pytest.approx(float(nox_world["valid"].mean()) - 0.2, abs=0.01)
        assert bool((out["no2_column"].notnull() == out["valid"].astype(bool)).all())
    if kind == "lifetime":
        np.testing.assert_allclose(out["lifetime"], 1.3 * nox_world["lifetime"], rtol=1e-6)
    if kind == "wind":
        speed = np.hypot(out["u"], out["v"]) / np.hypot(nox_world["u"], nox_world["v"])
        np.testing.assert_allclose(speed, 1.2, rtol=1e-6)
    with pytest.raises(ValueError, match="valid"):
        perturb_world(nox_world, "volcano")


def test_predict_emissions(monkeypatch, nox_world, tmp_path):
    monkeypatch.setattr(nox_train, "build_world", lambda *, profile, seed: nox_world)
    for model in ("smaat_unet", "vae"):
        nox_train.main(["--model", model, "--epochs", "1", "--base-channels", "4", "--depth", "2", "--out",
                        str(tmp_path / model), "--no-progress", "--device", "cpu"])
    days = split_days(nox_world, "test")
    net, obj, norm, _ = nox_train.load_artifact(tmp_path / "smaat_unet")
    pred = predict_emissions(net, obj, nox_world, days, norm, batch_size=3)
    assert pred.dims == ("time", "lat", "lon") and pred.sizes["time"] == len(days)
    assert pred.attrs["units"] == "mol m-2 s-1"
    vae, obj, norm, _ = nox_train.load_artifact(tmp_path / "vae")
    ens = predict_emissions(vae, obj, nox_world, days, norm, n_samples=3, batch_size=3)
    assert ens.dims == ("member", "time", "lat", "lon") and ens.sizes["member"] == 3
    again = predict_emissions(vae, obj, nox_world, days, norm, n_samples=3, batch_size=3)
    xr.testing.assert_equal(ens, again)


def test_seconds_per_day_and_timed():
    import time

    assert seconds_per_day(lambda: time.sleep(0.05), n_days=10) == pytest.approx(0.005, rel=0.5)
    out, s_per_day = timed(lambda: (time.sleep(0.04), "x")[1], n_days=4)
    assert out == "x" and s_per_day == pytest.approx(0.01, rel=0.5)


def test_evenly_spaced_and_profiles():
    import pandas as pd

    from eoretrieval.config import get_profile
    from eoretrieval.nox.evaluate import evenly_spaced
    from eoretrieval.nox.profiles import NOX_EVAL_PROFILES

    days = pd.date_range("2022-01-01", periods=10)
    assert list(evenly_spaced(days, 3)) == [days[0], days[4], days[9]]
    assert len(evenly_spaced(days, 20)) == 10
    assert get_profile("CI", NOX_EVAL_PROFILES).n_members >= 2


def _two_year_world():
    import pandas as pd

    time = pd.date_range("2019-01-01", "2020-12-31", freq="D")
    lat, lon = np.array([30.0, 40.0]), np.array([110.0, 111.0])
    e = np.ones((len(time), 2, 2)) * np.where(time.year == 2019, 2.0, 1.5)[:, None, None]
    return xr.Dataset({"emission": (("time", "lat", "lon"), e, {"units": "mol m-2 s-1"})},
                      coords={"time": time, "lat": lat, "lon": lon})


def test_trend_days_and_summary():
    world = _two_year_world()
    days, var_days = trend_days(world, stride=3, n_variational=4)
    assert days[0] == np.datetime64("2019-01-02") and set(days.year) == {2019, 2020}
    assert len(var_days) == 8 and list(var_days[:4].strftime("%m-%d")) == list(var_days[4:].strftime("%m-%d"))
    truth = world["emission"].sel(time=days)
    out = trend_summary({"half": truth * 0.5, "flat": xr.full_like(truth, 2.0)}, truth,
                        variational_truth=world["emission"].sel(time=var_days))
    assert out["true_pct"] == pytest.approx(-25.0) and out["half_pct"] == pytest.approx(-25.0)
    assert out["flat_pct"] == pytest.approx(0.0) and out["variational_true_pct"] == pytest.approx(-25.0)
    with pytest.raises(DataError, match="one calendar year"):
        trend_days(world.sel(time="2019"), stride=3, n_variational=4)


def test_scores_by_class_known_coverage():
    rng = np.random.default_rng(0)
    truth = xr.DataArray(rng.uniform(1, 2, (20, 10, 10)), dims=("time", "lat", "lon"),
                         coords={"lat": np.linspace(30, 35, 10), "lon": np.arange(10.0)})
    # an ensemble whose members all lie above the truth: zero coverage everywhere, in every class
    high = truth + 1 + xr.DataArray(rng.uniform(0, 1, 8), dims="member")
    wide = truth + xr.DataArray(np.linspace(-1, 1, 9), dims="member")
    table = scores_by_class({"_high": high, "_wide": wide}, truth, weights=xr.ones_like(truth))
    assert list(table.index) == ["lowest 50 %", "50–90 %", "90–99 %", "top 1 %"]
    assert (table["coverage90_high"] == 0).all() and (table["coverage90_wide"] == 1).all()


def test_sensitivity_and_scores_json(nox_world):
    days = split_days(nox_world, "test")[:4]
    truth = nox_world["emission"].sel(time=days)
    perfect = {"truth": lambda w, d: w["emission"].sel(time=d)}
    table, valid = sensitivity_table(nox_world, days, truth, perfect, kinds=("none", "cloud"))
    assert table.loc[("none", "truth"), "rmse"] == 0 and table.loc[("cloud", "truth"), "rmse"] == 0
    assert valid["cloud"] < valid["none"]
    out = scores_json(table.loc["none"], n_days={"truth": 4})
    assert out == {"truth": {"rmse": 0.0, "corr": pytest.approx(1.0), "total_rel_err": 0.0, "n_days": 4}}


def test_to_nmol(nox_world):
    from eoretrieval.nox.evaluate import to_nmol

    assert to_nmol(nox_world["emission"]).attrs["units"] == "nmol m-2 s-1"
    with pytest.raises(DataError, match="mol m-2 s-1"):
        to_nmol(nox_world["no2_column"])
