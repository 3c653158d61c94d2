"""Recalibrate a trained cVAE's spread on more worlds: ``python -m eoretrieval.train nox_calibrate [options]``.

Training fits the per-scale inflation (:func:`~eoretrieval.nox.train.calibrate_vae`) on the validation worlds
that also stop the training; two worlds hold only two draws of each world-level error (the per-world AMF bias,
the sector factors), too few to calibrate the domain totals, whose errors are dominated by them. This command
refits the inflation on the *calibration* worlds (:data:`~eoretrieval.nox.profiles.WORLD_SEEDS` ``"calibration"``:
disjoint from the training, validation and test worlds), one world in memory at a time, and rewrites the
artefact's ``normalisation.json`` (``extra.calibration``) and manifest (``recalibration``) atomically. The
network's weights are not touched.

Example::

    python -m eoretrieval.train nox_calibrate --artifact artifacts/nox/vae --profile ci --threads 1

Public names: :func:`main`, :func:`build_parser`, :func:`recalibrate`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import DataError
from .features import make_inputs
from .train import build_world, critical_inflations, load_artifact, training_days

__all__ = ["main", "build_parser", "recalibrate"]


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m eoretrieval.train nox_calibrate``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.train nox_calibrate",
                                description="Refit a cVAE artefact's per-scale spread inflation on calibration worlds.")
    p.add_argument("--artifact", default="artifacts/nox/vae", help="the cVAE artefact folder (rewritten in place)")
    p.add_argument("--profile", default="ci", help="world profile (that of the artefact's worlds)")
    p.add_argument("--worlds", default=None,
                   help="comma-separated world seeds (default: WORLD_SEEDS['calibration'])")
    p.add_argument("--day-stride", type=int, default=5, help="every n-th day of each world")
    p.add_argument("--n-samples", type=int, default=16, help="ensemble members")
    p.add_argument("--level", type=float, default=0.9, help="central interval to calibrate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-progress", action="store_true")
    return p


def recalibrate(folder: str | os.PathLike, seeds, *, load_world, day_stride: int = 5, n_samples: int = 16,
                level: float = 0.9, seed: int = 0, progress: bool = True) -> dict:
    """Fit the per-scale inflation of the cVAE in ``folder`` on the worlds ``load_world(s)`` for ``s in seeds``.

    Returns the calibration record (``level``, ``alpha`` per scale, ``n_samples``, ``worlds``, ``n_days``, and
    ``per_world``: each world's seed, AMF bias, days and coverage per scale at the fitted inflation, which shows how
    far one world's coverage strays from the level the worlds share); the artefact is not modified (see :func:`main`).

    Raises
    ------
    DataError
        If the artefact is not a cVAE, or a calibration world is one the network was trained or validated on.
    """
    from .osse import SCALES

    model, objective, norm, manifest = load_artifact(folder)
    if manifest["model"]["name"] != "vae":
        raise DataError(f"{folder}: a {manifest['model']['name']} artefact; only the cVAE has a spread to calibrate")
    used = set(manifest["data_checksums"].get("train_world_seeds", [])) | set(
        manifest["data_checksums"].get("val_world_seeds", []))
    clash = sorted(set(int(s) for s in seeds) & used)
    if clash:
        raise DataError(f"{folder}: calibration worlds {clash} were used to train or validate this network")
    crit = {s: [] for s in SCALES}
    n_days = 0
    worlds = []
    for k, s in enumerate(tqdm(list(seeds), desc="calibration worlds", disable=not progress)):
        w = load_world(int(s))
        days = training_days(w, stride=day_stride, split="val")
        parts = critical_inflations(model, objective, w, days, make_inputs(w, days, norm), norm,
                                    n_samples=n_samples, level=level, seed=seed + k)
        for sc in SCALES:
            crit[sc].append(parts[sc])
        n_days += len(days)
        worlds.append({"seed": int(s), "amf_bias": float(w.attrs.get("amf_bias", np.nan)), "n_days": len(days)})
        del w
    alpha = {sc: float(np.quantile(np.concatenate(crit[sc]), level)) for sc in SCALES}
    for k, rec in enumerate(worlds):
        # a point is covered when its critical inflation does not exceed the fitted one
        rec["coverage"] = {sc: float(np.mean(np.asarray(crit[sc][k]) <= alpha[sc])) for sc in SCALES}
    return {"level": level, "alpha": alpha, "n_samples": n_samples, "worlds": [int(s) for s in seeds],
            "n_days": int(n_days), "day_stride": int(day_stride), "per_world": worlds}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Refit the inflation and rewrite the artefact's normalisation and manifest; return 0."""
    from .profiles import WORLD_SEEDS

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = list(WORLD_SEEDS["calibration"]) if not args.worlds else [int(x) for x in args.worlds.split(",")]
    folder = Path(args.artifact)
    t0 = time.perf_counter()
    before = json.loads((folder / "normalisation.json").read_text())
    record = recalibrate(folder, seeds, load_world=lambda s: build_world(profile=args.profile, seed=s),
                         day_stride=args.day_stride, n_samples=args.n_samples, level=args.level, seed=args.seed,
                         progress=not args.no_progress)
    seconds = time.perf_counter() - t0
    previous = before.setdefault("extra", {}).get("calibration")
    before["extra"]["calibration"] = record
    manifest = json.loads((folder / "manifest.json").read_text())
    if previous and previous.get("worlds") == record["worlds"] and previous.get("alpha") == record["alpha"]:
        # the same fit again (e.g. to add diagnostics): keep the record of the calibration it once replaced
        previous = manifest.get("recalibration", {}).get("replaced", previous)
    manifest["recalibration"] = {
        "command": "python -m eoretrieval.train nox_calibrate " + " ".join(sys.argv[2:] if argv is None else argv),
        "seconds": round(seconds, 1), "worlds": record["worlds"], "alpha": record["alpha"],
        "per_world": record["per_world"], "replaced": previous}
    _write_atomic(folder / "normalisation.json", json.dumps(before, indent=2) + "\n")
    _write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"artifact": str(folder), "alpha": record["alpha"], "worlds": record["worlds"],
                      "seconds": round(seconds, 1)}))
    return 0
