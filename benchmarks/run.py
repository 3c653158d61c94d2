"""Speed benchmarks of the compendium (not timed tests): ``python benchmarks/run.py [--quick]``.

Measures, on this machine, the cost per daily emission map of Study 1's methods (SmaAt-UNet and cVAE
inference from the committed artefacts, flux divergence, the variational inversion), the generation time of
the "ci" synthetic world, and the cross-validated VPRM fit of Study 5. Results are written as JSON to
``benchmarks/results/<name>.json`` with the machine description; targets are stated beside each number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _machine() -> dict:
    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "load_average_1_5_15min": list(os.getloadavg())}


def bench_nox(quick: bool) -> dict:
    """Seconds per daily map for every NOx method on days of the first "ci" test world (target: net >= 100x cheaper).

    The variational inversion runs as in the study: cycling its own analyses over the evaluation profile's spin-up
    days, with the prior error of the training worlds (``training_worlds.json`` of the SmaAt-UNet artefact).
    """
    import json

    import pandas as pd

    from eoretrieval.config import artifacts_dir, get_profile
    from eoretrieval.nox import get_baseline, make_nox_world, split_days
    from eoretrieval.nox.evaluate import predict_emissions, seconds_per_day
    from eoretrieval.nox.profiles import NOX_EVAL_PROFILES, WORLD_SEEDS
    from eoretrieval.nox.train import load_artifact

    cfg = get_profile("ci", NOX_EVAL_PROFILES)
    t0 = time.perf_counter()
    world = make_nox_world(profile="ci", seed=WORLD_SEEDS["test"][0])
    world_s = time.perf_counter() - t0
    test = split_days(world, "test")
    days = pd.DatetimeIndex(test[10:: (30 if quick else 10)])   # from day 10: room for the spin-up
    out = {"world_seed": int(WORLD_SEEDS["test"][0]), "world_open_or_generate_s": world_s, "n_days": len(days)}
    for name in ("smaat_unet", "vae"):
        model, objective, norm, _ = load_artifact(artifacts_dir() / "nox" / name)
        n_samples = 1 if name == "smaat_unet" else cfg.n_members
        out[f"{name}_s_per_day"] = seconds_per_day(
            lambda: predict_emissions(model, objective, world, days, norm, n_samples=n_samples), n_days=len(days),
            repeat=3)
    out["flux_divergence_s_per_day"] = seconds_per_day(lambda: get_baseline("flux_divergence")(world, days),
                                                       n_days=len(days), repeat=3)
    info = json.loads((artifacts_dir() / "nox" / "smaat_unet" / "training_worlds.json").read_text())
    var_days = days[:2] if quick else days[:4]
    out["variational_s_per_day"] = seconds_per_day(
        lambda: get_baseline("variational")(world, var_days, progress=False, spinup_days=cfg.spinup_days,
                                            prior_rel_error=info["prior_rel_error"]),
        n_days=len(var_days), repeat=1)
    out["variational_spinup_days"] = cfg.spinup_days
    out["speedup_variational_over_smaat_unet"] = out["variational_s_per_day"] / out["smaat_unet_s_per_day"]
    out["target"] = "smaat_unet at least 100x cheaper per day than the variational inversion"
    out["target_met"] = bool(out["speedup_variational_over_smaat_unet"] >= 100)
    return out


def bench_world_generation() -> dict:
    """Wall time of generating the "ci" NOx world from scratch (no cache)."""
    from eoretrieval.nox import make_nox_world

    t0 = time.perf_counter()
    make_nox_world(profile="ci", seed=12345, cache=False, progress=False)
    return {"ci_world_generation_s": time.perf_counter() - t0, "target": "under 60 s on a 2-core CPU"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer days (smoke run)")
    args = ap.parse_args(argv)
    results = {}
    for name, fn in (("nox_inference", lambda: bench_nox(args.quick)), ("nox_world", bench_world_generation)):
        print(f"[bench] {name} ...", flush=True)
        record = {"benchmark": name, "machine": _machine(), "command": " ".join(["python"] + sys.argv),
                  "results": fn()}
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
        results[name] = record["results"]
        print(json.dumps(record["results"], indent=2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
