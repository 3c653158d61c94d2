import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nets import nox_train
from eoretrieval.nets.nox_data import split_days
from eoretrieval.nets.nox_eval import annual_means, perturb_world, predict_emissions, score, score_table, \
    seconds_per_day, top_sources, trend_pct


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


def test_seconds_per_day():
    assert seconds_per_day(lambda: None, n_days=10) >= 0


def test_evenly_spaced_and_profiles():
    import pandas as pd

    from eoretrieval.config import get_profile
    from eoretrieval.nets.nox_eval import NOX_EVAL_PROFILES, evenly_spaced

    days = pd.date_range("2022-01-01", periods=10)
    assert list(evenly_spaced(days, 3)) == [days[0], days[4], days[9]] or len(evenly_spaced(days, 3)) == 3
    assert len(evenly_spaced(days, 20)) == 10
    assert get_profile("CI", NOX_EVAL_PROFILES).n_members >= 2


def test_check_targets():
    from eoretrieval.nets.nox_eval import check_targets

    scores = {"net": {"rmse": 1.0, "total_rel_err": -0.02}, "flux_divergence": {"rmse": 2.0},
              "variational": {"rmse": 0.5}}
    out = check_targets(net="net", scores=scores, scores_variational_days=scores,
                        trend={"true_pct": -19.0, "net_pct": -15.0}, coverage90=0.9,
                        seconds_per_day={"net": 0.01, "variational": 5.0})
    assert out["rmse_vs_flux_divergence"] == {"value": 0.5, "limit": 0.6, "met": True}
    assert out["rmse_vs_variational"]["met"] is False and out["rmse_vs_variational"]["value"] == 2.0
    assert out["total_rel_err"]["met"] and not out["trend_pp"]["met"]
    assert out["coverage90"]["met"] and out["speedup_vs_variational"]["value"] == pytest.approx(500)


def test_to_nmol(nox_world):
    from eoretrieval.nets.nox_eval import to_nmol

    assert to_nmol(nox_world["emission"]).attrs["units"] == "nmol m-2 s-1"
    with pytest.raises(DataError, match="mol m-2 s-1"):
        to_nmol(nox_world["no2_column"])
