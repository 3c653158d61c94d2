"""Study targets, declared once in code and checked against a run's ``metrics.json``.

A :class:`Target` names a quantity of ``metrics.json`` (a dotted path such as
``"methods.vae.coverage90"``, or a function of the whole metrics dictionary, e.g. built with
:func:`ratio`), a comparison and a threshold. Each domain package declares its targets in
``eoretrieval.<domain>.targets`` as ``TARGETS: dict[str, list[Target]]`` keyed by notebook stem; the
notebooks print them with :func:`targets_table` and the book's Results page
(``python -m eoretrieval.results``) evaluates them for every study.

Examples
--------
>>> t = Target("UNet RMSE <= 0.6x flux divergence", ratio("rmse.unet", "rmse.fd"), "<=", 0.6)
>>> r = t.evaluate({"rmse": {"unet": 0.5, "fd": 1.0}})
>>> r.measured, r.met
(0.5, True)
>>> Target("coverage in band", "cov", "between", (0.85, 0.95)).evaluate({"cov": 0.97}).met
False
>>> Target("absent", "nope.x", ">=", 1.0).evaluate({}).met is None
True

Public names: :class:`Target`, :class:`TargetResult`, :func:`ratio`, :func:`evaluate_targets`,
:func:`targets_table`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Target", "TargetResult", "ratio", "lookup", "evaluate_targets", "targets_table", "status_text", "OPS"]

#: Comparison operators a target may use.
OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}
_ALL_OPS = (*OPS, "between")


def lookup(metrics: Mapping, path: str):
    """Return the value at dotted ``path`` in the nested mapping ``metrics``; ``None`` when absent.

    List elements may be addressed by integer index (``"scores.0.rmse"``).

    Examples
    --------
    >>> lookup({"a": {"b": [1.5, 2.5]}}, "a.b.1")
    2.5
    >>> lookup({"a": {}}, "a.b") is None
    True
    """
    node = metrics
    for part in path.split("."):
        if isinstance(node, Mapping):
            if part not in node:
                return None
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.lstrip("-").isdigit():
            idx = int(part)
            if not -len(node) <= idx < len(node):
                return None
            node = node[idx]
        else:
            return None
    return node


def _as_float(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"target {what!r}: metrics value {value!r} is not a number")
    out = float(value)
    return None if math.isnan(out) else out


def ratio(num: str, den: str) -> Callable[[dict], float | None]:
    """Return a function of the metrics dictionary giving ``metrics[num] / metrics[den]`` (dotted paths).

    The function returns ``None`` when either value is absent or the denominator is zero.

    Examples
    --------
    >>> ratio("a.x", "b")({"a": {"x": 3.0}, "b": 4.0})
    0.75
    >>> ratio("a.x", "b")({"b": 4.0}) is None
    True
    """
    def _ratio(metrics: dict) -> float | None:
        n = _as_float(lookup(metrics, num), num)
        d = _as_float(lookup(metrics, den), den)
        if n is None or d is None or d == 0.0:
            return None
        return n / d

    _ratio.__name__ = f"ratio({num}/{den})"
    _ratio.description = f"{num} / {den}"
    return _ratio


@dataclass(frozen=True)
class TargetResult:
    """A target evaluated on one run: the measured value and whether it is met (``None``: not measured)."""

    target: "Target"
    measured: float | None
    met: bool | None


@dataclass(frozen=True)
class Target:
    """One study target: ``measure(metrics) <op> threshold``.

    Parameters
    ----------
    name : str
        Short human text, e.g. ``"SmaAt-UNet RMSE <= 0.6x flux divergence (0.25 deg daily)"``.
    value : str or callable
        Dotted path into ``metrics.json`` (``"methods.vae.coverage90"``) or a function of the metrics
        dictionary returning a float (or ``None`` when it cannot be computed), e.g. :func:`ratio`.
    op : {"<=", ">=", "<", ">", "between"}
        Comparison; ``"between"`` is inclusive on both ends.
    threshold : float or (float, float)
        The bound, or ``(low, high)`` for ``"between"``.
    section : str
        Anchor or label of the notebook section that shows the quantity (used for the link).
    units : str
        Units of the measured value (UDUNITS spelling, ``""`` for dimensionless).

    Raises
    ------
    ValueError
        Unknown ``op``, or a threshold of the wrong shape for ``op``.
    TypeError
        ``value`` is neither a string nor a callable.
    """

    name: str
    value: str | Callable[[dict], float]
    op: str
    threshold: float | tuple[float, float]
    section: str = ""
    units: str = ""

    def __post_init__(self):
        if self.op not in _ALL_OPS:
            raise ValueError(f"target {self.name!r}: op must be one of {_ALL_OPS}, got {self.op!r}")
        if not (isinstance(self.value, str) or callable(self.value)):
            raise TypeError(f"target {self.name!r}: value must be a dotted path or a callable, "
                            f"got {type(self.value).__name__}")
        if self.op == "between":
            th = self.threshold
            if not (isinstance(th, (tuple, list)) and len(th) == 2 and float(th[0]) <= float(th[1])):
                raise ValueError(f"target {self.name!r}: 'between' needs threshold (low, high) with low <= high, "
                                 f"got {th!r}")
            object.__setattr__(self, "threshold", (float(th[0]), float(th[1])))
        else:
            if isinstance(self.threshold, (tuple, list)):
                raise ValueError(f"target {self.name!r}: op {self.op!r} needs one number, got {self.threshold!r}")
            object.__setattr__(self, "threshold", float(self.threshold))

    @property
    def source(self) -> str:
        """Human text for where the value comes from (the dotted path or the function's description)."""
        if isinstance(self.value, str):
            return self.value
        return getattr(self.value, "description", getattr(self.value, "__name__", "computed"))

    @property
    def requirement(self) -> str:
        """The comparison as text, e.g. ``"<= 0.6"`` or ``"in [0.85, 0.95]"``."""
        unit = f" {self.units}" if self.units else ""
        if self.op == "between":
            lo, hi = self.threshold
            return f"in [{lo:g}, {hi:g}]{unit}"
        return f"{self.op} {self.threshold:g}{unit}"

    def measure(self, metrics: dict) -> float | None:
        """Return the measured value from ``metrics``, or ``None`` when the key is absent (or null/NaN).

        Raises
        ------
        TypeError
            The value at the path is not a number.
        """
        raw = lookup(metrics, self.value) if isinstance(self.value, str) else self.value(metrics)
        return _as_float(raw, self.source)

    def evaluate(self, metrics: dict) -> TargetResult:
        """Measure and compare; ``met`` is ``None`` when the value is absent."""
        measured = self.measure(metrics)
        if measured is None:
            return TargetResult(self, None, None)
        if self.op == "between":
            lo, hi = self.threshold
            met = lo <= measured <= hi
        else:
            met = OPS[self.op](measured, self.threshold)
        return TargetResult(self, measured, bool(met))


def evaluate_targets(metrics: dict, targets: list[Target]) -> list[TargetResult]:
    """Evaluate every target on ``metrics`` (in order)."""
    return [t.evaluate(metrics) for t in targets]


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    return f"{x:.3e}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def status_text(result: TargetResult) -> str:
    """``"met"``, ``"missed"`` or ``"not measured"``."""
    return {True: "met", False: "missed", None: "not measured"}[result.met]


def targets_table(results: list[TargetResult], *, link: Callable[[Target], str] | None = None,
                  kind: str = "target") -> str:
    """Return a Markdown table: target, required, measured, met/missed (and a link column when ``link``).

    Parameters
    ----------
    results : list of TargetResult
    link : callable, optional
        Maps a target to a Markdown link (e.g. to the notebook section); adds a "shown in" column.
    kind : {"target", "control"}
        Controls are checks, not targets: the first column is headed "control" and they pass or fail.

    Examples
    --------
    >>> print(targets_table([Target("bias small", "bias", "<", 0.1, units="K").evaluate({"bias": 0.05})]))
    | target | required | measured | status |
    |---|---|---|---|
    | bias small | < 0.1 K | 0.05 | ✅ met |
    """
    icon = {True: "✅ ", False: "❌ ", None: ""}
    if kind not in ("target", "control"):
        raise ValueError(f"targets_table: kind {kind!r}; expected 'target' or 'control'")
    words = {True: "passed", False: "failed", None: "not measured"}
    header = [kind, "required", "measured", "status"] + (["shown in"] if link else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        t = r.target
        status = status_text(r) if kind == "target" else words[r.met]
        row = [_cell(t.name), _cell(t.requirement), _fmt(r.measured), icon[r.met] + status]
        if link:
            row.append(link(t))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
