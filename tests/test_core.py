"""Tests of config, provenance and the artefact convention."""

import json

import pytest

from eoretrieval import artifacts, config, provenance
from eoretrieval.errors import DataError


def test_profiles_lookup():
    table = {"ci": 1, "paper": 2}
    assert config.get_profile("CI", table) == 1
    with pytest.raises(ValueError, match=r"valid profiles: \['ci', 'paper'\]"):
        config.get_profile("huge", table)


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("EORETRIEVAL_DATA", raising=False)
    assert config.data_dir() == config.repo_root() / "data"
    monkeypatch.setenv("EORETRIEVAL_DATA", str(tmp_path))
    assert config.data_dir() == tmp_path
    assert config.data_dir("/x") == config.Path("/x")


def test_write_metrics_is_valid_json(tmp_path):
    import numpy as np

    path = provenance.write_metrics({"a": np.float32(1.5), "b": float("nan"), "c": np.arange(2)}, tmp_path,
                                    notebook="x.ipynb", parameters={"seed": 0})
    record = json.loads(path.read_text())
    assert record["a"] == 1.5 and record["b"] is None and record["c"] == [0, 1]
    assert record["provenance"]["notebook"] == "x.ipynb"
    assert not list(tmp_path.glob(".*tmp"))


def test_sha256(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("abc")
    assert provenance.sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_staging_is_atomic(tmp_path):
    final = tmp_path / "model"
    with artifacts.staging(final) as tmp:
        (tmp / "weights.pt").write_text("v1")
    assert (final / "weights.pt").read_text() == "v1"
    with pytest.raises(RuntimeError):
        with artifacts.staging(final) as tmp:
            (tmp / "weights.pt").write_text("half")
            raise RuntimeError("interrupted")
    assert (final / "weights.pt").read_text() == "v1", "an interrupted run leaves the old artefact intact"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_manifest_round_trip_and_errors(tmp_path):
    artifacts.write_manifest(tmp_path, study="nox", model={"name": "m"}, data_checksums={"a": "0"},
                             metrics={"rmse": 1.0}, train_seconds=2.0)
    assert artifacts.load_manifest(tmp_path)["metrics"] == {"rmse": 1.0}
    with pytest.raises(DataError, match="no artefact manifest"):
        artifacts.load_manifest(tmp_path / "missing")
    (tmp_path / "manifest.json").write_text('{"study": "nox"}')
    with pytest.raises(DataError, match="lacks required keys"):
        artifacts.load_manifest(tmp_path)


def _artefact(folder, value, *, method="unet", weights="w"):
    folder.mkdir(parents=True)
    (folder / "weights.pt").write_text(weights)
    artifacts.write_manifest(folder, study="rain_seviri", model={"name": "unet", "method": method},
                             data_checksums={}, metrics={"best_val_loss": value, "epochs_run": 3})


def test_adopt_replaces_only_a_better_candidate(tmp_path):
    committed, worse, better = tmp_path / "art" / "m", tmp_path / "c1", tmp_path / "c2"
    _artefact(committed, 0.5, weights="old")
    _artefact(worse, 0.6, weights="worse")
    _artefact(better, 0.4, weights="better")
    out = artifacts.adopt(worse, committed)
    assert out["adopted"] is False and (committed / "weights.pt").read_text() == "old"
    assert "adoption" not in artifacts.load_manifest(committed)
    # the same numbers under the opposite rule
    assert artifacts.adopt(worse, committed, lower_is_better=False)["adopted"] is True
    assert (committed / "weights.pt").read_text() == "worse"
    assert artifacts.main(["adopt", str(better), str(committed)]) == 0
    assert (committed / "weights.pt").read_text() == "better"
    rec = json.loads((committed / "manifest.json").read_text())["adoption"]
    assert rec["candidate_value"] == 0.4 and rec["replaced_value"] == 0.6 and rec["candidate_path"] == str(better)
    assert "lower" in rec["rule"]
    assert sorted(p.name for p in committed.parent.iterdir()) == ["m"], "no staging folder left behind"


def test_adopt_refuses_what_it_cannot_compare(tmp_path):
    committed = tmp_path / "m"
    _artefact(committed, 0.5)
    _artefact(tmp_path / "ddpm", 0.1, method="ddpm")
    with pytest.raises(DataError, match="method 'ddpm' cannot replace"):
        artifacts.adopt(tmp_path / "ddpm", committed)
    _artefact(tmp_path / "cand", 0.1)
    with pytest.raises(DataError, match="metrics.crps is None"):
        artifacts.adopt(tmp_path / "cand", committed, metric="crps")
    with pytest.raises(DataError, match="same folder"):
        artifacts.adopt(committed, committed)
    assert artifacts.main(["adopt", str(tmp_path / "none"), str(committed)]) == 2
    assert (committed / "weights.pt").read_text() == "w"


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, eoretrieval, eoretrieval.io, eoretrieval.verify; print('torch' in sys.modules, 'cartopy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
