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
