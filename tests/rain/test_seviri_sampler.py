"""Tests of eoretrieval.rain.seviri_sampler: candidates at a fixed NFE, the pre-registered rule, and the lookup of
the recorded choice (with its weights check)."""

import json

import pytest

pytest.importorskip("torch")

from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.nets.flow_matching import ConditionalFlowMatcher  # noqa: E402
from eoretrieval.rain import seviri_sampler as ss  # noqa: E402


@pytest.mark.parametrize("nfe, n", [(5, 6), (20, 4), (1, 4), (3, 6)])
def test_candidates_spend_exactly_the_nfe(nfe, n):
    cands = ss.candidates(nfe)
    assert len(cands) == n
    assert cands[0] == {"method": "euler", "time_power": 1.0, "n_steps": nfe}  # the incumbent first
    assert all(ConditionalFlowMatcher.nfe(c["n_steps"], c["method"]) == nfe for c in cands)
    with pytest.raises(ValueError):
        ss.candidates(0)


def _row(method, p, crps):
    return {"method": method, "time_power": p, "n_steps": 5, "crps": crps}


def test_choose_keeps_the_incumbent_unless_strictly_beaten():
    rows = [_row("euler", 1.0, 0.30), _row("euler", 2.0, 0.30), _row("heun", 1.0, 0.31)]
    assert ss.choose(rows) is rows[0]  # a tie keeps the uniform Euler grid
    rows.append(_row("heun", 2.0, 0.29))
    assert ss.choose(rows)["method"] == "heun" and ss.choose(rows)["time_power"] == 2.0
    with pytest.raises(ValueError, match="incumbent"):
        ss.choose(rows[1:])


def _artefacts(tmp_path, weights=b"weights-a", recorded=None):
    folder = tmp_path / "flow_matching"
    folder.mkdir()
    (folder / "weights.pt").write_bytes(weights)
    from eoretrieval import artifacts
    sha = recorded or artifacts.file_checksum(folder / "weights.pt")
    data = {"rule": ss.RULE, "methods": {"flow_matching": {"weights_sha256": sha, "nfe": {
        "5": {"chosen": {"method": "heun", "time_power": 2.0, "n_steps": 3}, "candidates": []}}}}}
    (tmp_path / ss.SAMPLERS_FILE).write_text(json.dumps(data))
    return tmp_path


def test_sampler_for_reads_the_choice_and_falls_back(tmp_path):
    root = _artefacts(tmp_path)
    n, sampler, source = ss.sampler_for(root, "flow_matching", 5)
    assert (n, sampler) == (3, {"method": "heun", "time_power": 2.0}) and source.endswith(ss.SAMPLERS_FILE)
    # an NFE without a recorded choice, a method without an entry: the uniform Euler grid with nfe steps
    assert ss.sampler_for(root, "flow_matching", 10)[:2] == (10, {"method": "euler", "time_power": 1.0})
    assert ss.sampler_for(root, "residual_fm", 5)[:2] == (5, {"method": "euler", "time_power": 1.0})
    assert ss.sampler_for(root, "ddpm", 50)[:2] == (50, {})  # not an ODE sampler
    assert ss.sampler_for(tmp_path / "nowhere", "flow_matching", 5)[:2] == (5, {"method": "euler", "time_power": 1.0})


def test_sampler_for_refuses_a_choice_made_for_other_weights(tmp_path):
    root = _artefacts(tmp_path, recorded="0" * 16)
    with pytest.raises(DataError, match=r"samplers\.json.*flow_matching.*seviri_sampler"):
        ss.sampler_for(root, "flow_matching", 5)


def test_ddpm_candidates_and_rule():
    cands = ss.candidates(50, "ddpm")
    assert cands[0] == {"method": "ancestral", "eta": 1.0, "n_steps": 50}   # the incumbent first
    assert [(c["method"], c["eta"]) for c in cands[1:]] == [("ddim", 0.0), ("ddim", 0.5)]
    assert all(c["n_steps"] == 50 for c in cands)
    rows = [{**c, "crps": v} for c, v in zip(cands, (0.20, 0.20, 0.21))]
    assert ss.choose(rows, "ddpm") is rows[0]   # a tie keeps the ancestral sampler
    rows[2]["crps"] = 0.19
    assert ss.choose(rows, "ddpm") is rows[2]
    with pytest.raises(ValueError, match="ancestral sampler"):
        ss.choose(rows[1:], "ddpm")
    with pytest.raises(ValueError, match="unknown sampler family"):
        ss.candidates(5, "sde")


def test_sampler_for_reads_a_ddpm_choice_and_merge_keeps_other_methods(tmp_path):
    from eoretrieval import artifacts
    root = _artefacts(tmp_path)
    (root / "ddpm").mkdir()
    (root / "ddpm" / "weights.pt").write_bytes(b"weights-d")
    old = json.loads((root / ss.SAMPLERS_FILE).read_text())
    old["command"] = "python -m eoretrieval.rain.seviri_sampler --nfe 5 20"
    new = {"rule": ss.RULE, "rule_ddpm": ss.RULE_DDPM, "methods": {"ddpm": {
        "weights_sha256": artifacts.file_checksum(root / "ddpm" / "weights.pt"), "command": "... --methods ddpm",
        "nfe": {"50": {"chosen": {"method": "ddim", "eta": 0.0, "n_steps": 50}, "candidates": []}}}}}
    merged = ss.merge(old, new)
    assert set(merged["methods"]) == {"flow_matching", "ddpm"} and "command" not in merged
    assert merged["methods"]["flow_matching"]["command"] == old["command"]   # the entry keeps who made it
    assert "seconds" in merged["methods"]["flow_matching"]
    (root / ss.SAMPLERS_FILE).write_text(json.dumps(merged))
    assert ss.sampler_for(root, "ddpm", 50)[:2] == (50, {"method": "ddim", "eta": 0.0})
    assert ss.sampler_for(root, "ddpm", 25)[:2] == (25, {})   # no choice at this NFE: the ancestral sampler
    assert ss.sampler_for(root, "flow_matching", 5)[:2] == (3, {"method": "heun", "time_power": 2.0})


def test_choice_table_reports_the_choice_its_incumbent_and_the_worst(tmp_path):
    """The table notebook 03 shows: the recorded choice's validation CRPS beside the incumbent's and the worst
    candidate's, for flow matching and the DDPM; NaN where nothing was recorded; methods without a sampler skipped."""
    import math
    from eoretrieval import artifacts
    root = _artefacts(tmp_path)
    (root / "ddpm").mkdir()
    (root / "ddpm" / "weights.pt").write_bytes(b"weights-d")
    data = json.loads((root / ss.SAMPLERS_FILE).read_text())
    data["methods"]["flow_matching"]["nfe"]["5"]["candidates"] = [
        {"method": "euler", "time_power": 1.0, "n_steps": 5, "crps": 0.30, "psd_slope_err": 0.5},
        {"method": "heun", "time_power": 2.0, "n_steps": 3, "crps": 0.28, "psd_slope_err": 0.4},
        {"method": "euler", "time_power": 3.0, "n_steps": 5, "crps": 0.35, "psd_slope_err": 0.6}]
    data["methods"]["ddpm"] = {"weights_sha256": artifacts.file_checksum(root / "ddpm" / "weights.pt"), "nfe": {"50": {
        "chosen": {"method": "ancestral", "eta": 1.0, "n_steps": 50},
        "candidates": [{"method": "ancestral", "eta": 1.0, "n_steps": 50, "crps": 0.35, "psd_slope_err": 0.1},
                       {"method": "ddim", "eta": 0.0, "n_steps": 50, "crps": 0.82, "psd_slope_err": 1.3}]}}}
    (root / ss.SAMPLERS_FILE).write_text(json.dumps(data))
    t = ss.choice_table(root, {"unet": 1, "flow_matching": 5, "ddpm": 50, "residual_fm": 5})
    assert list(t) == ["flow_matching", "ddpm", "residual_fm"]
    fm = t["flow_matching"]
    assert fm["sampler"] == "heun, grid power 2, 3 steps"
    assert (fm["val CRPS"], fm["val CRPS, incumbent"], fm["val CRPS, worst candidate"]) == (0.28, 0.30, 0.35)
    assert fm["val spectral-slope error"] == 0.4 and fm["val spectral-slope error, incumbent"] == 0.5
    d = t["ddpm"]
    assert d["sampler"] == "ancestral, 50 steps" and d["val CRPS"] == d["val CRPS, incumbent"] == 0.35
    assert d["val CRPS, worst candidate"] == 0.82
    r = t["residual_fm"]   # no entry: the uniform Euler grid, no validation scores
    assert r["sampler"] == "euler, grid power 1, 5 steps" and math.isnan(r["val CRPS"])
