"""Figures saved with their provenance and the command that regenerates them.

Public names: :func:`save_figure`, :func:`regeneration_command`.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from pathlib import Path

from ..provenance import _jsonable, atomic_write_text, describe_run, sha256_file

__all__ = ["save_figure", "regeneration_command"]


def regeneration_command(notebook: str, parameters: dict) -> str:
    """Return the one-line command that re-executes ``notebook`` with ``parameters``.

    Examples
    --------
    >>> regeneration_command("01_nox_osse.ipynb", {"profile": "ci", "seed": 0})
    'python -m eoretrieval.run 01_nox_osse -p profile ci -p seed 0'
    """
    stem = Path(notebook).stem
    parts = ["python", "-m", "eoretrieval.run", stem]
    for key, value in parameters.items():
        if key == "output_dir":
            continue
        parts += ["-p", key, value if isinstance(value, str) else json.dumps(value)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def save_figure(fig, name: str, *, output_dir: str | os.PathLike, notebook: str, parameters: dict,
                inputs: Iterable[str | os.PathLike] = (), caption: str = "", display: bool = True) -> Path:
    """Save ``fig`` as ``<output_dir>/figures/<name>.png`` with a JSON provenance record beside it.

    The record holds the notebook, parameters, git commit, package version, SHA-256 of each input
    file and the regeneration command. In a notebook the caption and the command are displayed
    under the figure, so the rendered book shows how to remake every figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        File stem, e.g. ``"maps_test_days"``.
    output_dir : path
        The notebook's ``output_dir`` parameter.
    notebook : str
        Notebook file name, e.g. ``"01_nox_osse.ipynb"``.
    parameters : dict
        The notebook's parameters (as passed to papermill).
    inputs : iterable of paths
        Files the figure was computed from (checksummed).
    caption : str
        One or two sentences: what is shown, units, data.

    Returns
    -------
    pathlib.Path
        Path of the PNG written.
    """
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{name}.png"
    tmp = folder / f".{name}.tmp.png"
    fig.savefig(tmp)
    os.replace(tmp, png)
    command = regeneration_command(notebook, parameters)
    record = describe_run(notebook=notebook, parameters=parameters)
    record.update({
        "figure": png.name,
        "caption": caption,
        "command": command,
        "inputs": {str(p): sha256_file(p) for p in inputs},
    })
    atomic_write_text(folder / f"{name}.json", json.dumps(_jsonable(record), indent=2) + "\n")
    if display:
        try:
            from IPython import get_ipython
            from IPython.display import Markdown
            from IPython.display import display as _show
        except ImportError:  # pragma: no cover
            return png
        if get_ipython() is not None:
            text = f"**Figure `{name}`.** {caption}\n\n" if caption else f"**Figure `{name}`.**\n\n"
            _show(Markdown(text + f"<small>Regenerate: `{command}`</small>"))
    return png
