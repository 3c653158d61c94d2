"""Build the book: execute every notebook (cached), write the Data page, render HTML with Jupyter Book.

``python -m eoretrieval.book [--profile ci] [--force]`` is what ``make book`` runs. Sphinx runs with
warnings as errors; the result is ``_build/html/index.html``.

Public names: :func:`build`, :func:`main`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from . import bookdata, run
from .config import repo_root

__all__ = ["build", "main"]


def _jupyter_book() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book not installed: pip install -e '.[book]'")
    return [found]


def build(*, profile: str = "ci", force: bool = False, execute: bool = True) -> Path:
    """Execute the notebooks (unless ``execute=False``), write the Data page and build the HTML.

    Returns
    -------
    pathlib.Path
        ``_build/html/index.html``.

    Raises
    ------
    RuntimeError
        If a notebook fails or Sphinx emits a warning or error.
    """
    root = repo_root()
    if execute:
        status = run.main(["--profile", profile] + (["--force"] if force else []))
        if status != 0:
            raise RuntimeError(f"notebook execution failed (exit status {status})")
    bookdata.main([str(root / "book" / "data.md")])
    cmd = _jupyter_book() + ["build", str(root), "--toc", str(root / "book" / "_toc.yml"),
                             "--config", str(root / "_config.yml"), "--all", "-W", "--keep-going"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
        raise RuntimeError("jupyter-book build failed:\n" + "\n".join(lines[-40:] or (proc.stdout + proc.stderr)[-4000:].splitlines()))
    index = root / "_build" / "html" / "index.html"
    print(f"book built: {index}")
    return index


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m eoretrieval.book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="ci", choices=("ci", "paper"))
    ap.add_argument("--force", action="store_true", help="re-execute notebooks even if cached")
    ap.add_argument("--no-execute", action="store_true", help="render the executed notebooks already present")
    args = ap.parse_args(argv)
    try:
        build(profile=args.profile, force=args.force, execute=not args.no_execute)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
