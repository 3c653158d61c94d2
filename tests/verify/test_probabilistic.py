import numpy as np
import pytest
import xarray as xr

from eoretrieval.verify.probabilistic import ensemble_spread, interval_coverage, spread_skill_ratio


def test_coverage_hand_computed():
    # members 0..10 at every x: 80% central interval = [1, 9]
    ens = xr.DataArray(np.tile(np.arange(11.0), (5, 1)).T, dims=("member", "x"))
    truth = xr.DataArray([1.0, 9.0, 0.5, 9.5, 5.0], dims="x")
    assert float(interval_coverage(ens, truth, level=0.8)) == pytest.approx(3 / 5)
    w = xr.DataArray([1.0, 1.0, 0.0, 0.0, 1.0], dims="x")
    assert float(interval_coverage(ens, truth, level=0.8, weights=w)) == pytest.approx(1.0)


def test_coverage_calibrated_gaussian():
    rng = np.random.default_rng(0)
    ens = xr.DataArray(rng.standard_normal((100, 20000)), dims=("member", "x"))
    truth = xr.DataArray(rng.standard_normal(20000), dims="x")
    assert float(interval_coverage(ens, truth, level=0.9)) == pytest.approx(0.9, abs=0.015)
    assert float(spread_skill_ratio(ens, truth)) == pytest.approx(1.0, abs=0.05)


def test_dims_kept():
    rng = np.random.default_rng(1)
    ens = xr.DataArray(rng.standard_normal((8, 3, 4)), dims=("member", "time", "x"))
    truth = xr.DataArray(rng.standard_normal((3, 4)), dims=("time", "x"))
    assert interval_coverage(ens, truth, dim="x").dims == ("time",)
    assert spread_skill_ratio(ens, truth, dim="x").dims == ("time",)


def test_spread_hand_computed():
    ens = xr.DataArray([[1.0, 3.0], [2.0, 2.0]], dims=("x", "member"), attrs={"units": "mol m-2"})
    # variances (ddof=1): 2 and 0 -> mean 1; factor 3/2
    assert float(ensemble_spread(ens)) == pytest.approx(np.sqrt(1.5))
    assert ensemble_spread(ens).attrs["units"] == "mol m-2"
    truth = xr.DataArray([2.0, 4.0], dims="x")  # errors of the mean: 0, 2 -> RMSE sqrt(2)
    assert float(spread_skill_ratio(ens, truth)) == pytest.approx(np.sqrt(1.5) / np.sqrt(2.0))


def test_bad_input():
    with pytest.raises(ValueError, match="'member' dimension"):
        interval_coverage(xr.DataArray([1.0, 2.0], dims="x"), xr.DataArray([1.0, 2.0], dims="x"))
    with pytest.raises(ValueError, match="at least 2"):
        spread_skill_ratio(xr.DataArray([[1.0]], dims=("member", "x")), xr.DataArray([1.0], dims="x"))
    with pytest.raises(ValueError, match="level"):
        interval_coverage(xr.DataArray([[1.0], [2.0]], dims=("member", "x")), xr.DataArray([1.0], dims="x"), level=90)


def test_inflate_spread_keeps_mean_scales_spread():
    from eoretrieval.verify.probabilistic import inflate_spread

    rng = np.random.default_rng(2)
    ens = xr.DataArray(rng.standard_normal((6, 5)), dims=("x", "member"), attrs={"units": "mol m-2"})
    out = inflate_spread(ens, 1.7)
    assert out.dims == ens.dims and out.attrs["units"] == "mol m-2" and out.attrs["spread_inflation"] == 1.7
    np.testing.assert_allclose(out.mean("member"), ens.mean("member"))
    np.testing.assert_allclose(ensemble_spread(out), 1.7 * ensemble_spread(ens))
    with pytest.raises(ValueError, match="positive"):
        inflate_spread(ens, 0.0)


@pytest.mark.parametrize("true_k", [2.0, 0.5])
def test_calibrate_spread_recovers_imposed_dispersion(true_k):
    from eoretrieval.verify.probabilistic import calibrate_spread, inflate_spread

    # members ~ N(0, (1/true_k)^2), truth ~ N(0, 1): the spread is 1/true_k of what it should be. A large
    # ensemble (400 members) makes the finite-ensemble shortfall of empirical intervals negligible (~1 %).
    rng = np.random.default_rng(3)
    m, n = 400, 5000
    ens = xr.DataArray(rng.standard_normal((m, n)) / true_k, dims=("member", "x"))
    truth = xr.DataArray(rng.standard_normal(n), dims="x")
    k = calibrate_spread(ens, truth, level=0.9)
    assert k == pytest.approx(true_k, rel=0.04)
    # the fitted factor reproduces the nominal coverage on the fitting data (to one point in n)
    assert float(interval_coverage(inflate_spread(ens, k), truth, level=0.9)) == pytest.approx(0.9, abs=1.5 / n)
    assert float(spread_skill_ratio(inflate_spread(ens, k), truth)) == pytest.approx(1.0, abs=0.05)
    # and close to it on independent data
    ens2 = xr.DataArray(rng.standard_normal((m, n)) / true_k, dims=("member", "x"))
    truth2 = xr.DataArray(rng.standard_normal(n), dims="x")
    assert float(interval_coverage(inflate_spread(ens2, k), truth2, level=0.9)) == pytest.approx(0.9, abs=0.015)


def test_calibrate_spread_small_ensemble_shortfall():
    from eoretrieval.verify.probabilistic import calibrate_spread

    # a perfectly reliable 32-member ensemble: its empirical 90 % interval covers about (M-1)/(M+1) * 0.9
    # = 0.845 of the truth, so calibrate_spread inflates it (k > 1) while its spread-skill ratio is 1
    rng = np.random.default_rng(5)
    m, n = 32, 20000
    ens = xr.DataArray(rng.standard_normal((m, n)), dims=("member", "x"))
    truth = xr.DataArray(rng.standard_normal(n), dims="x")
    assert float(interval_coverage(ens, truth, level=0.9)) == pytest.approx((m - 1) / (m + 1) * 0.9, abs=0.01)
    assert float(spread_skill_ratio(ens, truth)) == pytest.approx(1.0, abs=0.03)
    assert 1.05 < calibrate_spread(ens, truth, level=0.9) < 1.2


def test_calibrate_spread_weights_and_errors():
    from eoretrieval.verify.probabilistic import calibrate_spread

    rng = np.random.default_rng(4)
    ens = xr.DataArray(rng.standard_normal((400, 4000)), dims=("member", "x"))
    truth = xr.DataArray(np.r_[rng.standard_normal(2000), 3.0 * rng.standard_normal(2000)], dims="x")
    w = xr.DataArray(np.r_[np.ones(2000), np.zeros(2000)], dims="x")
    assert calibrate_spread(ens, truth, weights=w) == pytest.approx(1.0, rel=0.06)
    assert calibrate_spread(ens, truth) > 1.5
    with pytest.raises(ValueError, match="not reached"):
        calibrate_spread(ens, truth + 1e6)
    with pytest.raises(ValueError, match="level"):
        calibrate_spread(ens, truth, level=90)
    with pytest.raises(ValueError, match="scalar"):
        calibrate_spread(ens.expand_dims(t=2), truth.expand_dims(t=2), dim="x")


def test_binned_spread_skill_detects_underdispersion():
    import numpy as np
    import xarray as xr

    from eoretrieval.verify.probabilistic import binned_spread_skill

    rng = np.random.default_rng(1)
    sd = np.repeat([0.5, 1.0, 2.0], 3000)
    truth = xr.DataArray(rng.normal(0, sd), dims="x", attrs={"units": "K"})
    ens = xr.DataArray(rng.normal(0, 0.5 * sd, (200, sd.size)), dims=("member", "x"))
    out = binned_spread_skill(ens, truth, n_bins=3)
    assert out["rmse"].attrs["units"] == "K"
    np.testing.assert_allclose((out["rmse"] / out["spread"]).values, 2.0, rtol=0.08)  # error ~ sd, spread ~ sd / 2
