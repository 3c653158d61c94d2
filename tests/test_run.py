"""Tests of the notebook runner: discovery, parameter parsing, cache, failure reporting."""

import json
import os

import nbformat
import pytest

from eoretrieval import run
from eoretrieval.config import repo_relative


def _write_nb(path, body):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile = "ci"\nseed = 0\noutput_dir = "x"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_discover_all_and_by_prefix():
    names = [p.stem for p in run.discover()]
    assert "00_data_tour" in names
    assert [p.stem for p in run.discover(["00"])] == ["00_data_tour"]
    with pytest.raises(ValueError, match="available"):
        run.discover(["99_nothing"])


def test_parse_value():
    assert run._parse_value("3") == 3
    assert run._parse_value("[a, b]") == ["a", "b"]
    assert run._parse_value("ci") == "ci"


def test_execute_then_cache_then_force(tmp_path):
    nb = tmp_path / "demo.ipynb"
    _write_nb(nb, "import json, pathlib\npathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
                  "pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'seed': seed}))")
    out_nb, out_dir = tmp_path / "exec" / "demo.ipynb", tmp_path / "runs" / "demo"
    status, _ = run.execute(nb, parameters={"seed": 5}, out_notebook=out_nb, output_dir=out_dir)
    assert status == "ran" and json.loads((out_dir / "metrics.json").read_text()) == {"seed": 5}
    assert run.execute(nb, parameters={"seed": 5}, out_notebook=out_nb, output_dir=out_dir)[0] == "cached"
    assert run.execute(nb, parameters={"seed": 6}, out_notebook=out_nb, output_dir=out_dir)[0] == "ran"
    assert run.execute(nb, parameters={"seed": 6}, out_notebook=out_nb, output_dir=out_dir, force=True)[0] == "ran"


def test_failure_names_cell_and_keeps_partial_output(tmp_path):
    nb = tmp_path / "bad.ipynb"
    _write_nb(nb, "raise ValueError('wrong units in scene.nc')")
    out_nb, out_dir = tmp_path / "exec" / "bad.ipynb", tmp_path / "runs" / "bad"
    with pytest.raises(RuntimeError, match=r"bad\.ipynb: cell \d+ failed: ValueError: wrong units in scene\.nc"):
        run.execute(nb, parameters={}, out_notebook=out_nb, output_dir=out_dir)
    assert (out_dir / "failed.ipynb").exists()
    assert not out_nb.exists(), "no executed copy is left for the book after a failure"


def test_paths_inside_the_repository_are_passed_relative(tmp_path):
    """papermill's cwd is the repository root: output_dir (and papermill's metadata) are repository-relative,
    so the rendered parameter cell shows ``runs/<name>``, never the build machine's absolute path."""
    import shutil

    from eoretrieval.config import repo_root

    root = repo_root()
    assert repo_relative(root / "runs" / "01_nox_osse") == "runs/01_nox_osse"
    assert repo_relative(tmp_path / "x") == str((tmp_path / "x").resolve())

    scratch = root / ".cache" / f"test-run-{os.getpid()}"
    try:
        scratch.mkdir(parents=True)
        nb = scratch / "rel.ipynb"
        _write_nb(nb, "import json, os, pathlib\npathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
                      "pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'output_dir': output_dir, "
                      "'cwd': os.getcwd()}))")
        out_nb, out_dir = scratch / "exec" / "rel.ipynb", scratch / "runs" / "rel"
        run.execute(nb, parameters={}, out_notebook=out_nb, output_dir=out_dir)
        written = json.loads((out_dir / "metrics.json").read_text())
        assert written["output_dir"] == f".cache/test-run-{os.getpid()}/runs/rel"
        assert written["cwd"] == str(root)
        executed = nbformat.read(out_nb, as_version=4)
        text = nbformat.writes(executed)
        assert str(root) not in text, "absolute path left in the executed notebook"
        assert executed.metadata["papermill"]["output_path"] == f".cache/test-run-{os.getpid()}/exec/rel.ipynb"
        assert executed.metadata["papermill"]["input_path"] == f".cache/test-run-{os.getpid()}/rel.ipynb"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_successful_run_removes_an_earlier_failure(tmp_path):
    """After a fix, the next successful run leaves no stale ``failed.ipynb`` beside the new metrics."""
    nb = tmp_path / "flaky.ipynb"
    out_nb, out_dir = tmp_path / "exec" / "flaky.ipynb", tmp_path / "runs" / "flaky"
    _write_nb(nb, "raise ValueError('first try')")
    with pytest.raises(RuntimeError):
        run.execute(nb, parameters={}, out_notebook=out_nb, output_dir=out_dir)
    assert (out_dir / "failed.ipynb").exists()
    _write_nb(nb, "import json, pathlib\npathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
                  "pathlib.Path(output_dir, 'metrics.json').write_text('{}')")
    assert run.execute(nb, parameters={}, out_notebook=out_nb, output_dir=out_dir)[0] == "ran"
    assert not (out_dir / "failed.ipynb").exists()
