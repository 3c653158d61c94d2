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


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, eoretrieval, eoretrieval.io, eoretrieval.verify; print('torch' in sys.modules, 'cartopy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
