"""Tests of eoretrieval.targets: hand-made metrics with known answers, edge cases, bad declarations."""

import importlib

import pytest

from eoretrieval.targets import (Target, TargetResult, evaluate_targets, lookup, ratio, status_text,
                                 targets_table)

METRICS = {
    "methods": {"vae": {"coverage90": 0.88, "rmse": 0.3}, "fd": {"rmse": 0.6}},
    "scores": [{"r2": 0.7}, {"r2": 0.9}],
    "nan_metric": None,
    "text": "hello",
    "provenance": {"git_commit": "abc"},
}


def test_lookup_nested_and_indexed():
    assert lookup(METRICS, "methods.vae.coverage90") == 0.88
    assert lookup(METRICS, "scores.1.r2") == 0.9
    assert lookup(METRICS, "scores.-1.r2") == 0.9
    assert lookup(METRICS, "scores.5.r2") is None
    assert lookup(METRICS, "methods.unet.rmse") is None
    assert lookup(METRICS, "methods.vae.coverage90.deeper") is None


@pytest.mark.parametrize("op,threshold,expected", [
    ("<=", 0.88, True), ("<", 0.88, False), (">=", 0.88, True), (">", 0.88, False),
    ("<=", 0.5, False), (">", 0.5, True), ("between", (0.85, 0.95), True), ("between", (0.89, 0.95), False),
    ("between", (0.80, 0.88), True),
])
def test_operators(op, threshold, expected):
    r = Target("cov", "methods.vae.coverage90", op, threshold).evaluate(METRICS)
    assert isinstance(r, TargetResult)
    assert r.measured == pytest.approx(0.88)
    assert r.met is expected


def test_ratio_known_answer_and_missing():
    t = Target("VAE RMSE <= 0.6x FD", ratio("methods.vae.rmse", "methods.fd.rmse"), "<=", 0.6)
    r = t.evaluate(METRICS)
    assert r.measured == pytest.approx(0.5)
    assert r.met is True
    assert "methods.vae.rmse / methods.fd.rmse" in t.source
    assert ratio("methods.vae.rmse", "methods.none.rmse")(METRICS) is None
    assert ratio("methods.vae.rmse", "zero")({"methods": {"vae": {"rmse": 1.0}}, "zero": 0}) is None


def test_callable_value():
    t = Target("sum", lambda m: m["methods"]["vae"]["rmse"] + m["methods"]["fd"]["rmse"], "<", 1.0)
    assert t.evaluate(METRICS).measured == pytest.approx(0.9)
    assert t.evaluate(METRICS).met is True


def test_absent_or_null_is_not_measured():
    for path in ("methods.unet.rmse", "nan_metric"):
        r = Target("absent", path, ">=", 0.0).evaluate(METRICS)
        assert r.measured is None and r.met is None
        assert status_text(r) == "not measured"
    assert Target("nan", "x", "<", 1.0).evaluate({"x": float("nan")}).met is None


def test_non_numeric_value_raises():
    with pytest.raises(TypeError, match="text"):
        Target("bad", "text", "<", 1.0).measure(METRICS)
    with pytest.raises(TypeError, match="not a number"):
        Target("bool", "flag", "<", 1.0).measure({"flag": True})


@pytest.mark.parametrize("kwargs,err", [
    (dict(op="==", threshold=1.0), ValueError),
    (dict(op="between", threshold=1.0), ValueError),
    (dict(op="between", threshold=(2.0, 1.0)), ValueError),
    (dict(op="<", threshold=(0.0, 1.0)), ValueError),
    (dict(op="<", threshold=1.0, value=3), TypeError),
])
def test_bad_declarations_raise(kwargs, err):
    kwargs.setdefault("value", "x")
    with pytest.raises(err):
        Target(name="bad", **kwargs)


def test_evaluate_targets_and_table():
    targets = [Target("coverage", "methods.vae.coverage90", "between", (0.85, 0.95), section="sec-cov"),
               Target("fd rmse", "methods.fd.rmse", "<", 0.5, units="mol m-2 s-1"),
               Target("unet", "methods.unet.rmse", "<", 0.5)]
    results = evaluate_targets(METRICS, targets)
    assert [r.met for r in results] == [True, False, None]
    table = targets_table(results, link=lambda t: f"[§]({t.section})")
    lines = table.splitlines()
    assert lines[0] == "| target | required | measured | status | shown in |"
    assert len(lines) == 2 + 3
    assert "in [0.85, 0.95]" in lines[2] and "0.88" in lines[2] and "met" in lines[2] and "(sec-cov)" in lines[2]
    assert "< 0.5 mol m-2 s-1" in lines[3] and "missed" in lines[3]
    assert "not measured" in lines[4] and "—" in lines[4]
    assert "shown in" not in targets_table(results)
    controls = targets_table(results, kind="control").splitlines()
    assert controls[0].startswith("| control |") and "passed" in controls[2] and "failed" in controls[3]
    with pytest.raises(ValueError, match="expected 'target' or 'control'"):
        targets_table(results, kind="check")


def test_target_is_frozen():
    t = Target("a", "x", "<", 1)
    assert t.threshold == 1.0 and isinstance(t.threshold, float)
    with pytest.raises(AttributeError):
        t.op = ">"


@pytest.mark.parametrize("domain", ["nox", "rain", "carbon"])
def test_declared_domain_targets_are_well_formed(domain):
    """Each domain's TARGETS (where declared) maps notebook stems to lists of Target."""
    try:
        mod = importlib.import_module(f"eoretrieval.{domain}.targets")
    except ModuleNotFoundError as err:
        if err.name in (f"eoretrieval.{domain}", f"eoretrieval.{domain}.targets"):
            pytest.skip(f"eoretrieval.{domain}.targets not declared yet")
        raise
    assert isinstance(mod.TARGETS, dict) and mod.TARGETS
    for stem, targets in mod.TARGETS.items():
        assert isinstance(stem, str) and stem[:2].isdigit(), stem
        assert targets and all(isinstance(t, Target) for t in targets), stem


def test_every_declared_target_links_to_a_section_of_its_notebook():
    """A target's ``section`` must resolve (label, heading slug or heading text) in the source notebook."""
    from eoretrieval.config import repo_root
    from eoretrieval.results import declared_targets, notebook_sections

    missing = []
    declared = list(declared_targets().items()) + list(declared_targets(attr="CONTROLS", optional=True).items())
    for stem, (domain, targets) in declared:
        notebook = repo_root() / "notebooks" / f"{stem}.ipynb"
        assert notebook.exists(), f"{domain} declares targets for {stem}, which has no notebook"
        sections = notebook_sections(notebook)
        missing += [f"{stem}: {t.name!r} -> {t.section!r}" for t in targets if t.section and not sections.resolve(t.section)]
    assert not missing, "targets whose section is not in the notebook:\n" + "\n".join(missing)
