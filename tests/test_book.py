"""Build the book (notebooks executed in the "ci" profile, cached) and check the HTML:
every chapter of the table of contents is rendered, every image it references exists."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from eoretrieval import book
from eoretrieval.config import repo_root


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _toc_files(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


@pytest.fixture(scope="module")
def html_dir():
    """The built book (built now, or found up to date); ``EORETRIEVAL_BOOK_HTML=<dir>`` checks a given build."""
    import os

    if os.environ.get("EORETRIEVAL_BOOK_HTML"):
        return Path(os.environ["EORETRIEVAL_BOOK_HTML"]).resolve()
    index = book.build(profile="ci")
    return index.parent


@pytest.mark.slow
def test_every_chapter_rendered(html_dir):
    toc = yaml.safe_load((repo_root() / "book" / "_toc.yml").read_text())
    files = list(_toc_files(toc))
    assert any(f.startswith("book/notebooks/") for f in files)
    for f in files:
        page = html_dir / f"{f}.html"
        assert page.exists(), f"chapter {f} not rendered"
        assert "Traceback" not in page.read_text() or f.startswith("book/api"), f"{f} shows a traceback"


@pytest.mark.slow
def test_no_broken_images_or_local_links(html_dir):
    n_images = 0
    for page in html_dir.rglob("*.html"):
        if "_modules" in page.parts or page.name in ("genindex.html", "search.html"):
            continue
        parser = _Links()
        parser.feed(page.read_text())
        for src in parser.images:
            if src.startswith(("http", "data:")):
                continue
            n_images += 1
            assert (page.parent / src).resolve().exists(), f"{page.name}: broken image {src}"
        for href in parser.links:
            target = href.split("#")[0]
            if not target or re.match(r"^[a-z]+:", target):
                continue
            assert (page.parent / target).resolve().exists(), f"{page.name}: broken link {href}"
    assert n_images >= 1, "the executed notebooks' figures should be in the book"


@pytest.mark.slow
def test_data_page_lists_every_catalog_entry(html_dir):
    from eoretrieval.io import list_entries

    text = (html_dir / "book" / "data.html").read_text()
    for name in list_entries():
        assert name in text, f"catalog entry {name} missing from the Data page"


# ------------------------------------------------------------------------------------------------------
# Absolute paths of the build machine must not reach the reader.
def _machine_paths() -> list[str]:
    import os
    import tempfile

    root = str(repo_root().resolve())
    paths = {root, str(Path(root).parent), tempfile.gettempdir(), str(Path.home()), "/tmp/", "/work/",
             "/root/", "/home/"}
    if os.environ.get("VIRTUAL_ENV"):
        paths.add(os.environ["VIRTUAL_ENV"])
    return sorted(p.rstrip("/") + "/" for p in paths if p not in ("/", ""))


@pytest.mark.slow
def test_no_absolute_path_of_the_build_machine_in_the_html(html_dir):
    """Rendered chapters show repository-relative paths (``runs/01_nox_osse``), never ``/tmp/...``."""
    needles = _machine_paths()
    hits = []
    for page in sorted(html_dir.rglob("*.html")):
        rel = page.relative_to(html_dir)
        if "_static" in rel.parts:
            continue
        text = page.read_text(errors="replace")
        for needle in needles:
            start = 0
            while (i := text.find(needle, start)) >= 0:
                hits.append(f"{rel}: ...{text[max(0, i - 60):i + 80]!r}...")
                start = i + 1
                if len(hits) > 40:
                    break
    assert not hits, f"{len(hits)} absolute path(s) of the build machine in the HTML:\n" + "\n".join(hits[:20])


# ------------------------------------------------------------------------------------------------------
# The Results page (python -m eoretrieval.results): computed from metrics.json and declared targets.
def _demo_repo(tmp_path):
    """A tiny repository: one study notebook with a label and numbered headings, its toc and its metrics."""
    import json

    import nbformat

    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo study: rain from space\n\n## Overview"),
                nbformat.v4.new_markdown_cell("(sec-scores)=\n## 4. Scores on the held-out days"),
                nbformat.v4.new_markdown_cell("```\n# not a heading\n```\n## Summary\n### Summary")]
    nbformat.write(nb, root / "notebooks" / "99_demo.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Other")]),
                   root / "notebooks" / "98_other.ipynb")
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Studies\n    chapters:\n"
        "      - file: book/notebooks/99_demo\n")
    runs = root / "runs" / "99_demo"
    runs.mkdir(parents=True)
    metrics = {"rmse": {"net": 0.5, "ref": 1.0}, "coverage90": 0.9,
               "provenance": {"git_commit": "0123456789abcdef+dirty",
                              "parameters": {"profile": "ci", "seed": 3, "output_dir": "runs/99_demo"}}}
    (runs / "metrics.json").write_text(json.dumps(metrics))
    return root, runs / "metrics.json"


def _demo_targets():
    from eoretrieval.targets import Target, ratio

    return {"99_demo": ("rain", [
        Target("net RMSE <= 0.6x reference", ratio("rmse.net", "rmse.ref"), "<=", 0.6,
               section="4-scores-on-the-held-out-days"),
        Target("coverage in 85-95 %", "coverage90", "between", (0.85, 0.95), section="sec-scores"),
        Target("skill by heading text", "coverage90", ">=", 0.5, section="Scores on the held-out days"),
        Target("not written yet", "crps", "<", 1.0, section="no such section"),
    ]), "97_future": ("rain", [Target("future skill", "skill", ">", 0.5)])}


def test_results_page_changes_when_a_metric_changes(tmp_path, capsys):
    import json

    from eoretrieval import results

    root, metrics_file = _demo_repo(tmp_path)
    page = results.render_results_page(results.collect(root=root, targets=_demo_targets()), root=root)
    lines = page.splitlines()
    row = next(ln for ln in lines if ln.startswith("| net RMSE"))
    assert "| 0.5 |" in row and "met" in row and "missed" not in row
    assert "[§4](notebooks/99_demo.ipynb#4-scores-on-the-held-out-days)" in row
    assert "{ref}`section <sec-scores>`" in next(ln for ln in lines if ln.startswith("| coverage in"))
    assert "#4-scores-on-the-held-out-days" in next(ln for ln in lines if ln.startswith("| skill by heading"))
    missing_row = next(ln for ln in lines if ln.startswith("| not written yet"))
    assert "not measured" in missing_row and "not found" in missing_row
    assert "no such section" in capsys.readouterr().err
    assert "ci, seed 3, `0123456789 (uncommitted changes)`" in page
    assert "| [Demo study: rain from space](notebooks/99_demo.ipynb) | 4 targets: 3 met, 0 missed, 1 not measured |" in page
    assert "| Other | no targets declared | not run |" in page, "a study not in the toc is listed, unlinked"
    assert "| 97_future | 1 target: 0 met, 0 missed, 1 not measured | no notebook yet |" in page

    metrics = json.loads(metrics_file.read_text())
    metrics["rmse"]["net"] = 0.8
    metrics["crps"] = 0.4
    metrics["provenance"]["git_commit"] = "fedcba9876543210"
    metrics_file.write_text(json.dumps(metrics))
    page2 = results.render_results_page(results.collect(root=root, targets=_demo_targets()), root=root)
    row2 = next(ln for ln in page2.splitlines() if ln.startswith("| net RMSE"))
    assert "| 0.8 |" in row2 and "missed" in row2
    assert "not measured" not in next(ln for ln in page2.splitlines() if ln.startswith("| not written yet"))
    assert "4 targets: 3 met, 1 missed" in page2 and "`fedcba9876`" in page2


def test_results_page_lists_controls_apart_from_targets(tmp_path):
    """Declared controls get their own table (passed / failed), and do not count among the targets."""
    import json

    from eoretrieval import results
    from eoretrieval.targets import Target, ratio

    root, metrics_file = _demo_repo(tmp_path)
    controls = {"99_demo": ("rain", [Target("shuffled input loses its skill", ratio("rmse.ref", "rmse.net"), ">", 1.5,
                                            section="4-scores-on-the-held-out-days")])}
    page = results.render_results_page(results.collect(root=root, targets=_demo_targets(), controls=controls),
                                       root=root)
    assert "4 targets: 3 met, 0 missed, 1 not measured" in page  # the control is not a target
    assert "**Controls** (not targets" in page and "1 passed, 0 failed." in page
    row = next(ln for ln in page.splitlines() if ln.startswith("| shuffled input"))
    assert "| 2 |" in row and "passed" in row and "met" not in row
    assert "| control | required | measured | status | shown in |" in page
    metrics = json.loads(metrics_file.read_text())
    metrics["rmse"]["net"] = 0.9
    metrics_file.write_text(json.dumps(metrics))
    page2 = results.render_results_page(results.collect(root=root, targets=_demo_targets(), controls=controls),
                                        root=root)
    assert "0 passed, 1 failed." in page2 and "failed" in next(
        ln for ln in page2.splitlines() if ln.startswith("| shuffled input"))
    # without controls the page has no such section; the repository's declared controls are well formed
    assert "Controls" not in results.render_results_page(results.collect(root=root, targets=_demo_targets()), root=root)
    declared = results.declared_targets(attr="CONTROLS", optional=True)
    assert {"01_nox_osse", "03_seviri_flow_matching", "04_gmi_ood_extremes", "05_vprm_sentinel2"} <= set(declared)


def test_results_cli_writes_the_page_from_a_copy_of_the_runs(tmp_path):
    """``python -m eoretrieval.results OUT --runs-dir COPY`` on the repository's own studies."""
    import json
    import shutil

    from eoretrieval import results, run

    runs = tmp_path / "runs"
    for nb in run.discover():
        src = repo_root() / "runs" / nb.stem / "metrics.json"
        (runs / nb.stem).mkdir(parents=True)
        if src.exists():
            shutil.copy(src, runs / nb.stem / "metrics.json")
        else:
            (runs / nb.stem / "metrics.json").write_text(json.dumps({"provenance": {"git_commit": "abc"}}))
    out = tmp_path / "results.md"
    assert results.main([str(out), "--runs-dir", str(runs)]) == 0
    page = out.read_text()
    declared = results.declared_targets()
    for nb in run.discover():
        title = results.notebook_sections(nb).title
        assert f"## {title}" in page, f"study {nb.stem} missing from the Results page"
        for target in declared.get(nb.stem, ("", []))[1]:
            assert target.name.replace("|", "\\|") in page
    # edit one study's metrics: the page follows
    stem = next(iter(declared), None)
    if stem and (runs / stem).exists():
        (runs / stem / "metrics.json").write_text(json.dumps({"provenance": {"git_commit": "feedface00"}}))
        results.main([str(out), "--runs-dir", str(runs)])
        assert "feedface00" in out.read_text()


def test_slugs_match_myst():
    from myst_parser.mdit_to_docutils.base import default_slugify

    from eoretrieval.results import slugify

    for title in ("4. Scores on the held-out days", "Sensitivity to noise, clouds & wind (±20 %)", "What's next",
                  "NOx: 2019–2021 trend"):
        assert slugify(title) == default_slugify(title)


def test_effective_toc_leaves_out_unexecuted_chapters(tmp_path):
    root = tmp_path
    (root / "book" / "notebooks").mkdir(parents=True)
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Studies\n    chapters:\n"
        "      - file: book/notebooks/00_a\n      - file: book/notebooks/01_b\n")
    (root / "book" / "notebooks" / "00_a.ipynb").write_text("{}")
    toc, dropped = book.effective_toc(root, allow_missing=True)
    assert dropped == ["book/notebooks/01_b"]
    chapters = yaml.safe_load(toc.read_text())["parts"][0]["chapters"]
    assert chapters == [{"file": "book/notebooks/00_a"}]
    assert book.effective_toc(root, allow_missing=False) == (root / "book" / "_toc.yml", [])
