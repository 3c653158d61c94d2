"""Exceptions shared by the whole library.

Public names: :class:`DataError`, :class:`MissingOptionalDependency`.
"""

from __future__ import annotations

__all__ = ["DataError", "MissingOptionalDependency"]


class DataError(ValueError):
    """Input data that cannot be used: missing variable, wrong units, wrong grid, truncated file.

    The message always names the file (or dataset), the variable and what was expected. Files inside the
    repository are named relative to it, so that a message reads the same on every machine (and the rendered
    book shows no path of the machine that built it); files elsewhere keep their absolute path.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        from .config import repo_root

        text = str(message)
        root = str(repo_root().resolve())
        if root not in ("", "/"):
            text = text.replace(root + "/", "")
        super().__init__(text, *args)


class MissingOptionalDependency(ImportError):
    """An optional dependency needed by this function is not installed."""
