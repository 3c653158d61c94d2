"""Registry of readers and the decorator every reader passes through.

Papermill parameters and catalog entries name readers by string; :func:`get_reader` turns the
name into the function. All readers share one interface, ``read_<fmt>(path, **kwargs) -> xr.Dataset``,
and one decorator, :func:`postprocess_reader`, which turns missing or unreadable files into
:class:`~eoretrieval.errors.DataError` naming the file, records the source file, and runs the
reader's declared variable/unit checks.

Public names: :data:`READERS`, :func:`get_reader`, :func:`list_readers`, :func:`register_reader`,
:func:`postprocess_reader`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import xarray as xr

from ..errors import DataError
from ..registry import Registry
from .checks import require_variables

__all__ = ["READERS", "get_reader", "list_readers", "register_reader", "postprocess_reader"]

READERS: Registry[Callable[..., xr.Dataset]] = Registry("reader")


def postprocess_reader(required: Mapping[str, str | None] | None = None):
    """Decorate a reader ``f(path, **kwargs) -> xr.Dataset``.

    - a missing file raises ``DataError("<path>: file not found ...")``;
    - any low-level decoding error (truncated HDF5/netCDF, malformed CSV) becomes a ``DataError``
      naming the file and the reader;
    - ``attrs['source_file']`` is set on the result;
    - ``required`` variables and units are checked with :func:`~eoretrieval.io.checks.require_variables`.
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(path: str | os.PathLike, *args, **kwargs):
            p = Path(path)
            if not p.exists():
                raise DataError(f"{p}: file not found (reader {func.__name__})")
            try:
                ds = func(p, *args, **kwargs)
            except DataError:
                raise
            except (OSError, ValueError, KeyError, RuntimeError, EOFError, UnicodeDecodeError) as err:
                raise DataError(f"{p}: cannot be read by {func.__name__} "
                                f"(truncated or not the expected format): {type(err).__name__}: {err}") from err
            ds.attrs.setdefault("source_file", str(p))
            if required:
                require_variables(ds, required, source=str(p))
            return ds

        wrapper.required = dict(required or {})
        return wrapper

    return decorate


def register_reader(name: str, func: Callable[..., xr.Dataset]) -> Callable[..., xr.Dataset]:
    """Register ``func`` under ``name`` (lower snake case) and return it."""
    return READERS.register(name, func)


def get_reader(name: str) -> Callable[..., xr.Dataset]:
    """Return the reader registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    return READERS.get(name)


def list_readers() -> list[str]:
    """Return the registered reader names, sorted."""
    return READERS.names()
