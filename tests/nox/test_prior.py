"""Tests of eoretrieval.nox.prior and the baseline registry."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.nox import column_scaling, fit_column_scale, get_baseline, list_baselines, prior_emission
from eoretrieval.errors import DataError
from eoretrieval.nox import make_nox_world

TINY = dict(start="2019-01-01", end="2019-01-20", lat0=36.0, lat1=39.0, lon0=114.0, lon1=117.0,
            split_train="2019-01-01/2019-01-14", split_val="2019-01-15/2019-01-16",
            split_test="2019-01-17/2019-01-20", chunk_days=20)


@pytest.fixture(scope="module")
def world():
    return make_nox_world(seed=3, cache=False, progress=False, **TINY)


def test_registry():
    assert list_baselines() == ["column_scaling", "flux_divergence", "flux_divergence_7d", "memorisation", "prior",
                                "variational"]
    for name in list_baselines():
        assert callable(get_baseline(name.upper()))
    with pytest.raises(ValueError, match=r"unknown baseline 'unet'; valid baselines: \['column_scaling'"):
        get_baseline("unet")


def test_prior_selects_days(world):
    p = prior_emission(world, "test")
    assert p.sizes["time"] == 4 and p.attrs["units"] == "mol m-2 s-1"
    np.testing.assert_array_equal(p.values, world["prior_emission"].sel(time=slice("2019-01-17", None)).values)
    assert prior_emission(world, "2019-01-02/2019-01-03").sizes["time"] == 2


def test_column_scaling_fitted_on_training_days_only(world):
    a = fit_column_scale(world)
    changed = world.copy()
    changed["emission"] = world["emission"].where(world["time"] < np.datetime64("2019-01-15"), 0.0)
    assert fit_column_scale(changed) == pytest.approx(a)  # test/val truth is never used
    est = column_scaling(world, "test")
    assert est.attrs["units"] == "mol m-2 s-1" and np.isfinite(est.values).all()
    assert est.attrs["scale_s-1"] == pytest.approx(a)
    # order of magnitude: E ~ column / residence time (hours)
    assert 1 / (48 * 3600) < a < 1 / (0.5 * 3600)


def test_flux_divergence_world_runs(world):
    est = get_baseline("flux_divergence")(world, "test")
    assert est.sizes == {"time": 4, "lat": 12, "lon": 12} and np.isfinite(est.values).all()


def test_bad_days_and_units(world):
    with pytest.raises(ValueError, match="days: expected"):
        prior_emission(world, "2019-01-01")
    bad = world.copy()
    bad["no2_column"] = bad["no2_column"].assign_attrs(units="molec cm-2")
    with pytest.raises(DataError, match=r"variable 'no2_column' has units 'molec cm-2', expected 'mol m-2'"):
        column_scaling(bad, "test")


def test_memorisation_ignores_the_observations_and_the_test_truth(nox_world):
    from eoretrieval.nox import memorisation, split_days

    test = split_days(nox_world, "test")
    est = memorisation(nox_world, "test")
    expected = nox_world["emission"].sel(time=split_days(nox_world, "train")).mean("time")
    np.testing.assert_allclose(est.isel(time=0).values, expected.values, rtol=1e-6)
    assert (est.std("time") == 0).all() and list(est.time.values) == list(test.values)
    # scrambling the observations and the test-period truth changes nothing
    other = nox_world.copy()
    other["no2_column"] = nox_world["no2_column"] * 3.0
    other["emission"] = nox_world["emission"].where(~nox_world.time.isin(test), 0.0)
    other["emission"].attrs = nox_world["emission"].attrs
    xr.testing.assert_identical(memorisation(other, "test"), est)
