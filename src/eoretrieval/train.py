"""Command-line entry point for training: ``python -m eoretrieval.train <study> [options]``.

Each study registers the module that implements its training command; the module must expose
``main(argv: list[str]) -> int``. Training writes a versioned artefact under ``artifacts/<study>/``
(see :mod:`eoretrieval.artifacts`).

Public names: :data:`TRAINERS`, :func:`main`.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["TRAINERS", "main"]

#: study name -> module with ``main(argv)``; imported lazily so that ``--help`` is fast.
TRAINERS: dict[str, str] = {
    "nox": "eoretrieval.nox.train",
    "nox_calibrate": "eoretrieval.nox.calibrate",
    "gmi": "eoretrieval.rain.gmi_train",
    "rain_seviri": "eoretrieval.rain.seviri_train",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv[0]`` (the study) to its training module."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m eoretrieval.train <study> [--help | options]\n"
              f"studies: {', '.join(sorted(TRAINERS))}")
        return 0 if argv else 2
    study = argv[0].lower()
    if study not in TRAINERS:
        raise SystemExit(f"unknown study {argv[0]!r}; valid studies: {sorted(TRAINERS)}")
    module = importlib.import_module(TRAINERS[study])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
