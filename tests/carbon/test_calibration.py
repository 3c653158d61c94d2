"""Tests of the least-squares calibration: parameter recovery and uncertainties."""

import pytest

from eoretrieval.carbon.calibration import fit_per_class, fit_variant
from eoretrieval.carbon.synthetic import make_synthetic_sites

TRUE = {"lam": 0.15, "par0": 800.0, "alpha": 0.25, "beta": 0.8}


def test_recovers_parameters_without_noise():
    data = make_synthetic_sites(n_months=60, params=TRUE, noise=0.0)
    fit = fit_variant("vprm", data, n_starts=1)
    for k in ("lam", "alpha", "beta"):
        assert fit.params[k] == pytest.approx(TRUE[k], rel=1e-3)
    assert fit.rmse < 1e-4


def test_uncertainty_covers_truth_with_noise():
    data = make_synthetic_sites(n_months=60, params=TRUE, noise=0.3, seed=1)
    fit = fit_variant("vprm", data, n_starts=2, seed=0)
    for k in ("lam", "alpha", "beta"):
        assert fit.stderr[k] > 0
        assert abs(fit.params[k] - TRUE[k]) < 4 * fit.stderr[k]
    per = fit_per_class("vprm", data, n_starts=1)
    assert set(per) == {"evergreen", "deciduous", "cropland"}


def test_too_few_residuals():
    data = make_synthetic_sites(n_sites=1, n_months=1)
    with pytest.raises(ValueError, match="residuals for 4 parameters"):
        fit_variant("vprm", data)


def test_nan_predictions_are_not_zero_residuals():
    import numpy as np

    from eoretrieval.errors import DataError

    data = make_synthetic_sites(n_months=36, params=TRUE, noise=0.0)
    bad = data["lswi_max"].values.copy()
    bad[data["site"].values == "S1"] = np.nan  # a broken site constant: NaN predictions where fluxes are observed
    data["lswi_max"] = ("sample", bad)
    with pytest.raises(DataError, match=r"NaN predictions on samples with observed fluxes at \['S1'\]"):
        fit_variant("vprm", data, n_starts=1)


def test_samples_without_drivers_are_left_out_up_front():
    import numpy as np

    data = make_synthetic_sites(n_months=60, params=TRUE, noise=0.0)
    ta = data["ta"].values.copy()
    ta[:5] = np.nan  # missing temperature on 5 months: excluded, not a zero residual, not an error
    data["ta"] = ("sample", ta)
    fit = fit_variant("vprm", data, n_starts=1)
    assert fit.params["lam"] == pytest.approx(TRUE["lam"], rel=1e-3)
