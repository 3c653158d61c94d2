"""Exceptions shared by the whole library.

Public names: :class:`DataError`, :class:`MissingOptionalDependency`.
"""

from __future__ import annotations

__all__ = ["DataError", "MissingOptionalDependency"]


class DataError(ValueError):
    """Input data that cannot be used: missing variable, wrong units, wrong grid, truncated file.

    The message always names the file (or dataset), the variable and what was expected.
    """


class MissingOptionalDependency(ImportError):
    """An optional dependency needed by this function is not installed."""
