"""The library-reference pages are generated from the package tree and cover every public module."""

from pathlib import Path

import pytest

from eoretrieval import bookapi
from eoretrieval.config import repo_root


def test_modules_of_lists_public_submodules_only():
    mods = bookapi.modules_of("eoretrieval.nox")
    assert "eoretrieval.nox.world" in mods and "eoretrieval.nox.transport" in mods
    assert not any(m.rsplit(".", 1)[1].startswith("_") for m in mods)
    with pytest.raises(ValueError, match="not a package"):
        bookapi.modules_of("eoretrieval.config")


def test_every_public_module_has_a_page(tmp_path):
    pages = bookapi.write_pages(tmp_path)
    text = "\n".join(p.read_text() for p in pages)
    src = repo_root() / "src" / "eoretrieval"
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src.parent).with_suffix("")
        parts = rel.parts
        if any(p.startswith("_") for p in parts) or "__pycache__" in parts:
            continue
        if len(parts) == 2 and parts[1] in ("run", "book", "bookdata", "bookapi", "train", "results"):
            continue  # commands: documented in the README and the re-run page
        name = ".".join(parts)
        assert f".. automodule:: {name}\n" in text, f"{name} is on no library-reference page"
    assert Path(tmp_path / "nox.md").read_text().startswith("# `eoretrieval.nox`")
