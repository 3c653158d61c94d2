"""Execute every study notebook in the "ci" profile (through the same runner as `make book`)
and check the keys of its metrics.json. Executions are cached by input hash, so `make book`
after `make test` renders these very runs."""

import json

import pytest

from eoretrieval import run
from eoretrieval.config import repo_root

NOTEBOOKS = [p.stem for p in run.discover()]

#: keys each notebook's metrics.json must have (the contract named in its issue)
REQUIRED_KEYS = {
    "00_data_tour": {"catalog", "power_plants", "cities", "wind", "profile", "seed"},
    "01_nox_osse": {"methods", "trend", "vae", "timing", "profile", "seed"},
    "02_nox_real_validation": {"roundtrip", "stations", "deweathered_trend_pct", "inventory_trend_pct", "cny_effect_pct",
                               "weekly_cycle", "realism", "profile", "seed"},
    "03_seviri_flow_matching": {"methods", "nfe_curve", "test_domain", "n_test_fields", "profile", "seed"},
    "04_gmi_ood_extremes": {"methods", "ood_auroc", "satrain_baselines", "transfer", "profile", "seed"},
    "05_vprm_sentinel2": {"within_class_loso", "temporal_cv", "null", "sites", "holdout"},
}


def test_every_notebook_has_a_contract():
    assert set(NOTEBOOKS) <= set(REQUIRED_KEYS), "add the new notebook's metrics keys to REQUIRED_KEYS"


def test_source_notebooks_are_clean_and_parameterised():
    import nbformat

    for stem in NOTEBOOKS:
        nb = nbformat.read(repo_root() / "notebooks" / f"{stem}.ipynb", as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{stem}: exactly one cell tagged 'parameters'"
        for name in ("profile", "seed", "output_dir"):
            assert f"{name} =" in tagged[0].source, f"{stem}: parameter {name!r} missing"
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{stem}: committed with outputs"
        assert sum(1 for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")) == 1


@pytest.mark.slow
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_runs_in_ci_profile(stem):
    root = repo_root()
    status = run.main([stem, "--profile", "ci"])
    assert status == 0, f"{stem} failed in the ci profile (see runs/{stem}/failed.ipynb)"
    metrics = json.loads((root / "runs" / stem / "metrics.json").read_text())
    missing = REQUIRED_KEYS[stem] - set(metrics)
    assert not missing, f"{stem}: metrics.json lacks {missing}"
    assert metrics["provenance"]["parameters"]["profile"] == "ci"
    figures = list((root / "runs" / stem / "figures").glob("*.png"))
    assert figures, f"{stem}: no figure saved with save_figure"
    for png in figures:
        assert png.with_suffix(".json").exists(), f"{png} has no provenance record"
