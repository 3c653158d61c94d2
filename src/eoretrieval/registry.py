"""A name → object registry, shared by every ``interface.py`` (readers, metrics, models, baselines, ...).

Papermill parameters are strings; registries turn them into functions or classes. Keys are lower
snake case, lookup lower-cases its input, and an unknown name raises a ``ValueError`` that lists the
valid keys (pysteps' ``get_method``).

Public names: :class:`Registry`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Mapping of lower-case names to objects of one kind.

    Examples
    --------
    >>> metrics = Registry("metric", {"rmse": abs})
    >>> metrics.get("RMSE") is abs
    True
    >>> metrics.get("nope")
    Traceback (most recent call last):
    ...
    ValueError: unknown metric 'nope'; valid metrics: ['rmse']
    """

    def __init__(self, kind: str, items: dict[str, T] | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        for name, obj in (items or {}).items():
            self.register(name, obj)

    def register(self, name: str, obj: T) -> T:
        """Add ``obj`` under ``name`` (lower-cased); re-registering another object is an error."""
        key = str(name).lower()
        if key in self._items and self._items[key] is not obj:
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self._items[key] = obj
        return obj

    def get(self, name: str) -> T:
        """Return the object registered under ``name`` (case-insensitive)."""
        key = str(name).lower()
        if key not in self._items:
            raise ValueError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {sorted(self._items)}")
        return self._items[key]

    def names(self, *, sort: bool = True) -> list[str]:
        """Return the registered names, sorted (or in registration order with ``sort=False``)."""
        return sorted(self._items) if sort else list(self._items)

    def values(self) -> list[T]:
        """Return the registered objects in registration order."""
        return list(self._items.values())

    def __contains__(self, name: object) -> bool:
        return str(name).lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, name: str) -> T:
        return self.get(name)
