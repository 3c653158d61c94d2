"""Versioned, committed training artefacts.

An artefact is a folder ``artifacts/<study>/<name>/`` holding:

- ``weights.pt``     the model state dict (torch; a few MB at most)
- ``normalisation.json``  input/output normalisation statistics
- ``manifest.json``  model class and constructor kwargs, the exact training command, data checksums,
                     training wall time and machine, package version and git commit, held-out metrics
- ``train_log.csv``  one row per epoch (loss, validation loss, seconds)

Notebooks load artefacts with :func:`load_manifest` (and the study's own loader for the weights);
training commands write them with :func:`write_manifest`. Writing goes through a temporary folder that
is renamed at the end, so an interrupted training run never leaves a half-written artefact.

A retrained model replaces a committed one only by a rule fixed before the retraining: :func:`adopt` (or
``python -m eoretrieval.artifacts adopt CANDIDATE COMMITTED``) compares one held-out number of the two manifests
(by default the best validation loss, lower wins), swaps the folders atomically when the candidate wins, and records
the rule and both numbers in the adopted manifest's ``adoption``.

Public names: :func:`artifact_path`, :func:`write_manifest`, :func:`load_manifest`, :func:`staging`,
:func:`adopt`, :func:`file_checksum`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .config import artifacts_dir
from .errors import DataError
from .provenance import _jsonable, describe_run

__all__ = ["artifact_path", "write_manifest", "load_manifest", "staging", "adopt", "file_checksum"]

REQUIRED_KEYS = ("study", "model", "command", "created", "data_checksums", "metrics")


def artifact_path(study: str, name: str, *, root: str | os.PathLike | None = None) -> Path:
    """Return ``<artifacts>/<study>/<name>``."""
    return artifacts_dir(root) / study / name


@contextlib.contextmanager
def staging(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``final``; on success it replaces ``final`` atomically.

    On any exception the temporary folder is removed and ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.staging."))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = None
    if final.exists():
        backup = final.with_name(f".{final.name}.old")
        shutil.rmtree(backup, ignore_errors=True)
        final.rename(backup)
    tmp.rename(final)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def write_manifest(folder: str | os.PathLike, *, study: str, model: dict, data_checksums: dict,
                   metrics: dict, train_seconds: float | None = None, extra: dict | None = None,
                   command: str | None = None) -> Path:
    """Write ``manifest.json`` into ``folder`` and return its path.

    ``command`` defaults to the command line of the running process (``python -m ...``).
    """
    import datetime as _dt

    cmd = command or " ".join(["python"] + ([f"-m {sys.modules['__main__'].__spec__.name}"]
                                            if getattr(sys.modules.get("__main__"), "__spec__", None)
                                            else [sys.argv[0]]) + sys.argv[1:])
    record = {
        "study": study,
        "model": model,
        "command": cmd,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "train_seconds": train_seconds,
        "data_checksums": data_checksums,
        "metrics": metrics,
        "provenance": describe_run(notebook="(training command)", parameters={"argv": sys.argv[1:]}),
    }
    if extra:
        record.update(extra)
    path = Path(folder) / "manifest.json"
    path.write_text(json.dumps(_jsonable(record), indent=2) + "\n")
    return path


def load_manifest(folder: str | os.PathLike) -> dict:
    """Read and check ``<folder>/manifest.json``.

    Raises
    ------
    DataError
        If the folder or manifest is missing, or a required key is absent; the message names the path.
    """
    path = Path(folder) / "manifest.json"
    if not path.exists():
        raise DataError(f"{path}: no artefact manifest here; train it with the command in the README "
                        f"(python -m eoretrieval.train <study> --profile ...)")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: manifest is not valid JSON ({err})") from err
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise DataError(f"{path}: manifest lacks required keys {missing}; expected {list(REQUIRED_KEYS)}")
    return record


def file_checksum(path: str | os.PathLike) -> str:
    """The first 16 hex digits of the file's SHA-256 (the short form the manifests use)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _metric(manifest: dict, metric: str, path: Path) -> float:
    value = manifest.get("metrics", {}).get(metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise DataError(f"{path}/manifest.json: metrics.{metric} is {value!r}; expected a number to compare")
    return float(value)


def adopt(candidate: str | os.PathLike, committed: str | os.PathLike, *, metric: str = "best_val_loss",
          lower_is_better: bool = True) -> dict:
    """Replace the committed artefact by a retrained candidate when the candidate's held-out ``metric`` is better.

    The rule is fixed by the arguments before anything is compared: the candidate wins when its
    ``manifest["metrics"][metric]`` is strictly lower (``lower_is_better``) or strictly higher than the committed
    artefact's. A winner's files replace the committed folder atomically (:func:`staging`); its manifest gains
    ``adoption``: the rule, the candidate's path, both values and the epochs each was trained for. A loser changes
    nothing. Both artefacts must be of the same study and method.

    Returns
    -------
    dict
        ``{"adopted": bool, "metric", "candidate": value, "committed": value, "rule"}``.

    Raises
    ------
    DataError
        A missing folder or manifest, no such metric in either manifest, another study or method, or the same folder.
    """
    candidate, committed = Path(candidate), Path(committed)
    if candidate.resolve() == committed.resolve():
        raise DataError(f"{candidate}: the candidate and the committed artefact are the same folder")
    mc, mo = load_manifest(candidate), load_manifest(committed)
    for key in ("study",):
        if mc.get(key) != mo.get(key):
            raise DataError(f"{candidate}: candidate of study {mc.get(key)!r} cannot replace {committed} "
                            f"(study {mo.get(key)!r})")
    if mc["model"].get("method") != mo["model"].get("method"):
        raise DataError(f"{candidate}: candidate method {mc['model'].get('method')!r} cannot replace {committed} "
                        f"(method {mo['model'].get('method')!r})")
    vc, vo = _metric(mc, metric, candidate), _metric(mo, metric, committed)
    better = vc < vo if lower_is_better else vc > vo
    rule = f"adopt the candidate when its metrics.{metric} is {'lower' if lower_is_better else 'higher'}"
    out = {"adopted": bool(better), "metric": metric, "candidate": vc, "committed": vo, "rule": rule}
    if not better:
        return out
    import datetime as _dt

    with staging(committed) as tmp:
        for f in candidate.iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
        mc["adoption"] = {
            "rule": rule, "candidate_path": str(candidate), "candidate_value": vc, "replaced_value": vo,
            "candidate_epochs": mc.get("metrics", {}).get("epochs_run"),
            "replaced_epochs": mo.get("metrics", {}).get("epochs_run"),
            "replaced_command": mo.get("command"),
            "adopted": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(_jsonable(mc), indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m eoretrieval.artifacts adopt CANDIDATE COMMITTED [--metric NAME] [--higher-is-better]``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.artifacts",
                                description="Adopt a retrained artefact by a rule fixed before training.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("adopt", help="replace COMMITTED by CANDIDATE when the candidate's held-out metric is better")
    a.add_argument("candidate")
    a.add_argument("committed")
    a.add_argument("--metric", default="best_val_loss", help="key of manifest['metrics'] (default best_val_loss)")
    a.add_argument("--higher-is-better", action="store_true", help="the larger value wins (default: the smaller)")
    args = p.parse_args(argv)
    try:
        out = adopt(args.candidate, args.committed, metric=args.metric, lower_is_better=not args.higher_is_better)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    verdict = "adopted" if out["adopted"] else "not adopted"
    print(f"{args.candidate}: {verdict} ({out['metric']} {out['candidate']:.6g} vs committed {out['committed']:.6g}; "
          f"{out['rule']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
