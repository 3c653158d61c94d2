"""The benchmark script runs and writes what the README says (speed is measured there, never asserted here)."""

import importlib.util
import json

from eoretrieval.config import repo_root


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_run", repo_root() / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_seviri_sampling_benchmark_writes_every_method_and_profile(tmp_path):
    bench = _bench_module()
    assert bench.main(["--quick", "--only", "seviri_sampling", "--results-dir", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "seviri_sampling.json").read_text())
    assert record["benchmark"] == "seviri_sampling" and record["machine"]["cpu_count"] >= 1
    assert record["command"] == "python benchmarks/run.py --quick --only seviri_sampling --results-dir " + str(tmp_path)
    res = record["results"]
    from eoretrieval.rain.seviri_eval import METHOD_ORDER, SEVIRI_PROFILES

    for prof in ("ci", "paper"):
        rows = res["profiles"][prof]
        assert set(METHOD_ORDER) <= set(rows)
        assert rows["ddpm"]["nfe"] == SEVIRI_PROFILES[prof].nfe["ddpm"] and rows["unet"]["nfe"] == 1
        assert all(rows[m]["s_per_field_1_threads"] > 0 for m in METHOD_ORDER)
        assert rows["ddpm_over_flow_matching_time"] == rows["ddpm"]["s_per_field_1_threads"] / rows["flow_matching"][
            "s_per_field_1_threads"]
    assert isinstance(res["target_met"], bool) and "1/10" in res["target"]
