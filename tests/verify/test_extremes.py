"""Tests of eoretrieval.verify.extremes: tail quantiles, tail share, GPD fits and return levels against scipy."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import genpareto

from eoretrieval.verify import gpd_fit, gpd_return_levels, qq_upper_tail, tail_share, upper_quantiles
from eoretrieval.verify.extremes import gpd_return_level


def test_quantiles_and_qq_against_numpy():
    rng = np.random.default_rng(0)
    t = xr.DataArray(rng.gamma(0.5, 2.0, (4, 500)), dims=("time", "x"), attrs={"units": "mm h-1"})
    q = upper_quantiles(t)
    np.testing.assert_allclose(q.values, np.quantile(t.values, [0.9, 0.99, 0.999]))
    assert q.attrs["units"] == "mm h-1" and q.dims == ("quantile",)
    per_time = upper_quantiles(t, q=0.99, dim="x")
    np.testing.assert_allclose(per_time.values, np.quantile(t.values, 0.99, axis=1))
    qq = qq_upper_tail(0.7 * t, t)  # a prediction 30 % too light everywhere
    np.testing.assert_allclose(qq["ratio"].values, 0.7)
    assert qq["pred"].attrs["units"] == "mm h-1" and qq["ratio"].attrs["units"] == "1"
    # distributions, not pairs: pred may have another size
    assert qq_upper_tail(t.isel(x=slice(0, 100)), t)["ratio"].dims == ("quantile",)


def test_tail_share_hand_made():
    x = xr.DataArray(np.r_[np.ones(99), 101.0], dims="x")  # total 200, the largest value holds 101
    assert float(tail_share(x, q=0.99)) == pytest.approx(0.505)
    assert tail_share(x, q=[0.5, 0.99]).values.tolist() == pytest.approx([0.505, 0.505])  # strictly above Q
    assert float(tail_share(xr.DataArray(np.arange(1.0, 11.0), dims="x"), q=0.8)) == pytest.approx(19 / 55)
    y = x.copy()
    y[0] = np.nan
    assert np.isnan(float(tail_share(y)))
    assert float(tail_share(y, q=0.99, skipna=True)) == pytest.approx(101 / 199)


def test_gpd_fit_equals_scipy_and_recovers_known_parameters():
    rng = np.random.default_rng(1)
    u = 2.0
    # a sample whose excesses over u are GPD(xi=0.15, sigma=1.5), 30 % of values above u
    n = 20000
    above = rng.random(n) < 0.3
    x = np.where(above, u + genpareto.rvs(0.15, scale=1.5, size=n, random_state=2), rng.uniform(0, u, n))
    fit = gpd_fit(xr.DataArray(x, dims="x", attrs={"units": "mm h-1"}), threshold=u)
    c, loc, scale = genpareto.fit(x[x > u] - u, floc=0.0)
    assert float(fit["shape"]) == pytest.approx(c, rel=1e-12) and float(fit["scale"]) == pytest.approx(scale, rel=1e-12)
    assert float(fit["shape"]) == pytest.approx(0.15, abs=0.03) and float(fit["scale"]) == pytest.approx(1.5, rel=0.04)
    assert int(fit["n_exceed"]) == int(above.sum()) and float(fit["rate"]) == pytest.approx(above.mean())
    assert fit["scale"].attrs["units"] == "mm h-1" and fit.attrs["threshold"] == u


@pytest.mark.parametrize("shape", [0.2, 0.0, -0.1])
def test_return_level_equals_scipy_isf(shape):
    # the level exceeded once in T values: P(X > x_T) = 1/T, i.e. u + genpareto.isf(1 / (T zeta), xi, sigma)
    fit = xr.Dataset({"shape": shape, "scale": 1.3, "rate": 0.05}, attrs={"threshold": 4.0, "threshold_units": "K"})
    periods = [50.0, 100.0, 1000.0, 1e5]
    levels = gpd_return_level(fit, return_periods=periods)
    expected = [4.0 + genpareto.isf(1.0 / (t * 0.05), shape, scale=1.3) for t in periods]
    np.testing.assert_allclose(levels.sel(return_period=periods[1:]).values, expected[1:], rtol=1e-10)
    assert float(levels[0]) == pytest.approx(expected[0], rel=1e-10)
    assert levels.attrs["units"] == "K" and levels.dims == ("return_period",)
    assert np.isnan(float(gpd_return_level(fit, return_periods=10.0)))  # T zeta < 1: below the threshold


def test_bootstrap_intervals_cover_the_truth_and_are_seeded():
    u, xi, sigma = 0.0, 0.1, 1.0
    x = xr.DataArray(genpareto.rvs(xi, scale=sigma, size=(2, 3000), random_state=3), dims=("site", "x"),
                     attrs={"units": "mm h-1"})
    out = gpd_return_levels(x, threshold=u, return_periods=[100.0, 1000.0], dim="x", n_boot=100, seed=4)
    assert out["return_level"].dims == ("site", "return_period") and out["lower"].attrs["units"] == "mm h-1"
    true = genpareto.isf([1e-2, 1e-3], xi, scale=sigma)
    assert bool((out["lower"] < true).all()) and bool((true < out["upper"]).all())
    width = out["upper"] - out["lower"]
    assert bool((width.sel(return_period=1000.0) > width.sel(return_period=100.0)).all())  # wider further out
    again = gpd_return_levels(x, threshold=u, return_periods=[100.0, 1000.0], dim="x", n_boot=100, seed=4)
    assert again.identical(out)
    other = gpd_return_levels(x, threshold=u, return_periods=[100.0, 1000.0], dim="x", n_boot=100, seed=5)
    assert not np.allclose(other["lower"], out["lower"])
    np.testing.assert_allclose(other["return_level"], out["return_level"])  # the fit itself is not random


def test_few_exceedances_and_errors():
    x = xr.DataArray(np.arange(100.0), dims="x")
    fit = gpd_fit(x, threshold=95.0)
    assert np.isnan(float(fit["shape"])) and int(fit["n_exceed"]) == 4
    with pytest.raises(ValueError, match="level"):
        gpd_return_levels(x, threshold=50.0, return_periods=100.0, level=95)
    y = x.copy()
    y[0] = np.nan
    assert np.isnan(float(gpd_fit(y, threshold=10.0)["shape"]))
    assert np.isfinite(float(gpd_fit(y, threshold=10.0, skipna=True)["shape"]))
