"""Provenance: git commit, file checksums, and the ``metrics.json`` every study notebook writes.

Public names: :func:`git_commit`, :func:`sha256_file`, :func:`write_metrics`, :func:`describe_run`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .config import repo_root

__all__ = ["git_commit", "sha256_file", "write_metrics", "describe_run", "atomic_write_text"]


def git_commit(path: str | os.PathLike | None = None) -> str:
    """Return the current git commit of the repository (``"unknown"`` outside git).

    A ``+dirty`` suffix marks uncommitted changes to tracked files.
    """
    cwd = Path(path) if path is not None else repo_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def sha256_file(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 checksum of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats so that ``json`` writes valid JSON."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    elif hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def describe_run(*, notebook: str, parameters: dict) -> dict:
    """Return a provenance record: notebook, parameters, package version, commit, machine."""
    return {
        "notebook": notebook,
        "parameters": _jsonable(parameters),
        "eoretrieval_version": __version__,
        "git_commit": git_commit(),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".strip(),
        "python": platform.python_version(),
    }


def write_metrics(metrics: dict, output_dir: str | os.PathLike, *, notebook: str,
                  parameters: dict) -> Path:
    """Write ``<output_dir>/metrics.json`` atomically, with a ``provenance`` block added.

    Non-finite numbers become ``null`` (valid JSON). Returns the path written.
    """
    record = dict(_jsonable(metrics))
    record["provenance"] = describe_run(notebook=notebook, parameters=parameters)
    return atomic_write_text(Path(output_dir) / "metrics.json", json.dumps(record, indent=2, sort_keys=False) + "\n")
