"""Execute the compendium's notebooks with papermill: ``python -m eoretrieval.run [names] [options]``.

Each notebook ``notebooks/<name>.ipynb`` is executed with ``profile``, ``seed`` and ``output_dir``
(plus any ``-p key value`` overrides) into ``book/notebooks/<name>.ipynb``, where the book reads it;
its ``metrics.json`` and figures go to ``runs/<name>/``. A run is skipped when an earlier run with the
same inputs (notebook source, parameters, library source, artefacts, catalog) succeeded, so ``make test``
and ``make book`` execute each notebook once; ``--force`` re-executes. A failing notebook stops the run
with the failing cell's error; its partial output is kept as ``runs/<name>/failed.ipynb``.

Examples
--------
Re-execute study 1 with another seed, into a folder of your choice::

    python -m eoretrieval.run 01_nox_osse -p seed 3 --runs-dir ../myruns --force

Public names: :func:`discover`, :func:`execute`, :func:`main`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

from .config import repo_relative, repo_root
from .provenance import atomic_write_text

__all__ = ["discover", "execute", "main", "inputs_key", "repo_relative"]


def discover(names: list[str] | None = None, *, notebooks_dir: Path | None = None) -> list[Path]:
    """Return the notebooks to run: all of ``notebooks/*.ipynb``, or those whose stem starts with a name.

    Raises
    ------
    ValueError
        A name matches no notebook (the message lists the available ones).
    """
    folder = notebooks_dir or repo_root() / "notebooks"
    available = sorted(folder.glob("*.ipynb"))
    if not names:
        return available
    chosen = []
    for name in names:
        stem = Path(name).stem
        hits = [p for p in available if p.stem == stem] or [p for p in available if p.stem.startswith(stem)]
        if not hits:
            raise ValueError(f"no notebook matches {name!r}; available: {[p.stem for p in available]}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _hash_tree(h, root: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())


def inputs_key(notebook: Path, parameters: dict) -> str:
    """Hash of everything an execution depends on in the repository (for the skip-if-unchanged cache)."""
    root = repo_root()
    h = hashlib.sha256()
    h.update(notebook.read_bytes())
    h.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    _hash_tree(h, root, ("src/eoretrieval/**/*.py", "src/eoretrieval/**/*.mplstyle", "artifacts/**/*", "catalog.yml"))
    for path in sorted((root / "data").rglob("*")) if (root / "data").is_dir() else []:
        if path.is_file() and "cache" not in path.relative_to(root / "data").parts:
            h.update(f"{path.relative_to(root)}:{path.stat().st_size}".encode())
    return h.hexdigest()


def execute(notebook: Path, *, parameters: dict, out_notebook: Path, output_dir: Path,
            force: bool = False, log_output: bool = False) -> tuple[str, float]:
    """Execute one notebook; return ``(status, seconds)`` with status ``"ran"`` or ``"cached"``.

    Raises
    ------
    RuntimeError
        If a cell fails; the message holds the notebook, the cell's error name, value and traceback tail.
    """
    import papermill as pm

    params = dict(parameters)
    # papermill's cwd is the repository root: pass paths relative to it, so that the rendered notebooks
    # (and the metrics' provenance) show "runs/<name>", not the build machine's absolute path
    params["output_dir"] = repo_relative(output_dir)
    key = inputs_key(notebook, {k: v for k, v in params.items() if k != "output_dir"})
    stamp = output_dir / ".run-stamp.json"
    if not force and stamp.exists() and out_notebook.exists() and (output_dir / "metrics.json").exists():
        if json.loads(stamp.read_text()).get("key") == key:
            return "cached", 0.0
    output_dir.mkdir(parents=True, exist_ok=True)
    out_notebook.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_notebook.with_name(f".{out_notebook.stem}.{os.getpid()}.running.ipynb")  # one per process
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=params, kernel_name="python3",
                            cwd=str(repo_root()), progress_bar=False, log_output=log_output,
                            request_save_on_cell_execute=True)
    except pm.PapermillExecutionError as err:
        if tmp.exists():
            shutil.move(str(tmp), output_dir / "failed.ipynb")
        tail = "".join(err.traceback[-6:]) if err.traceback else ""
        raise RuntimeError(f"{notebook.name}: cell {err.exec_count} failed: {err.ename}: {err.evalue}\n"
                           f"partial output kept in {output_dir / 'failed.ipynb'}\n{tail}") from None
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    seconds = time.perf_counter() - t0
    _relative_papermill_metadata(tmp, input_path=notebook, output_path=out_notebook)
    os.replace(tmp, out_notebook)
    (output_dir / "failed.ipynb").unlink(missing_ok=True)  # an earlier failure's partial output is stale now
    atomic_write_text(stamp, json.dumps({"key": key, "seconds": seconds, "parameters": params}, indent=2))
    return "ran", seconds


def _relative_papermill_metadata(notebook: Path, *, input_path: Path, output_path: Path) -> None:
    """Record papermill's ``input_path``/``output_path`` metadata repository-relative (final names)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"] = repo_relative(input_path)
    meta["output_path"] = repo_relative(output_path)
    nbformat.write(nb, notebook)


def _parse_value(text: str):
    """Parse a ``-p`` value like papermill does (YAML: numbers, booleans, lists; else a string)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m eoretrieval.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebook names (stems or prefixes); default: all")
    ap.add_argument("--profile", default="ci", choices=("ci", "paper"))
    ap.add_argument("--seed", type=int, default=None, help="shortcut for -p seed N")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="override a notebook parameter (value parsed as YAML)")
    ap.add_argument("--runs-dir", default=None, help="where metrics.json/figures go (default runs/)")
    ap.add_argument("--executed-dir", default=None, help="where executed notebooks go (default book/notebooks/)")
    ap.add_argument("--force", action="store_true", help="execute even if an identical run succeeded")
    ap.add_argument("--log-output", action="store_true", help="stream cell output to the terminal")
    args = ap.parse_args(argv)

    root = repo_root()
    runs_dir = Path(args.runs_dir or root / "runs").resolve()
    executed_dir = Path(args.executed_dir or root / "book" / "notebooks").resolve()
    try:
        notebooks = discover(args.names)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    overrides = {k: _parse_value(v) for k, v in args.parameter}
    overrides["profile"] = args.profile
    if args.seed is not None:
        overrides["seed"] = args.seed

    summary = []
    for nb in notebooks:
        print(f"[run] {nb.stem}: profile={args.profile} {overrides if len(overrides) > 1 else ''}", flush=True)
        try:
            status, seconds = execute(nb, parameters=overrides, out_notebook=executed_dir / nb.name,
                                      output_dir=runs_dir / nb.stem, force=args.force,
                                      log_output=args.log_output)
        except RuntimeError as err:
            print(f"\nFAILED {err}", file=sys.stderr)
            _print_summary(summary + [(nb.stem, "FAILED", float("nan"))])
            return 1
        summary.append((nb.stem, status, seconds))
        print(f"[run] {nb.stem}: {status} in {seconds:.1f} s", flush=True)
    _print_summary(summary)
    return 0


def _print_summary(rows):
    print("\nnotebook                          status     seconds")
    for name, status, seconds in rows:
        print(f"{name:<33} {status:<10} {seconds:8.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
