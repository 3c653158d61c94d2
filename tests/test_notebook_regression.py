"""pytest-notebook regression test of the deterministic data-tour notebook.

The reference `tests/notebooks/00_data_tour.ref.ipynb` is the notebook executed by papermill with its
outputs; the test re-executes it and diffs every text/markdown output (figure bytes, metadata and
execution counts are ignored). After an intended change, regenerate the reference with
``EORETRIEVAL_REGEN=1 .venv/bin/python -m pytest tests/test_notebook_regression.py``.
"""

import os
import re

import pytest

from eoretrieval.config import repo_root

pytest_notebook = pytest.importorskip("pytest_notebook.nb_regression")

REFERENCE = repo_root() / "tests" / "notebooks" / "00_data_tour.ref.ipynb"


@pytest.mark.slow
def test_data_tour_outputs_unchanged():
    fixture = pytest_notebook.NBRegressionFixture(
        exec_timeout=300,
        exec_cwd=str(repo_root()),
        diff_ignore=(
            "/metadata",
            "/cells/*/metadata",
            "/cells/*/execution_count",
            "/cells/*/outputs/*/execution_count",
            "/cells/*/outputs/*/data/image/png",
            "/cells/*/outputs/*/metadata",
        ),
        # absolute paths differ between checkouts: compare them from the repository root on
        diff_replace=tuple((path, r"/[^\s'\"]*?/(data|runs|src)/", r"<repo>/\1/") for path in (
            "/cells/*/outputs/*/text", "/cells/*/outputs/*/data/text/markdown", "/cells/*/outputs/*/data/text/plain")),
        diff_color_words=False,
        diff_use_color=False,
        force_regen=bool(os.environ.get("EORETRIEVAL_REGEN")),
    )
    fixture.check(str(REFERENCE))
