import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox import train as nox_train
from eoretrieval.nox.world import split_days
from eoretrieval.nox.evaluate import perturb_world, predict_emissions, score, score_table, seconds_per_day, \
    sensitivity_table, timed, top_sources


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
        nox_train.main(["--model", model, "--epochs", "1", "--base-channels", "4", "--depth", "2",
                        "--train-worlds", "1", "--val-worlds", "2", "--out",
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


def test_sensitivity_table(nox_world):
    days = split_days(nox_world, "test")[:4]
    truth = nox_world["emission"].sel(time=days)
    perfect = {"truth": lambda w, d: w["emission"].sel(time=d)}
    table, valid = sensitivity_table(nox_world, days, truth, perfect, kinds=("none", "cloud"))
    assert table.loc[("none", "truth"), "rmse"] == 0 and table.loc[("cloud", "truth"), "rmse"] == 0
    assert valid["cloud"] < valid["none"]


def test_to_nmol(nox_world):
    from eoretrieval.nox.evaluate import to_nmol

    assert to_nmol(nox_world["emission"]).attrs["units"] == "nmol m-2 s-1"
    with pytest.raises(DataError, match="mol m-2 s-1"):
        to_nmol(nox_world["no2_column"])
