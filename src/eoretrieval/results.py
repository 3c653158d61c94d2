"""Generate the book's "Results at a glance" page: ``python -m eoretrieval.results [out.md] [--runs-dir DIR]``.

For every study notebook (``notebooks/NN_name.ipynb``) the page evaluates the study's declared targets
(``TARGETS[stem]`` of ``eoretrieval.<domain>.targets`` for each domain in :data:`DOMAINS`; its controls, checks that
are not targets, from ``CONTROLS[stem]`` where declared) on the run's
``runs/<stem>/metrics.json`` and lists, per target, the requirement, the measured value, met or missed,
and a link to the notebook section that shows it, with the commit, profile and seed of the run (read from
the ``provenance`` block written by :func:`eoretrieval.provenance.write_metrics`). Nothing on the page is
typed by hand: it is rewritten at every book build (``python -m eoretrieval.book``).

A target's ``section`` may be an explicit MyST label of the notebook (a ``(label)=`` line), a heading's
text (with or without its number, e.g. ``"4. Scores on the held-out days"`` or ``"Scores on the
held-out days"``) or a heading slug (``"4-scores-on-the-held-out-days"``). A section that cannot be found
is reported on the page and on stderr, and the link points to the chapter.

Public names: :data:`DOMAINS`, :class:`Study`, :func:`declared_targets`, :func:`collect`,
:func:`render_results_page`, :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import repo_root
from .provenance import atomic_write_text
from .targets import Target, TargetResult, evaluate_targets, targets_table

__all__ = ["DOMAINS", "Study", "declared_targets", "collect", "render_results_page", "main",
           "notebook_sections", "slugify"]

#: Domain packages whose ``targets`` module declares study targets.
DOMAINS = ("nox", "rain", "carbon")

#: Heading depth that gets link anchors (``myst_heading_anchors`` in ``_config.yml``).
HEADING_ANCHOR_DEPTH = 3

_LABEL = re.compile(r"^\(([^()\s]+)\)=\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SLUG_CLEAN = re.compile(r"[^\w\u4e00-\u9fff\- ]")


def slugify(title: str) -> str:
    """Heading slug as MyST computes it (GitHub style: lower case, spaces to ``-``, punctuation dropped).

    Examples
    --------
    >>> slugify("4. Scores on the held-out days")
    '4-scores-on-the-held-out-days'
    """
    return _SLUG_CLEAN.sub("", title.lower().replace(" ", "-"))


def _plain(md: str) -> str:
    """Rendered text of inline Markdown (links to their text, code/emphasis markers dropped)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", md)
    text = re.sub(r"\{[a-z:]+\}`([^`]*)`", r"\1", text)
    return text.replace("`", "").replace("**", "").replace("*", "")


@dataclass
class Sections:
    """Link targets of one notebook: explicit labels and heading ``(text, slug)`` in document order."""

    title: str = ""
    labels: list[str] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)

    def resolve(self, section: str) -> tuple[str, str] | None:
        """Return ``("label", label)`` or ``("slug", slug)`` for ``section``; ``None`` if not found."""
        if not section:
            return None
        if section in self.labels:
            return "label", section
        key = section.lstrip("#").strip()
        for text, slug in self.headings:
            if key == slug:
                return "slug", slug
        unnumbered = re.compile(r"^\d+[.)]?\s+")
        wanted = slugify(unnumbered.sub("", key))
        for text, slug in self.headings:
            if wanted in (slugify(text), slugify(unnumbered.sub("", text))):
                return "slug", slug
        for text, slug in self.headings:
            if re.sub(r"^\d+-", "", slug) == key:
                return "slug", slug
        return None


def notebook_sections(notebook: Path) -> Sections:
    """Read a notebook's title, explicit labels and heading slugs (unique, as MyST makes them)."""
    nb = json.loads(Path(notebook).read_text())
    out, seen = Sections(), set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        fence = False
        for line in src.splitlines():
            if line.lstrip().startswith(("```", "~~~", ":::")):
                fence = not fence
                continue
            if fence:
                continue
            m = _LABEL.match(line)
            if m:
                out.labels.append(m.group(1))
                continue
            m = _HEADING.match(line)
            if not m:
                continue
            text = _plain(m.group(2))
            if len(m.group(1)) == 1 and not out.title:
                out.title = text
            if len(m.group(1)) > HEADING_ANCHOR_DEPTH:
                continue
            slug, i = slugify(text), 0
            while slug in seen:
                i += 1
                slug = f"{slugify(text)}-{i}"
            seen.add(slug)
            out.headings.append((text, slug))
    return out


def declared_targets(domains: tuple[str, ...] = DOMAINS, *, attr: str = "TARGETS",
                     optional: bool = False) -> dict[str, tuple[str, list[Target]]]:
    """Import ``eoretrieval.<domain>.targets`` for each domain that has one; return ``{stem: (domain, targets)}``.

    ``attr="CONTROLS", optional=True`` reads the studies' declared controls instead (checks whose rule the chapter
    fixed before scoring them; a module without ``CONTROLS`` declares none).

    Raises
    ------
    ValueError
        Two domains declare targets for the same notebook, or ``attr`` is not a dict of lists of Target.
    """
    out: dict[str, tuple[str, list[Target]]] = {}
    for domain in domains:
        name = f"eoretrieval.{domain}.targets"
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name in (f"eoretrieval.{domain}", name):
                continue
            raise
        table = getattr(mod, attr, None)
        if table is None and optional:
            continue
        if not isinstance(table, dict):
            raise ValueError(f"{name}.{attr} must be a dict {{notebook stem: [Target, ...]}}, got {type(table).__name__}")
        for stem, targets in table.items():
            if not all(isinstance(t, Target) for t in targets):
                raise ValueError(f"{name}.{attr}[{stem!r}] must be a list of eoretrieval.targets.Target")
            if stem in out:
                raise ValueError(f"{attr} for {stem!r} declared twice: eoretrieval.{out[stem][0]}.targets and {name}")
            out[stem] = (domain, list(targets))
    return out


@dataclass
class Study:
    """One study on the page: its notebook, its run's metrics (or ``None``) and its evaluated targets."""

    stem: str
    title: str
    domain: str | None
    metrics_path: Path
    metrics: dict | None
    results: list[TargetResult] | None
    sections: Sections
    in_book: bool
    error: str = ""
    has_notebook: bool = True
    controls: list[TargetResult] | None = None

    @property
    def provenance(self) -> dict:
        return (self.metrics or {}).get("provenance", {}) or {}

    @property
    def commit(self) -> str:
        commit = self.provenance.get("git_commit") or ""
        dirty = commit.endswith("+dirty")
        commit = commit.removesuffix("+dirty")
        return (commit[:10] + (" (uncommitted changes)" if dirty else "")) if commit else "unknown"

    @property
    def profile(self) -> str:
        params = self.provenance.get("parameters", {}) or {}
        return str(params.get("profile", (self.metrics or {}).get("profile", "unknown")))

    @property
    def seed(self) -> str:
        params = self.provenance.get("parameters", {}) or {}
        return str(params.get("seed", (self.metrics or {}).get("seed", "unknown")))


def _toc_files(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                yield str(value)
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def collect(*, root: Path | None = None, runs_dir: Path | None = None,
            targets: dict[str, tuple[str, list[Target]]] | None = None,
            toc_path: Path | None = None,
            controls: dict[str, tuple[str, list[Target]]] | None = None) -> list[Study]:
    """Gather every study: notebooks under ``notebooks/`` plus any stem that has declared targets.

    Parameters
    ----------
    root : Path, optional
        Repository root (default :func:`eoretrieval.config.repo_root`).
    runs_dir : Path, optional
        Folder holding ``<stem>/metrics.json`` (default ``<root>/runs``).
    targets : dict, optional
        ``{stem: (domain, [Target, ...])}``; default :func:`declared_targets`.
    toc_path : Path, optional
        Table of contents of the build (default ``<root>/book/_toc.yml``): only chapters in it are linked.
    controls : dict, optional
        ``{stem: (domain, [Target, ...])}`` of the studies' controls; default the declared ``CONTROLS`` when
        ``targets`` is not given, none otherwise.
    """
    root = Path(root or repo_root())
    runs_dir = Path(runs_dir or root / "runs")
    if controls is None:
        controls = declared_targets(attr="CONTROLS", optional=True) if targets is None else {}
    targets = declared_targets() if targets is None else targets
    toc_path = Path(toc_path or root / "book" / "_toc.yml")
    toc = set(_toc_files(yaml.safe_load(toc_path.read_text()))) if toc_path.exists() else set()
    stems = sorted({p.stem for p in (root / "notebooks").glob("*.ipynb")} | set(targets))
    studies = []
    for stem in stems:
        executed, source = root / "book" / "notebooks" / f"{stem}.ipynb", root / "notebooks" / f"{stem}.ipynb"
        nb = executed if executed.exists() else source
        sections = notebook_sections(nb) if nb.exists() else Sections()
        metrics_path = runs_dir / stem / "metrics.json"
        metrics, error = None, ""
        if metrics_path.exists():
            try:
                metrics = json.loads(metrics_path.read_text())
            except json.JSONDecodeError as err:
                error = f"unreadable metrics file {metrics_path}: {err}"
        domain, declared = targets.get(stem, (None, None))
        results = None
        if declared is not None and metrics is not None:
            results = evaluate_targets(metrics, declared)
        elif declared is not None:
            results = [TargetResult(t, None, None) for t in declared]
        checks = controls.get(stem, (None, None))[1]
        control_results = None if checks is None else (
            evaluate_targets(metrics, checks) if metrics is not None else [TargetResult(t, None, None) for t in checks])
        studies.append(Study(stem=stem, title=sections.title or stem, domain=domain, metrics_path=metrics_path,
                             metrics=metrics, results=results, sections=sections,
                             in_book=f"book/notebooks/{stem}" in toc and source.exists(), error=error,
                             has_notebook=source.exists(), controls=control_results))
    return studies


def _link(study: Study, target: Target, missing: list[str]) -> str:
    if not study.in_book:
        return f"`notebooks/{study.stem}.ipynb`"
    where = study.sections.resolve(target.section)
    if where is None:
        if target.section:
            missing.append(f"{study.stem}: section {target.section!r} of target {target.name!r} not found")
            return f"[chapter](notebooks/{study.stem}.ipynb) (section “{target.section}” not found)"
        return f"[chapter](notebooks/{study.stem}.ipynb)"
    kind, ref = where
    if kind == "label":
        return f"{{ref}}`section <{ref}>`"
    text = next(t for t, s in study.sections.headings if s == ref)
    short = re.match(r"^(\d+)[.)]?\s", text)
    return f"[§{short.group(1)}](notebooks/{study.stem}.ipynb#{ref})" if short else \
        f"[{text.replace('[', '').replace(']', '')}](notebooks/{study.stem}.ipynb#{ref})"


def _count(results: list[TargetResult] | None) -> tuple[int, int, int]:
    results = results or []
    return (sum(r.met is True for r in results), sum(r.met is False for r in results),
            sum(r.met is None for r in results))


def _summary(results: list[TargetResult] | None) -> str:
    if results is None:
        return "no targets declared"
    n_met, n_missed, n_none = _count(results)
    parts = [f"{n_met} met", f"{n_missed} missed"] + ([f"{n_none} not measured"] if n_none else [])
    return f"{len(results)} target{'s' if len(results) != 1 else ''}: " + ", ".join(parts)


def render_results_page(studies: list[Study] | None = None, *, root: Path | None = None,
                        warn: bool = True) -> str:
    """Return the Markdown of the Results page (default: every study of the repository)."""
    root = Path(root or repo_root())
    studies = collect(root=root) if studies is None else studies
    missing: list[str] = []

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.name

    def chapter(s: Study) -> str:
        return f"[{s.title}](notebooks/{s.stem}.ipynb)" if s.in_book else s.title

    lines = [
        "# Results at a glance",
        "",
        "Every study's targets, checked against its latest run. This page is generated at book build time by "
        "`python -m eoretrieval.results` from each run's `runs/<study>/metrics.json` and the targets declared in "
        "the study's code (`eoretrieval.<domain>.targets`); do not edit it by hand. A target is *not measured* "
        "when the run did not write the metric it needs. Below each study's targets, its *controls*: checks of "
        "what the headline numbers measure (a baseline the result must beat, information it must not be using), "
        "whose rule the chapter fixed before scoring them; they are not targets and do not count among them.",
        "",
        "| study | targets | run (profile, seed, commit) |",
        "|---|---|---|",
    ]
    for s in studies:
        if s.metrics is None:
            run = ("not run" if s.has_notebook else "no notebook yet") if not s.error else "unreadable metrics"
        else:
            run = f"{s.profile}, seed {s.seed}, `{s.commit}`"
        lines.append(f"| {chapter(s)} | {_summary(s.results)} | {run} |")
    lines.append("")
    for s in studies:
        lines += [f"## {s.title}", ""]
        meta = [f"Notebook `notebooks/{s.stem}.ipynb`" if s.has_notebook else
                f"No notebook yet (`notebooks/{s.stem}.ipynb`)"]
        if s.metrics is not None:
            meta.append(f"metrics `{rel(s.metrics_path)}`")
            meta.append(f"profile **{s.profile}**, seed {s.seed}, commit `{s.commit}`")
        lines += ["; ".join(meta) + ".", ""]
        if s.error:
            lines += [f"**Error:** {s.error}", ""]
        elif s.metrics is None and s.has_notebook:
            lines += [f"**Not run:** `{rel(s.metrics_path)}` is missing; run "
                      f"`python -m eoretrieval.run {s.stem}`.", ""]
        if s.results is None:
            lines += ["No targets declared for this study.", ""]
        else:
            lines += [f"{_summary(s.results).capitalize()} (declared in `eoretrieval.{s.domain}.targets`).", "",
                      targets_table(s.results, link=lambda t, s=s: _link(s, t, missing)), ""]
        if s.controls:
            n_pass, n_fail, n_none = _count(s.controls)
            lines += [f"**Controls** (not targets: checks of what the headline numbers measure, whose rule the chapter "
                      f"fixed before scoring them): {n_pass} passed, {n_fail} failed"
                      + (f", {n_none} not measured" if n_none else "") + ".", "",
                      targets_table(s.controls, link=lambda t, s=s: _link(s, t, missing), kind="control"), ""]
    if warn:
        for msg in missing:
            print(f"warning: results page: {msg}", file=sys.stderr)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the Results page (default ``book/results.md``)."""
    ap = argparse.ArgumentParser(prog="python -m eoretrieval.results", description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=None, help="output Markdown file (default book/results.md)")
    ap.add_argument("--runs-dir", default=None, help="folder of <study>/metrics.json (default runs/)")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    root = repo_root()
    out = Path(args.out) if args.out else root / "book" / "results.md"
    studies = collect(root=root, runs_dir=Path(args.runs_dir) if args.runs_dir else None)
    atomic_write_text(out, render_results_page(studies, root=root))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
