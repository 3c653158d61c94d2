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
