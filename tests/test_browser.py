"""The built book opened in a real browser (headless Chromium through selenium).

Every HTML page of ``_build/html`` is served over a local HTTP server and loaded once; the test then
checks what a reader's browser meets: no JavaScript error and no failed resource load in the browser
log, nothing fetched from outside the book (it must work offline), every equation typeset by MathJax,
every image decoded with a non-zero size, the search page finding each study by its title, and the
Results page listing every study.

Chromium and its WebDriver come from Debian (``make browser``, a prerequisite of ``make test``). Without
them the tests skip, unless ``EORETRIEVAL_REQUIRE_BROWSER=1`` (set by ``make test``), where they fail.
The book is built (or found up to date) by :func:`eoretrieval.book.build`; set
``EORETRIEVAL_BOOK_HTML=<dir>`` to check an already built ``html`` folder instead.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yaml

from eoretrieval.config import repo_root

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE = os.environ.get("EORETRIEVAL_REQUIRE_BROWSER", "") not in ("", "0")
PAGE_TIMEOUT_S = 30


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        msg = f"headless Chromium not available ({', '.join(missing)} missing): run `make browser`"
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)


# --------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def html_dir() -> Path:
    given = os.environ.get("EORETRIEVAL_BOOK_HTML")
    if given:
        return Path(given).resolve()
    from eoretrieval import book

    return book.build(profile="ci").parent


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def driver():
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="eoretrieval-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1024", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(PAGE_TIMEOUT_S)
    drv.set_script_timeout(PAGE_TIMEOUT_S)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


def book_pages(html_dir: Path) -> list[str]:
    """Every HTML page of the book (relative paths), theme assets under ``_static`` excluded."""
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if "_static" not in p.relative_to(html_dir).parts)


# What the browser reports for one page, gathered once per page (all in the page's own JavaScript).
_INSPECT = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const out = {};
  try {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  } catch (e) { out.mathjax_error = String(e); }
  out.mathjax_loaded = !!(window.MathJax && MathJax.version);
  const math = Array.from(document.querySelectorAll('.math'));
  out.n_math = math.length;
  out.untypeset = math.filter(m => !m.querySelector('mjx-container, .MathJax, svg'))
                      .map(m => m.textContent.trim().slice(0, 80));
  out.math_errors = [];
  try {
    for (const item of (window.MathJax && MathJax.startup && MathJax.startup.document
                        ? Array.from(MathJax.startup.document.math) : [])) {
      const err = item.typesetRoot && item.typesetRoot.querySelector('mjx-merror');
      if (err) out.math_errors.push((err.getAttribute('data-mjx-error') || err.textContent) + ' in: ' +
                                    String(item.math).slice(0, 120));
    }
  } catch (e) { out.math_errors.push('could not list MathJax items: ' + e); }
  if (!out.math_errors.length)
    out.math_errors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80));
  const imgs = Array.from(document.images);
  await Promise.allSettled(imgs.map(i => { i.loading = 'eager'; return i.decode(); }));
  out.n_images = imgs.length;
  out.bad_images = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src);
  out.resources = performance.getEntriesByType('resource').map(r => r.name)
                    .concat(Array.from(document.querySelectorAll('script[src], link[href][rel=stylesheet]'))
                            .map(e => e.src || e.href));
  done(out);
})();
"""


@pytest.fixture(scope="module")
def visits(driver, server, html_dir) -> dict[str, dict]:
    """Load every page once; return ``{page: {"log": [...], "n_math": ..., ...}}``."""
    driver.get(f"{server}/index.html")  # warm up; start every page with an empty log
    driver.get_log("browser")
    out = {}
    for page in book_pages(html_dir):
        t0 = time.perf_counter()
        driver.get(f"{server}/{quote(page)}")
        record = driver.execute_async_script(_INSPECT)
        record["log"] = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        record["seconds"] = time.perf_counter() - t0
        out[page] = record
    report = Path(os.environ.get("EORETRIEVAL_BROWSER_REPORT", html_dir.parent / "browser-report.json"))
    report.write_text(json.dumps(out, indent=1, default=str))
    return out


def _fail_report(problems: dict[str, list], what: str) -> str:
    lines = [f"{len(problems)} page(s) with {what}:"]
    for page, items in sorted(problems.items()):
        lines.append(f"  {page}:")
        lines += [f"    - {str(x)[:300]}" for x in items[:5]]
        if len(items) > 5:
            lines.append(f"    ... and {len(items) - 5} more")
    return "\n".join(lines)


def _toc_notebooks() -> list[str]:
    toc = (repo_root() / "book" / "_toc.yml").read_text()
    files, stack = [], [yaml.safe_load(toc)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack += list(node.values())
            if str(node.get("file", "")).startswith("book/notebooks/"):
                files.append(node["file"])
        elif isinstance(node, list):
            stack += node
    return sorted(files)


def _study_titles(html_dir: Path) -> dict[str, str]:
    """``{toc file: notebook title}`` for every study chapter that was rendered."""
    from eoretrieval.results import notebook_sections

    out = {}
    for f in _toc_notebooks():
        stem = Path(f).name
        if not (html_dir / f"{f}.html").exists():
            continue
        nb = repo_root() / "book" / "notebooks" / f"{stem}.ipynb"
        if not nb.exists():
            nb = repo_root() / "notebooks" / f"{stem}.ipynb"
        out[f] = notebook_sections(nb).title or stem
    return out


# ------------------------------------------------------------------------------------------------ tests
def test_every_page_loaded(visits, html_dir):
    assert len(visits) == len(book_pages(html_dir)) >= 5
    assert "index.html" in visits and "search.html" in visits


def test_no_javascript_error_or_failed_load(visits):
    problems = {page: [e["message"] for e in v["log"]] for page, v in visits.items() if v["log"]}
    assert not problems, _fail_report(problems, "errors in the browser log (JavaScript errors, failed loads)")


def test_nothing_fetched_from_outside_the_book(visits, server):
    host = urlsplit(server).netloc
    problems = {}
    for page, v in visits.items():
        external = sorted({r for r in v["resources"] if urlsplit(r).scheme in ("http", "https")
                           and urlsplit(r).netloc != host})
        if external:
            problems[page] = external
    assert not problems, _fail_report(problems, "resources fetched from outside the book (fails offline)")


def test_every_equation_typeset(visits):
    problems = {}
    for page, v in visits.items():
        items = []
        if v["n_math"] and not v["mathjax_loaded"]:
            items.append(f"{v['n_math']} equations but MathJax did not load")
        items += [f"raw TeX left: {t}" for t in v["untypeset"]]
        items += [f"MathJax error: {t}" for t in v["math_errors"]]
        if v.get("mathjax_error"):
            items.append(v["mathjax_error"])
        if items:
            problems[page] = items
    assert not problems, _fail_report(problems, "equations not typeset")
    assert sum(v["n_math"] for v in visits.values()) > 0, "the book should contain equations"


def test_every_image_decoded(visits):
    problems = {page: [f"not decoded: {s}" for s in v["bad_images"]] for page, v in visits.items() if v["bad_images"]}
    assert not problems, _fail_report(problems, "images that did not decode")
    assert sum(v["n_images"] for v in visits.values()) > 0, "the book should contain figures"


def _search(driver, server, query: str) -> list[str]:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{server}/search.html?q={quote(query)}")
    WebDriverWait(driver, PAGE_TIMEOUT_S).until(lambda d: d.execute_script(
        "const s = document.querySelector('#search-results p.search-summary, #search-results .search-summary');"
        "return s && s.textContent.trim().length > 0 && !/Preparing search/.test(s.textContent);"))
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
        ".map(a => new URL(a.getAttribute('href'), location.href).pathname);")


def test_search_finds_each_study_by_name(driver, server, html_dir):
    titles = _study_titles(html_dir)
    assert titles, "no study chapter rendered"
    missing = {}
    for f, title in titles.items():
        hits = _search(driver, server, title)
        if not any(h.endswith(f"/{f}.html") for h in hits):
            missing[f] = [f"search for {title!r} gave {len(hits)} hits, none is the chapter: {hits[:5]}"]
    assert not missing, _fail_report(missing, "studies the search page does not find")


def test_results_page_lists_every_study(driver, server, html_dir):
    page = html_dir / "book" / "results.html"
    assert page.exists(), "no Results page (book/results.md) in the book"
    driver.get(f"{server}/book/results.html")
    text = driver.find_element("tag name", "main").text
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('main a')).map(a => new URL(a.href).pathname);")
    problems = {}
    for f, title in _study_titles(html_dir).items():
        items = []
        if title not in text:
            items.append(f"title {title!r} not on the page")
        if not any(link.endswith(f"/{f}.html") for link in links):
            items.append("no link to the chapter")
        if items:
            problems[f] = items
    assert not problems, _fail_report(problems, "studies missing from the Results page")
    assert "Results at a glance" in text
