"""Open datasets by catalog name: ``catalog.yml`` (intake 2) → reader registry → checks.

Entries use :class:`RegistryReader`, a small intake reader that hands the file to the project's own
reader named in the entry (``kwargs.reader``), so intake users and library users get the same
checked, labelled data. Each entry's ``metadata`` carries ``kind`` (``sample``: shipped in ``data/``;
``archive``: the full public dataset, never opened in tests or the "ci" profile), ``description``,
``provenance``, ``licence``, ``source_md`` and ``variables`` ({name: units}) that are checked on open.

Public names: :class:`RegistryReader`, :func:`open_catalog`, :func:`open_entry`, :func:`list_entries`,
:func:`describe_catalog`, :func:`entry_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from ..config import repo_root
from ..errors import DataError
from .checks import require_variables
from .interface import get_reader

try:  # intake is a core dependency, but keep the import error readable
    from intake.readers.readers import BaseReader
except ImportError:  # pragma: no cover
    BaseReader = object

__all__ = ["RegistryReader", "open_catalog", "open_entry", "list_entries", "describe_catalog", "entry_path",
           "default_catalog_path"]


class RegistryReader(BaseReader):
    """Intake reader that delegates to ``eoretrieval.io.get_reader(reader)(url, **kwargs)``."""

    output_instance = "xarray:Dataset"
    imports = {"xarray"}

    def _read(self, reader: str, url: str, **kwargs):
        """Read ``url`` with the registered reader ``reader``."""
        return get_reader(reader)(_local_path(url), **kwargs)


def _local_path(url: str) -> str:
    """Strip the ``file:`` / ``file://`` scheme intake puts in front of ``{CATALOG_DIR}``."""
    url = str(url)
    if url.startswith("file://"):
        return url[len("file://"):]
    if url.startswith("file:"):
        return url[len("file:"):]
    return url


def default_catalog_path() -> Path:
    """``$EORETRIEVAL_CATALOG`` if set, else ``<repo>/catalog.yml``."""
    env = os.environ.get("EORETRIEVAL_CATALOG")
    return Path(env) if env else repo_root() / "catalog.yml"


def open_catalog(path: str | os.PathLike | None = None):
    """Open the intake catalog (default :func:`default_catalog_path`).

    Raises
    ------
    DataError
        If the catalog file is missing or is not a valid intake 2 catalog.
    """
    import intake

    path = Path(path) if path is not None else default_catalog_path()
    if not path.exists():
        raise DataError(f"{path}: catalog not found; expected an intake 2 catalog (catalog.yml)")
    try:
        return intake.from_yaml_file(str(path))
    except Exception as err:  # intake raises many kinds of errors for malformed YAML
        raise DataError(f"{path}: not a valid intake 2 catalog ({type(err).__name__}: {err})") from err


def list_entries(catalog=None, *, kind: str | None = None) -> list[str]:
    """Return entry names, optionally only those whose ``metadata.kind`` equals ``kind``."""
    cat = catalog if catalog is not None else open_catalog()
    names = list(cat.entries)
    if kind is not None:
        names = [n for n in names if cat.entries[n].metadata.get("kind") == kind]
    return sorted(names)


def entry_path(name: str, catalog=None) -> str:
    """Return the resolved file path or URL of entry ``name``."""
    cat = catalog if catalog is not None else open_catalog()
    _check_name(cat, name)
    return _local_path(cat[name].kwargs["url"])


def _check_name(cat, name):
    if name not in cat.entries:
        raise ValueError(f"unknown catalog entry {name!r}; valid entries: {sorted(cat.entries)}")


def open_entry(name: str, *, catalog=None, allow_archive: bool = False, **kwargs) -> xr.Dataset:
    """Open catalog entry ``name`` and check its declared variables and units.

    Parameters
    ----------
    name : str
        Entry name (see :func:`list_entries`).
    catalog : intake Catalog, optional
        Default: the repository's ``catalog.yml``.
    allow_archive : bool
        Entries of ``kind: archive`` point at remote full archives; opening them needs the network
        and is refused unless this is True.
    **kwargs
        Passed to the reader (e.g. ``variables=[...]``).

    Raises
    ------
    ValueError
        Unknown entry (lists valid names).
    DataError
        File missing/truncated, or a declared variable or unit missing (names file and variable).
    """
    cat = catalog if catalog is not None else open_catalog()
    _check_name(cat, name)
    desc = cat.entries[name]
    meta = desc.metadata
    if meta.get("kind") == "archive" and not allow_archive:
        raise DataError(f"catalog entry {name!r} is a remote archive ({desc.kwargs.get('url')}); "
                        "pass allow_archive=True where the network and credentials are available")
    reader = cat[name]
    if kwargs:
        reader = reader(**kwargs)
    ds = reader.read()
    require_variables(ds, meta.get("variables") or {}, source=_local_path(reader.kwargs.get("url")))
    ds.attrs.setdefault("catalog_entry", name)
    return ds


def describe_catalog(catalog=None):
    """Return a pandas DataFrame, one row per entry: name, kind, description, licence, provenance, location."""
    import pandas as pd

    cat = catalog if catalog is not None else open_catalog()
    rows = []
    for name in sorted(cat.entries):
        desc = cat.entries[name]
        meta = desc.metadata
        rows.append({
            "entry": name,
            "kind": meta.get("kind", ""),
            "study": meta.get("study", ""),
            "description": meta.get("description", ""),
            "provenance": meta.get("provenance", ""),
            "licence": meta.get("licence", ""),
            "reader": desc.kwargs.get("reader", ""),
            "location": str(desc.kwargs.get("url", "")).replace("{CATALOG_DIR}/", ""),
            "source_md": meta.get("source_md", ""),
        })
    return pd.DataFrame(rows)
