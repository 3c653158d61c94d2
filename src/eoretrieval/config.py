"""Profiles ("ci", "paper") and data-path resolution.

The flow is: papermill ``parameters`` cell -> :func:`get_profile` -> explicit keyword arguments.
The library never reads notebook globals; the only environment lookup is the data path
(argument, then ``EORETRIEVAL_DATA``, then ``<repo>/data``), and the artefact path
(argument, then ``EORETRIEVAL_ARTIFACTS``, then ``<repo>/artifacts``).

Public names: :data:`PROFILES`, :func:`get_profile`, :func:`data_dir`, :func:`artifacts_dir`,
:func:`repo_root`, :func:`repo_relative`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROFILES", "get_profile", "data_dir", "artifacts_dir", "repo_root", "cache_dir", "repo_relative"]

#: Valid profile names. Each study defines its own frozen dataclass of sizes for each profile
#: (e.g. ``eoretrieval.nox.NOX_PROFILES``); this tuple is what every notebook accepts.
PROFILES = ("ci", "paper")


def get_profile(profile: str, table: dict) -> object:
    """Look up ``profile`` (case-insensitive) in a study's ``{name: dataclass}`` table.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the valid names.
    """
    key = str(profile).lower()
    if key not in table:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {sorted(table)}")
    return table[key]


def repo_root() -> Path:
    """Return the repository root (the folder holding ``pyproject.toml``), or the cwd if not found."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "src").is_dir():
            return parent
    return Path.cwd()


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data folder: ``path``, else ``$EORETRIEVAL_DATA``, else ``<repo>/data``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("EORETRIEVAL_DATA")
    if env:
        return Path(env)
    return repo_root() / "data"


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Folder for generated (OSSE) data: ``path``, else ``$EORETRIEVAL_CACHE``, else ``<data>/cache``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("EORETRIEVAL_CACHE")
    if env:
        return Path(env)
    return data_dir() / "cache"


def artifacts_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the trained-artefact folder: ``path``, else ``$EORETRIEVAL_ARTIFACTS``, else ``<repo>/artifacts``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("EORETRIEVAL_ARTIFACTS")
    if env:
        return Path(env)
    return repo_root() / "artifacts"


def repo_relative(path: str | os.PathLike) -> str:
    """``path`` relative to the repository root (POSIX form) when inside it, else the absolute path.

    Examples
    --------
    >>> from eoretrieval.config import repo_root
    >>> repo_relative(repo_root() / "runs" / "01_nox_osse")
    'runs/01_nox_osse'
    """
    path = Path(path).resolve()
    root = repo_root().resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
