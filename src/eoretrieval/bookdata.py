"""Generate the book's Data page from ``catalog.yml``: ``python -m eoretrieval.bookdata [out.md]``.

The page lists every catalog entry (shipped sample or full archive) with its description, provenance,
licence, reader and location, so the book's data inventory can never drift from the catalog.

Public names: :func:`render_data_page`, :func:`main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .config import repo_root
from .io.catalog import describe_catalog, open_catalog
from .provenance import atomic_write_text

__all__ = ["render_data_page", "main"]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_data_page(catalog=None) -> str:
    """Return the Markdown of the Data page for ``catalog`` (default: the repository's)."""
    cat = catalog if catalog is not None else open_catalog()
    table = describe_catalog(cat)
    lines = [
        "# Data",
        "",
        "This page is generated from `catalog.yml` by `python -m eoretrieval.bookdata`; do not edit it by hand.",
        "Open any entry with `eoretrieval.io.open_entry(<entry>)`: the reader checks variables and units and "
        "fails with a message naming the file and what was expected.",
        "",
    ]
    for kind, title, note in (
        ("sample", "Shipped real samples", "Small real samples in `data/`, each folder with a `SOURCE.md` "
         "(origin, producer, licence, subsetting). Opened by the tests and by the \"ci\" profile."),
        ("archive", "Full public archives", "The archives the samples come from. Same readers; never opened in "
         "tests or the \"ci\" profile (no network there)."),
    ):
        rows = table[table["kind"] == kind]
        lines += [f"## {title}", "", note, "",
                  "| entry | study | description | provenance | licence | reader | location |",
                  "|---|---|---|---|---|---|---|"]
        for _, r in rows.iterrows():
            loc = f"`{r['location']}`" if kind == "sample" else f"<{r['location']}>"
            lines.append("| " + " | ".join(_cell(x) for x in (f"`{r['entry']}`", r["study"], r["description"],
                                                                r["provenance"], r["licence"], f"`{r['reader']}`")) +
                         f" | {loc} |")
        lines.append("")
    lines += ["## Generated data", "",
              "Synthetic worlds (OSSEs) are generated on first use, deterministically from a seed, into "
              "`data/cache/` (or `$EORETRIEVAL_CACHE`); they are not committed.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the Data page (default ``book/data.md``)."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else repo_root() / "book" / "data.md"
    atomic_write_text(out, render_data_page())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
