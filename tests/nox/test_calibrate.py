import json

import pytest

from eoretrieval.errors import DataError
from eoretrieval.nox import calibrate
from eoretrieval.nox import train as nox_train
from eoretrieval.nox.features import make_inputs

from .conftest import fake_nox_world


def _world(*, profile="ci", seed):
    return fake_nox_world(seed=seed)


@pytest.fixture(scope="module")
def vae_artifact(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(nox_train, "build_world", _world)
    out = tmp_path_factory.mktemp("cal") / "vae"
    assert nox_train.main(["--model", "vae", "--epochs", "1", "--base-channels", "4", "--depth", "2",
                           "--decoder-logvar", "-2", "--train-worlds", "1,2", "--val-worlds", "3",
                           "--batch-size", "8", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    mp.undo()
    return out


def test_recalibrate_equals_calibrate_vae_on_the_same_world(vae_artifact):
    record = calibrate.recalibrate(vae_artifact, [7], load_world=lambda s: _world(seed=s), day_stride=2,
                                   n_samples=4, progress=False)
    model, objective, norm, _ = nox_train.load_artifact(vae_artifact)
    w = _world(seed=7)
    days = nox_train.training_days(w, stride=2, split="val")
    direct = nox_train.calibrate_vae(model, objective, [w], [days], make_inputs(w, days, norm), norm, n_samples=4)
    assert record["alpha"] == direct["alpha"]
    assert record["worlds"] == [7] and record["n_days"] == len(days)


def test_main_rewrites_calibration_not_weights(vae_artifact, monkeypatch, tmp_path):
    import shutil

    folder = tmp_path / "vae"
    shutil.copytree(vae_artifact, folder)
    weights = (folder / "weights.pt").read_bytes()
    before = json.loads((folder / "normalisation.json").read_text())["extra"]["calibration"]
    monkeypatch.setattr(calibrate, "build_world", _world)
    assert calibrate.main(["--artifact", str(folder), "--worlds", "7,8", "--day-stride", "2", "--n-samples", "4",
                           "--no-progress"]) == 0
    after = json.loads((folder / "normalisation.json").read_text())["extra"]["calibration"]
    assert after["worlds"] == [7, 8] and before["worlds"] == [3]
    assert set(after["alpha"]) == set(before["alpha"])
    assert all(a > 0 for a in after["alpha"].values())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["recalibration"]["replaced"] == before
    assert "--worlds 7,8" in manifest["recalibration"]["command"]
    assert (folder / "weights.pt").read_bytes() == weights
    _, _, norm, _ = nox_train.load_artifact(folder)
    assert norm.extra["calibration"]["alpha"] == after["alpha"]


def test_refuses_training_worlds_and_non_vae(vae_artifact, tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"\[3\] were used to train or validate"):
        calibrate.recalibrate(vae_artifact, [3, 7], load_world=lambda s: _world(seed=s), progress=False)
    monkeypatch.setattr(nox_train, "build_world", _world)
    out = tmp_path / "unet"
    assert nox_train.main(["--model", "smaat_unet", "--epochs", "1", "--base-channels", "4", "--depth", "2",
                           "--train-worlds", "1", "--val-worlds", "3", "--batch-size", "8", "--out", str(out),
                           "--no-progress", "--device", "cpu"]) == 0
    with pytest.raises(DataError, match="only the cVAE"):
        calibrate.recalibrate(out, [7], load_world=lambda s: _world(seed=s), progress=False)


def test_recalibrate_records_each_worlds_coverage_at_the_fitted_inflation(vae_artifact):
    import numpy as np

    record = calibrate.recalibrate(vae_artifact, [7, 8], load_world=lambda s: _world(seed=s), day_stride=2,
                                   n_samples=4, progress=False)
    model, objective, norm, _ = nox_train.load_artifact(vae_artifact)
    assert [w["seed"] for w in record["per_world"]] == [7, 8]
    for k, rec in enumerate(record["per_world"]):
        w = _world(seed=rec["seed"])
        days = nox_train.training_days(w, stride=2, split="val")
        parts = calibrate.critical_inflations(model, objective, w, days, make_inputs(w, days, norm), norm,
                                              n_samples=4, level=0.9, seed=k)
        assert rec["n_days"] == len(days)
        for sc, a in record["alpha"].items():
            assert rec["coverage"][sc] == pytest.approx(float(np.mean(parts[sc] <= a)))
        bias = w.attrs.get("amf_bias", np.nan)
        assert rec["amf_bias"] == pytest.approx(bias, nan_ok=True)


def test_the_same_fit_again_keeps_what_it_once_replaced(vae_artifact, monkeypatch, tmp_path):
    import shutil

    folder = tmp_path / "vae"
    shutil.copytree(vae_artifact, folder)
    monkeypatch.setattr(calibrate, "build_world", _world)
    argv = ["--artifact", str(folder), "--worlds", "7", "--day-stride", "2", "--n-samples", "4", "--no-progress"]
    assert calibrate.main(argv) == 0
    first = json.loads((folder / "manifest.json").read_text())["recalibration"]
    assert calibrate.main(argv) == 0
    again = json.loads((folder / "manifest.json").read_text())["recalibration"]
    assert again["alpha"] == first["alpha"] and again["replaced"] == first["replaced"]
    assert first["replaced"]["worlds"] == [3] and again["per_world"][0]["seed"] == 7
