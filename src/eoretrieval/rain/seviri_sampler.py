"""The sampler of each generative method, chosen on validation patches: ``python -m eoretrieval.rain.seviri_sampler``.

At a fixed number of network evaluations (NFE; 5 in the "ci" profile, a tenth of the DDPM's, and 20 in "paper"),
the flow-matching sampler still has two free choices: the integrator (Euler, or Heun with ``(NFE + 1) / 2``
steps) and the time grid (:func:`~eoretrieval.nets.flow_matching.time_grid`, power ``p``; ``p > 1`` shortens the
steps near the data end). The rule, fixed before any candidate was scored: for each flow-matching method, keep
the candidate with the lowest ensemble CRPS on that artefact's own **validation patches** (the KNMI validation
period its training command scored, :func:`~eoretrieval.rain.seviri_train.validation_patches`; never the test
tiles of the notebook), and the uniform Euler grid (the incumbent) unless a candidate has a lower CRPS. CRPS is the
proper score of the study's ensembles; the other scores are recorded beside it, not used.

The DDPM gets the same treatment (equal effort for every method compared): at its NFE (50 in "ci", 200 in
"paper") the candidates are its ancestral sampler (the incumbent) and DDIM with ``eta`` 0 and 0.5 on the same
respaced steps (:meth:`~eoretrieval.nets.diffusion.GaussianDiffusion.sample`); the rule is the same
(:data:`RULE_DDPM`).

The choices, every candidate's scores, the rules, the command that made each method's entry and the weights
checksum of each artefact go to ``artifacts/rain_seviri/samplers.json``; a run for some methods keeps the other
methods' entries. :func:`sampler_for` reads them for :func:`~eoretrieval.rain.seviri_eval.evaluate_methods` and
refuses a file that describes other weights.

Public names: :func:`candidates`, :func:`choose`, :func:`select`, :func:`sampler_for`, :func:`choice_table`, :func:`merge`, :func:`main`,
:data:`FM_METHODS`, :data:`DDPM_METHODS`, :data:`SAMPLERS_FILE`, :data:`RULE`, :data:`RULE_DDPM`.
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

__all__ = ["candidates", "choose", "select", "sampler_for", "choice_table", "merge", "main", "FM_METHODS", "DDPM_METHODS", "SAMPLERS_FILE",
           "RULE", "RULE_DDPM"]

#: the methods whose sampler is an ODE (flow matching)
FM_METHODS = ("flow_matching", "residual_fm", "flow_matching_1frame", "flow_matching_1frame_prev")
#: the methods whose sampler is a reverse diffusion
DDPM_METHODS = ("ddpm",)
#: file name, beside the artefacts
SAMPLERS_FILE = "samplers.json"
#: time-grid powers tried with Euler and (``HEUN_POWERS``) with Heun
EULER_POWERS = (1.0, 1.5, 2.0, 3.0)
HEUN_POWERS = (1.0, 2.0)
RULE = ("per method, the lowest ensemble CRPS on the artefact's validation patches at the given NFE; the uniform "
        "Euler grid unless a candidate is lower")
INCUMBENT = {"method": "euler", "time_power": 1.0}
#: DDIM stochasticities tried beside the ancestral sampler
DDIM_ETAS = (0.0, 0.5)
RULE_DDPM = ("the lowest ensemble CRPS on the artefact's validation patches at the given NFE; the ancestral sampler "
             "unless a candidate is lower")
INCUMBENT_DDPM = {"method": "ancestral", "eta": 1.0}
#: the keys that name a sampler of each family (besides ``n_steps``)
_KEYS = {"fm": ("method", "time_power"), "ddpm": ("method", "eta")}
#: the incumbent of each family
_INCUMBENTS = {"fm": INCUMBENT, "ddpm": INCUMBENT_DDPM}


def _is_incumbent(row: dict, family: str) -> bool:
    return all(row.get(k) == v for k, v in _INCUMBENTS[family].items())


def _family(method: str) -> str:
    if method in FM_METHODS:
        return "fm"
    if method in DDPM_METHODS:
        return "ddpm"
    raise ValueError(f"{method!r} has no sampler to choose; expected one of {FM_METHODS + DDPM_METHODS}")


def candidates(nfe: int, family: str = "fm") -> list[dict]:
    """Samplers with exactly ``nfe`` network evaluations, incumbent first.

    ``family="fm"``: ``{"method", "time_power", "n_steps"}``; Heun spends ``2 n - 1`` evaluations on ``n`` steps, so
    it is a candidate only for odd ``nfe``. ``family="ddpm"``: ``{"method", "eta", "n_steps"}``, the ancestral
    sampler and DDIM with each of :data:`DDIM_ETAS`, all on ``nfe`` respaced steps.
    """
    nfe = int(nfe)
    if nfe < 1:
        raise ValueError(f"nfe must be >= 1, got {nfe}")
    if family == "ddpm":
        return [{**INCUMBENT_DDPM, "n_steps": nfe}] + [{"method": "ddim", "eta": e, "n_steps": nfe} for e in DDIM_ETAS]
    if family != "fm":
        raise ValueError(f"unknown sampler family {family!r}; valid: 'fm', 'ddpm'")
    out = [{"method": "euler", "time_power": p, "n_steps": nfe} for p in EULER_POWERS]
    if nfe % 2 == 1 and nfe > 1:
        out += [{"method": "heun", "time_power": p, "n_steps": (nfe + 1) // 2} for p in HEUN_POWERS]
    return out


def choose(rows: list[dict], family: str = "fm") -> dict:
    """Apply :data:`RULE` (``family="fm"``) or :data:`RULE_DDPM` to scored candidates (rows of :func:`candidates`
    with ``crps``).

    Returns the incumbent's row unless another row has a strictly lower ``crps``.
    """
    incumbent = [r for r in rows if _is_incumbent(r, family)]
    if not incumbent:
        name = "ancestral sampler" if family == "ddpm" else "uniform Euler grid"
        raise ValueError(f"the candidates must include the incumbent ({name})")
    best = incumbent[0]
    for r in rows:
        if r["crps"] < best["crps"]:
            best = r
    return best


def _score_candidate(model, objective, norm, cond, truth, cand, *, n_members, seed, spacing_km, family="fm"):
    from .seviri_eval import as_fields, predict, score
    values, sec = predict(model, objective, norm, cond, n_members=n_members, n_steps=cand["n_steps"], seed=seed,
                          sampler={k: cand[k] for k in _KEYS[family]})
    sc = score(as_fields(values, spacing_km=spacing_km), truth, spacing_km=spacing_km, seed=seed)
    return {**cand, **{k: float(sc[k]) for k in ("crps", "csi_1", "q99_ratio", "q999_ratio", "psd_slope_err",
                                                 "spread_skill")}, "sample_s": sec}


def select(artifacts_root: str | os.PathLike, *, nfes=(5, 20), methods=FM_METHODS, n_members: int = 8,
           seed: int = 0, cache: str | None = None, progress: bool | None = None) -> dict:
    """Score every candidate of :func:`candidates` on each method's validation patches and :func:`choose`.

    Returns the content of :data:`SAMPLERS_FILE` for ``methods``: ``{"rule", "rule_ddpm", "n_members", "seed",
    "methods": {method: {"weights_sha256", "n_val_patches", "val_period", "nfe": {str(nfe): {"chosen",
    "candidates"}}}}}``.
    """
    from .seviri_eval import as_fields
    from .seviri_train import load_method, validation_patches
    root = Path(artifacts_root)
    out = {"rule": RULE, "rule_ddpm": RULE_DDPM, "n_members": int(n_members), "seed": int(seed), "methods": {}}
    for method in methods:
        family = _family(method)
        folder = root / method
        model, objective, norm, manifest = load_method(folder)
        cond, rain = validation_patches(folder, cache=cache)
        spacing_km = float(norm["spacing_m"]) / 1000.0
        truth = as_fields(rain, spacing_km=spacing_km, name="truth")
        entry = {"weights_sha256": artifacts.file_checksum(folder / "weights.pt"), "n_val_patches": int(len(rain)),
                 "val_period": manifest.get("val_period"), "nfe": {}}
        for nfe in nfes:
            rows = [_score_candidate(model, objective, norm, cond, truth, c, n_members=n_members, seed=seed,
                                     spacing_km=spacing_km, family=family)
                    for c in tqdm(candidates(nfe, family), desc=f"{method} NFE {nfe}", disable=progress is False)]
            best = choose(rows, family)
            entry["nfe"][str(int(nfe))] = {"chosen": {k: best[k] for k in (*_KEYS[family], "n_steps")},
                                           "candidates": rows}
        out["methods"][method] = entry
    return out


def sampler_for(artifacts_root: str | os.PathLike, method: str, nfe: int) -> tuple[int, dict, str]:
    """``(n_steps, sampler, source)`` of ``method`` at ``nfe`` evaluations.

    From :data:`SAMPLERS_FILE` beside the artefacts when it holds a choice for this method and NFE; otherwise the
    incumbent (flow matching: the uniform Euler grid with ``nfe`` steps; DDPM: ``{}``, its ancestral sampler;
    ``source`` says which). Other methods get ``(nfe, {}, "default")``.

    Raises
    ------
    DataError
        If the file's weights checksum for ``method`` is not that of the artefact's ``weights.pt`` (the choice was
        made for other weights), naming both files and the command that redoes the choice.
    """
    if method in FM_METHODS:
        default = (int(nfe), dict(INCUMBENT), "uniform Euler grid (no choice recorded)")
    elif method in DDPM_METHODS:
        default = (int(nfe), {}, "ancestral sampler (no choice recorded)")
    else:
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
                        f"--artifacts {artifacts_root} --methods {method}")
    chosen = entry.get("nfe", {}).get(str(int(nfe)))
    if chosen is None:
        return default
    c = chosen["chosen"]
    keys = _KEYS[_family(method)]
    return int(c["n_steps"]), {k: (c[k] if k == "method" else float(c[k])) for k in keys}, repo_relative(path)


def merge(old: dict | None, new: dict) -> dict:
    """The content of :data:`SAMPLERS_FILE` after a run for some methods: ``new``'s entries replace those of the same
    methods in ``old``; the other methods' entries (each with the ``command`` that made it) are kept."""
    merged = {**(old or {}), **{k: v for k, v in new.items() if k != "methods"}}
    methods = dict((old or {}).get("methods", {}))
    for m, e in methods.items():   # files written before entries carried their own command and time
        e.setdefault("command", (old or {}).get("command"))
        e.setdefault("seconds", (old or {}).get("seconds"))
    methods.update(new["methods"])
    merged["methods"] = methods
    merged.pop("command", None)
    merged.pop("seconds", None)
    return merged


def choice_table(artifacts_root: str | os.PathLike, nfe_of: dict) -> dict:
    """What each generative method samples with at its NFE and what that gained on validation (notebook 03's table).

    Parameters
    ----------
    nfe_of : dict
        Method → NFE (e.g. a profile's ``nfe``); methods without a sampler to choose are skipped.

    Returns
    -------
    dict
        Method → ``{"NFE", "sampler", "val CRPS", "val CRPS, incumbent", "val CRPS, worst candidate",
        "val spectral-slope error", "val spectral-slope error, incumbent", "from"}`` (NaN where
        :data:`SAMPLERS_FILE` records no candidates for that method and NFE).
    """
    path = Path(artifacts_root) / SAMPLERS_FILE
    data = json.loads(path.read_text()) if path.exists() else {"methods": {}}
    rows = {}
    for method, nfe in nfe_of.items():
        if method not in FM_METHODS + DDPM_METHODS:
            continue
        family = _family(method)
        n_steps, sampler, source = sampler_for(artifacts_root, method, nfe)
        cands = data["methods"].get(method, {}).get("nfe", {}).get(str(int(nfe)), {}).get("candidates", [])
        used = {**_INCUMBENTS[family], **sampler}
        chosen = next((c for c in cands if all(c.get(k) == used[k] for k in _KEYS[family])), None)
        inc = next((c for c in cands if _is_incumbent(c, family)), None)
        if family == "fm":
            name = f"{used['method']}, grid power {used['time_power']:g}"
        else:
            name = "ancestral" if used["method"] == "ancestral" else f"DDIM, eta {used['eta']:g}"
        nan = float("nan")
        rows[method] = {"NFE": int(nfe), "sampler": f"{name}, {n_steps} steps",
                        "val CRPS": chosen["crps"] if chosen else nan,
                        "val CRPS, incumbent": inc["crps"] if inc else nan,
                        "val CRPS, worst candidate": max((c["crps"] for c in cands), default=nan),
                        "val spectral-slope error": chosen["psd_slope_err"] if chosen else nan,
                        "val spectral-slope error, incumbent": inc["psd_slope_err"] if inc else nan,
                        "from": source}
    return rows


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m eoretrieval.rain.seviri_sampler``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.rain.seviri_sampler", description=__doc__.split("\n")[0])
    p.add_argument("--artifacts", default="artifacts/rain_seviri", help="folder of the study's artefacts")
    p.add_argument("--nfe", type=int, nargs="+", default=[5, 20],
                   help="NFEs to choose for (flow matching: ci 5, paper 20; DDPM: ci 50, paper 200)")
    p.add_argument("--methods", nargs="+", default=list(FM_METHODS), choices=FM_METHODS + DDPM_METHODS)
    p.add_argument("--members", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None, help="patch cache folder (default: the training command's)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Choose the samplers and write them into :data:`SAMPLERS_FILE` atomically (other methods' entries kept);
    return 0 (sampling uses one thread)."""
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    data = select(args.artifacts, nfes=args.nfe, methods=args.methods, n_members=args.members, seed=args.seed,
                  cache=args.cache)
    command = "python -m eoretrieval.rain.seviri_sampler " + " ".join(argv if argv is not None else [])
    seconds = round(time.perf_counter() - t0, 1)
    for entry in data["methods"].values():
        entry["command"], entry["seconds"] = command, seconds
    path = Path(args.artifacts) / SAMPLERS_FILE
    old = json.loads(path.read_text()) if path.exists() else None
    atomic_write_text(path, json.dumps(merge(old, data), indent=1) + "\n")
    for m, e in data["methods"].items():
        for nfe, v in e["nfe"].items():
            inc = [r["crps"] for r in v["candidates"] if _is_incumbent(r, _family(m))][0]
            print(f"{m} NFE {nfe}: {v['chosen']} (CRPS {min(r['crps'] for r in v['candidates']):.4f}, "
                  f"incumbent {inc:.4f})")
    print(f"wrote {path} in {seconds} s")
    return 0


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
