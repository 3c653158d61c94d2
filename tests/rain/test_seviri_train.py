"""Smoke test of the SEVIRI training command (the same code path as the committed artefacts)."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pysteps")

from eoretrieval import artifacts  # noqa: E402
from eoretrieval.config import repo_root  # noqa: E402
from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.rain.seviri_eval import predict  # noqa: E402
from eoretrieval.rain.seviri_train import METHODS, build_method, load_method, main  # noqa: E402
from eoretrieval.train import TRAINERS  # noqa: E402

FILES = str(repo_root() / "data/radar_rain/knmi_rap_5min_20100826/RAD_NL25_RAP_5min_201008260[01]*.h5")


def _train(tmp_path, method, **extra):
    argv = ["--method", method, "--train-files", FILES, "--val-fraction", "0.5", "--n-samples", "8",
            "--n-val", "4", "--patch", "16", "--epochs", "1", "--max-steps", "1", "--cache", str(tmp_path / "cache"),
            "--out", str(tmp_path / method)]
    for k, v in extra.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    assert main(argv) == 0
    return tmp_path / method


def test_smoke_test_trains_every_method_with_intensity_augmentation(tmp_path):
    from eoretrieval.rain.seviri_train import smoke_test

    cond = np.random.default_rng(1).normal(size=(1, 15, 16, 16)).astype(np.float32)
    ok = smoke_test(FILES, tmp_path / "smoke", cond, methods=("unet", "residual_fm"))
    assert ok == {"unet": True, "residual_fm": True}
    norm = json.loads((tmp_path / "smoke" / "unet" / "normalisation.json").read_text())
    assert norm["intensity_augment"] == [0.5, 2.0]


def test_registered_in_train_command():
    assert TRAINERS["rain_seviri"] == "eoretrieval.rain.seviri_train"


def test_train_load_predict(tmp_path):
    unet = _train(tmp_path, "unet")
    manifest = artifacts.load_manifest(unet)
    assert manifest["study"] == "rain_seviri" and manifest["train_seconds"] > 0
    assert len(manifest["data_checksums"]) == 8 and (unet / "train_log.csv").exists()
    for method in ("flow_matching", "residual_fm", "flow_matching_1frame"):
        _train(tmp_path, method)
    cond = np.random.default_rng(0).normal(size=(2, 15, 16, 16)).astype(np.float32)
    for method in ("unet", "flow_matching", "residual_fm", "flow_matching_1frame"):
        model, objective, norm, _ = load_method(tmp_path / method)
        assert norm["method"] == method and norm["n_frames"] == METHODS[method][1]
        values, sec = predict(model, objective, norm, cond, n_members=3, n_steps=2, seed=0)
        assert values.shape == ((1 if method == "unet" else 3), 2, 16, 16) and sec > 0
        assert (values >= 0).all()
    norm = json.loads((tmp_path / "residual_fm" / "normalisation.json").read_text())
    assert norm["mean_artifact"] == "unet" and norm["residual_scale"] > 0
    assert norm["mean_weights_sha256"] == artifacts.file_checksum(unet / "weights.pt")
    # the pair moved together still loads (the mean network is found by name) ...
    moved = tmp_path / "moved"
    for method in ("unet", "residual_fm"):
        shutil.copytree(tmp_path / method, moved / method)
    load_method(moved / "residual_fm")
    # ... but another mean network beside it is refused, naming the file
    state = torch.load(moved / "unet" / "weights.pt", weights_only=True)
    torch.save({k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()}, moved / "unet" / "weights.pt")
    with pytest.raises(DataError, match=r"unet/weights.pt: not the mean network"):
        load_method(moved / "residual_fm")


def test_residual_mean_network_must_sit_beside_the_artefact(tmp_path):
    _train(tmp_path, "unet")
    with pytest.raises(DataError, match="must sit beside the residual artefact"):
        _train(tmp_path / "elsewhere", "residual_fm", mean_artifact=tmp_path / "unet")


def test_ensembles_are_repeatable_and_differ_between_members(tmp_path):
    folder = _train(tmp_path, "ddpm")
    model, objective, norm, _ = load_method(folder)
    cond = np.zeros((1, 15, 16, 16), dtype=np.float32)
    a, _ = predict(model, objective, norm, cond, n_members=2, n_steps=3, seed=5)
    b, _ = predict(model, objective, norm, cond, n_members=2, n_steps=3, seed=5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 1, 16, 16)


def test_missing_artifact_and_residual_without_mean(tmp_path):
    with pytest.raises(DataError, match="manifest"):
        load_method(tmp_path / "nothing")
    with pytest.raises(ValueError, match="mean_model"):
        build_method("residual_fm", norm={"residual_scale": 1.0})



def test_training_patches_regenerate_what_the_network_saw(tmp_path):
    from eoretrieval.rain.seviri_train import training_patches

    argv = ["--method", "unet", "--train-files", FILES, "--val-fraction", "0.5", "--n-samples", "8", "--n-val", "4",
            "--patch", "16", "--epochs", "1", "--max-steps", "1", "--intensity-augment", "0.5", "2", "--seed", "3",
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "unet")]
    assert main(argv) == 0
    assert artifacts.load_manifest(tmp_path / "unet")["train_argv"] == argv
    seen = np.load(next((tmp_path / "cache").glob("train_*.npz")))       # the patches the training used
    again = training_patches(tmp_path / "unet")
    np.testing.assert_array_equal(again.cond, seen["cond"])
    np.testing.assert_array_equal(again.rain, seen["rain"])
    first = training_patches(tmp_path / "unet", max_samples=3)
    np.testing.assert_array_equal(first.rain, seen["rain"][:3])
    with pytest.raises(DataError, match="not the radar files"):
        training_patches(tmp_path / "unet", train_files=FILES.replace("0[01]*", "0[0]*"))


def test_predict_passes_the_sampler_to_the_ode(tmp_path):
    folder = _train(tmp_path, "flow_matching")
    model, objective, norm, _ = load_method(folder)
    cond = np.random.default_rng(0).normal(size=(2, 15, 16, 16)).astype(np.float32)
    base, _ = predict(model, objective, norm, cond, n_members=2, n_steps=3, seed=1)
    same, _ = predict(model, objective, norm, cond, n_members=2, n_steps=3, seed=1,
                      sampler={"method": "euler", "time_power": 1.0})
    np.testing.assert_array_equal(base, same)  # the default is the uniform Euler grid
    for sampler in ({"method": "heun", "time_power": 1.0}, {"method": "euler", "time_power": 2.0}):
        other, _ = predict(model, objective, norm, cond, n_members=2, n_steps=3, seed=1, sampler=sampler)
        assert not np.array_equal(base, other)


def test_select_frames():
    from eoretrieval.rain.seviri_train import select_frames

    cond = np.arange(2 * 15 * 2 * 2, dtype=np.float32).reshape(2, 15, 2, 2)
    np.testing.assert_array_equal(select_frames(cond, [1]), cond[:, 5:10])
    np.testing.assert_array_equal(select_frames(cond, [2]), cond[:, 10:15])
    np.testing.assert_array_equal(select_frames(cond, [0, 2]), np.concatenate([cond[:, :5], cond[:, 10:]], axis=1))
    assert select_frames(cond, [0, 1, 2]) is cond
    with pytest.raises(ValueError, match="expected indices 0-2"):
        select_frames(cond, [3])
    with pytest.raises(ValueError, match="expected indices 0-2"):
        select_frames(cond[:, :5], [0])


def test_a_one_frame_artefact_sees_only_the_frame_it_names(tmp_path):
    """The lag-matched control reads the frame before the target time, the 1-frame model the target time's."""
    rng = np.random.default_rng(3)
    cond = rng.normal(size=(2, 15, 16, 16)).astype(np.float32)
    for method, seen in (("flow_matching_1frame_prev", 1), ("flow_matching_1frame", 2)):
        model, objective, norm, _ = load_method(_train(tmp_path, method))
        assert norm["input_frames"] == [seen] and norm["n_frames"] == 1
        base, _ = predict(model, objective, norm, cond, n_members=2, n_steps=2, seed=0)
        other = cond.copy()
        for f in {0, 1, 2} - {seen}:
            other[:, 5 * f:5 * (f + 1)] = rng.normal(size=(2, 5, 16, 16))
        same, _ = predict(model, objective, norm, other, n_members=2, n_steps=2, seed=0)
        np.testing.assert_array_equal(same, base)
        other[:, 5 * seen:5 * (seen + 1)] += 3.0
        moved, _ = predict(model, objective, norm, other, n_members=2, n_steps=2, seed=0)
        assert not np.array_equal(moved, base)
