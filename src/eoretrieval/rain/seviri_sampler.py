"""The ODE sampler of each flow-matching method, chosen on validation patches: ``python -m eoretrieval.rain.seviri_sampler``.

At a fixed number of network evaluations (NFE; 5 in the "ci" profile, a tenth of the DDPM's, and 20 in "paper"),
the flow-matching sampler still has two free choices: the integrator (Euler, or Heun with ``(NFE + 1) / 2``
steps) and the time grid (:func:`~eoretrieval.nets.flow_matching.time_grid`, power ``p``; ``p > 1`` shortens the
steps near the data end). The rule, fixed before any candidate was scored: for each flow-matching method, keep
the candidate with the lowest ensemble CRPS on that artefact's own **validation patches** (the KNMI validation
period its training command scored, :func:`~eoretrieval.rain.seviri_train.validation_patches`; never the test
tiles of the notebook), and the uniform Euler grid (the incumbent) unless a candidate has a lower CRPS. CRPS is the
proper score of the study's ensembles; the other scores are recorded beside it, not used.

The choices, every candidate's scores, the rule and the weights checksum of each artefact go to
``artifacts/rain_seviri/samplers.json``; :func:`sampler_for` reads them for
:func:`~eoretrieval.rain.seviri_eval.evaluate_methods` and refuses a file that describes other weights. The
DDPM's ancestral sampler is not tuned (a caveat of the chapter).

Public names: :func:`candidates`, :func:`choose`, :func:`select`, :func:`sampler_for`, :func:`main`,
:data:`FM_METHODS`, :data:`SAMPLERS_FILE`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tqdm import tqdm

from .. import artifacts
from ..config import repo_relative
from ..errors import DataError
from ..provenance import atomic_write_text

__all__ = ["candidates", "choose", "select", "sampler_for", "main", "FM_METHODS", "SAMPLERS_FILE", "RULE"]

#: the methods whose sampler is an ODE (flow matching)
FM_METHODS = ("flow_matching", "residual_fm", "flow_matching_1frame")
#: file name, beside the artefacts
SAMPLERS_FILE = "samplers.json"
#: time-grid powers tried with Euler and (``HEUN_POWERS``) with Heun
EULER_POWERS = (1.0, 1.5, 2.0, 3.0)
HEUN_POWERS = (1.0, 2.0)
RULE = ("per method, the lowest ensemble CRPS on the artefact's validation patches at the given NFE; the uniform "
        "Euler grid unless a candidate is lower")
INCUMBENT = {"method": "euler", "time_power": 1.0}


def candidates(nfe: int) -> list[dict]:
    """Samplers with exactly ``nfe`` network evaluations: ``{"method", "time_power", "n_steps"}``, incumbent first.

    Heun spends ``2 n - 1`` evaluations on ``n`` steps, so it is a candidate only for odd ``nfe``.
    """
    nfe = int(nfe)
    if nfe < 1:
        raise ValueError(f"nfe must be >= 1, got {nfe}")
    out = [{"method": "euler", "time_power": p, "n_steps": nfe} for p in EULER_POWERS]
    if nfe % 2 == 1 and nfe > 1:
        out += [{"method": "heun", "time_power": p, "n_steps": (nfe + 1) // 2} for p in HEUN_POWERS]
    return out


def choose(rows: list[dict]) -> dict:
    """Apply :data:`RULE` to scored candidates (``{"method", "time_power", "n_steps", "crps", ...}``).

    Returns the incumbent's row unless another row has a strictly lower ``crps``.
    """
    incumbent = [r for r in rows if r["method"] == INCUMBENT["method"] and r["time_power"] == INCUMBENT["time_power"]]
    if not incumbent:
        raise ValueError("the candidates must include the incumbent (uniform Euler grid)")
    best = incumbent[0]
    for r in rows:
        if r["crps"] < best["crps"]:
            best = r
    return best


def _score_candidate(model, objective, norm, cond, truth, cand, *, n_members, seed, spacing_km):
    from .seviri_eval import as_fields, predict, score
    values, sec = predict(model, objective, norm, cond, n_members=n_members, n_steps=cand["n_steps"], seed=seed,
                          sampler={"method": cand["method"], "time_power": cand["time_power"]})
    sc = score(as_fields(values, spacing_km=spacing_km), truth, spacing_km=spacing_km, seed=seed)
    return {**cand, **{k: float(sc[k]) for k in ("crps", "csi_1", "q99_ratio", "q999_ratio", "psd_slope_err",
                                                 "spread_skill")}, "sample_s": sec}


def select(artifacts_root: str | os.PathLike, *, nfes=(5, 20), methods=FM_METHODS, n_members: int = 8,
           seed: int = 0, cache: str | None = None, progress: bool | None = None) -> dict:
    """Score every candidate of :func:`candidates` on each method's validation patches and :func:`choose`.

    Returns the content of :data:`SAMPLERS_FILE`: ``{"rule", "n_members", "seed", "methods": {method:
    {"weights_sha256", "n_val_patches", "val_period", "nfe": {str(nfe): {"chosen", "candidates"}}}}}``.
    """
    from .seviri_eval import as_fields
    from .seviri_train import load_method, validation_patches
    root = Path(artifacts_root)
    out = {"rule": RULE, "n_members": int(n_members), "seed": int(seed), "methods": {}}
    for method in methods:
        folder = root / method
        model, objective, norm, manifest = load_method(folder)
        cond, rain = validation_patches(folder, cache=cache)
        spacing_km = float(norm["spacing_m"]) / 1000.0
        truth = as_fields(rain, spacing_km=spacing_km, name="truth")
        entry = {"weights_sha256": artifacts.file_checksum(folder / "weights.pt"), "n_val_patches": int(len(rain)),
                 "val_period": manifest.get("val_period"), "nfe": {}}
        for nfe in nfes:
            rows = [_score_candidate(model, objective, norm, cond, truth, c, n_members=n_members, seed=seed,
                                     spacing_km=spacing_km)
                    for c in tqdm(candidates(nfe), desc=f"{method} NFE {nfe}", disable=progress is False)]
            best = choose(rows)
            entry["nfe"][str(int(nfe))] = {"chosen": {k: best[k] for k in ("method", "time_power", "n_steps")},
                                           "candidates": rows}
        out["methods"][method] = entry
    return out


def sampler_for(artifacts_root: str | os.PathLike, method: str, nfe: int) -> tuple[int, dict, str]:
    """``(n_steps, sampler, source)`` of ``method`` at ``nfe`` evaluations.

    From :data:`SAMPLERS_FILE` beside the artefacts when it holds a choice for this method and NFE; otherwise the
    uniform Euler grid with ``nfe`` steps (``source`` says which). Non-ODE methods get ``(nfe, {}, "default")``.

    Raises
    ------
    DataError
        If the file's weights checksum for ``method`` is not that of the artefact's ``weights.pt`` (the choice was
        made for other weights), naming both files and the command that redoes the choice.
    """
    default = (int(nfe), dict(INCUMBENT), "uniform Euler grid (no choice recorded)")
    if method not in FM_METHODS:
        return int(nfe), {}, "default"
    path = Path(artifacts_root) / SAMPLERS_FILE
    if not path.exists():
        return default
    data = json.loads(path.read_text())
    entry = data.get("methods", {}).get(method)
    if entry is None:
        return default
    weights = Path(artifacts_root) / method / "weights.pt"
    got = artifacts.file_checksum(weights)
    if got != entry.get("weights_sha256"):
        raise DataError(f"{path}: its sampler choice for {method!r} was made for weights {entry.get('weights_sha256')},"
                        f" but {weights} has {got}; redo the choice with: python -m eoretrieval.rain.seviri_sampler "
                        f"--artifacts {artifacts_root}")
    chosen = entry.get("nfe", {}).get(str(int(nfe)))
    if chosen is None:
        return default
    c = chosen["chosen"]
    return int(c["n_steps"]), {"method": c["method"], "time_power": float(c["time_power"])}, repo_relative(path)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m eoretrieval.rain.seviri_sampler``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.rain.seviri_sampler", description=__doc__.split("\n")[0])
    p.add_argument("--artifacts", default="artifacts/rain_seviri", help="folder of the study's artefacts")
    p.add_argument("--nfe", type=int, nargs="+", default=[5, 20], help="NFEs to choose for (ci 5, paper 20)")
    p.add_argument("--methods", nargs="+", default=list(FM_METHODS), choices=FM_METHODS)
    p.add_argument("--members", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None, help="patch cache folder (default: the training command's)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Choose the samplers and write :data:`SAMPLERS_FILE` atomically; return 0 (sampling uses one thread)."""
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    data = select(args.artifacts, nfes=args.nfe, methods=args.methods, n_members=args.members, seed=args.seed,
                  cache=args.cache)
    data["command"] = "python -m eoretrieval.rain.seviri_sampler " + " ".join(argv if argv is not None else [])
    data["seconds"] = round(time.perf_counter() - t0, 1)
    path = Path(args.artifacts) / SAMPLERS_FILE
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    for m, e in data["methods"].items():
        for nfe, v in e["nfe"].items():
            print(f"{m} NFE {nfe}: {v['chosen']} (CRPS "
                  f"{min(r['crps'] for r in v['candidates']):.4f}, uniform Euler "
                  f"{[r['crps'] for r in v['candidates'] if r['method'] == 'euler' and r['time_power'] == 1.0][0]:.4f})")
    print(f"wrote {path} in {data['seconds']} s")
    return 0


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
