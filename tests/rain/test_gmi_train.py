"""Smoke test of the GMI training command and of inference (tiny profile, a few optimiser steps)."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pysteps")
KNMI = Path(__file__).parents[2] / "data" / "radar_rain" / "knmi_rap_5min_20100826"
pytestmark = pytest.mark.skipif(not any(KNMI.glob("*.h5")), reason="KNMI radar files not in data/radar_rain")


@pytest.fixture(autouse=True)
def _one_thread_and_tmp_cache(tmp_path, monkeypatch):
    import torch
    torch.set_num_threads(1)
    monkeypatch.setenv("EORETRIEVAL_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("method", ["quantile", "flow_matching"])
def test_training_command_writes_an_artefact_and_predicts(tmp_path, method):
    from eoretrieval import artifacts
    from eoretrieval.rain import gmi_train
    from eoretrieval.train import main

    out = tmp_path / method
    rc = main(["gmi", "--method", method, "--profile", "smoke", "--rain-files", str(KNMI / "*.h5"), "--max-steps", "2",
               "--out", str(out), "--no-progress"])
    assert rc == 0
    manifest = artifacts.load_manifest(out)
    assert manifest["study"] == "rain_gmi" and manifest["model"]["name"] == method
    assert (out / "weights.pt").stat().st_size < 2_000_000 and (out / "train_log.csv").exists()
    model, norm, _ = gmi_train.load_model(out)
    data = gmi_train.prepare_data(str(KNMI / "*.h5"), profile="smoke", regimes=("present",))
    test = gmi_train.split(data["present"], "test")
    pred = gmi_train.predict(model, norm, test, method=method, n_members=2, n_steps=2)
    assert pred["surface_precip"].shape == test["surface_precip"].shape
    assert pred["surface_precip"].attrs["units"] == "mm h-1" and (pred["surface_precip"].values >= 0).all()
    assert ("quantiles" in pred) == (method == "quantile") and ("members" in pred) == (method == "flow_matching")


def test_prepare_data_is_paired_and_cached():
    from eoretrieval.rain import gmi_train
    a = gmi_train.prepare_data(str(KNMI / "*.h5"), profile="smoke", regimes=("present", "plus4K"))
    b = gmi_train.prepare_data(str(KNMI / "*.h5"), profile="smoke", regimes=("present", "plus4K"))
    np.testing.assert_array_equal(a["present"]["tb"].values, b["present"]["tb"].values)
    # regimes share scenes: the same dry pixels, heavier rain where it rains
    p, w = a["present"]["surface_precip"].values, a["plus4K"]["surface_precip"].values
    assert ((p == 0) == (w == 0)).all() and (w >= p - 1e-6).all()
    assert set(np.unique(a["present"]["split"].values)) == {"train", "val", "test"}
