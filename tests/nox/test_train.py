import json

import pytest
import torch

from eoretrieval import artifacts
from eoretrieval.errors import DataError
from eoretrieval.nox import train as nox_train
from eoretrieval.nox.features import make_inputs, split_days


@pytest.fixture
def patched(monkeypatch, nox_world):
    monkeypatch.setattr(nox_train, "build_world", lambda *, profile, seed: nox_world)
    return nox_world


@pytest.mark.parametrize("model", ["smaat_unet", "vae"])
def test_main_end_to_end(patched, tmp_path, model):
    out = tmp_path / model
    rc = nox_train.main(["--model", model, "--epochs", "2", "--base-channels", "4", "--depth", "2",
                         "--train-worlds", "1,2", "--val-worlds", "3",
                         "--batch-size", "8", "--out", str(out), "--no-progress", "--device", "cpu"])
    assert rc == 0
    for name in ("weights.pt", "normalisation.json", "manifest.json", "train_log.csv"):
        assert (out / name).exists()
    manifest = artifacts.load_manifest(out)
    assert set(manifest["metrics"]) >= {"rmse", "bias", "corr", "total_rel_err", "units"}
    assert manifest["metrics"]["units"] == "mol m-2 s-1"
    loaded, objective, norm, _ = nox_train.load_artifact(out)
    cond = make_inputs(patched, split_days(patched, "test"), norm)
    assert objective.sample(loaded, cond, n_samples=2).shape[1:] == (len(cond), 1, 16, 16)
    assert json.loads((out / "normalisation.json").read_text())["channels"] == norm.channels


def test_load_missing(tmp_path):
    with pytest.raises(DataError, match="manifest"):
        nox_train.load_artifact(tmp_path)
