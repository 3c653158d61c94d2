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

Public names: :func:`artifact_path`, :func:`write_manifest`, :func:`load_manifest`, :func:`staging`.
"""

from __future__ import annotations

import contextlib
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

__all__ = ["artifact_path", "write_manifest", "load_manifest", "staging"]

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
