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


# --- CRPS and rank histogram ------------------------------------------------------------------------------------


def _ensemble(seed, m=10, shape=(5, 8, 9), spread=1.0):
    rng = np.random.default_rng(seed)
    coords = {"time": np.arange(shape[0]), "lat": np.linspace(40.0, 60.0, shape[1]), "lon": np.arange(shape[2])}
    truth = xr.DataArray(rng.normal(0, 1, shape), dims=("time", "lat", "lon"), coords=coords, attrs={"units": "K"})
    ens = xr.DataArray(rng.normal(0, spread, (m, *shape)), dims=("member", "time", "lat", "lon"), coords=coords)
    return ens, truth


def test_crps_hand_computed():
    from eoretrieval.verify import crps_ensemble

    ens = xr.DataArray([[0.0, 2.0, 4.0]], dims=("x", "member"))
    y = xr.DataArray([1.0], dims="x", attrs={"units": "mm h-1"})
    # mean |x - y| = (1 + 1 + 3) / 3; sum_ij |xi - xj| = 2 * (2 + 4 + 2) = 16
    assert float(crps_ensemble(ens, y)) == pytest.approx(5 / 3 - 16 / 18)
    assert float(crps_ensemble(ens, y, fair=True)) == pytest.approx(5 / 3 - 16 / 12)
    assert crps_ensemble(ens, y).attrs["units"] == "mm h-1"
    # a one-point (deterministic) limit: all members equal -> absolute error
    same = xr.DataArray([[3.0, 3.0]], dims=("x", "member"))
    assert float(crps_ensemble(same, y)) == pytest.approx(2.0)


def test_crps_against_scoringrules_and_properscoring():
    from eoretrieval.verify import crps_ensemble

    sr = pytest.importorskip("scoringrules")
    ps = pytest.importorskip("properscoring")
    ens, truth = _ensemble(0)
    point = crps_ensemble(ens, truth, dim=[])
    fair = crps_ensemble(ens, truth, dim=[], fair=True)
    fc = ens.transpose("time", "lat", "lon", "member").values
    np.testing.assert_allclose(point.values, sr.crps_ensemble(truth.values, fc, estimator="nrg"), rtol=1e-12)
    np.testing.assert_allclose(point.values, ps.crps_ensemble(truth.values, fc), rtol=1e-12)
    np.testing.assert_allclose(fair.values, sr.crps_ensemble(truth.values, fc, estimator="fair"), rtol=1e-12)
    # standard minus fair = sum_ij |xi - xj| / (2 M^2 (M - 1)) > 0
    m = ens.sizes["member"]
    gini = np.abs(fc[..., :, None] - fc[..., None, :]).sum((-1, -2))
    np.testing.assert_allclose((point - fair).values, gini / (2 * m * m * (m - 1)), rtol=1e-10)
    # the reduced score is the cos(lat)-weighted mean of the pointwise one
    w = np.cos(np.deg2rad(truth.lat.values))[None, :, None] * np.ones(truth.shape)
    assert float(crps_ensemble(ens, truth)) == pytest.approx(np.average(point.values, weights=w), rel=1e-12)
    assert float(crps_ensemble(ens, truth, weights=None)) == pytest.approx(point.values.mean(), rel=1e-12)


def test_crps_fair_is_unbiased_for_small_ensembles():
    from eoretrieval.verify import crps_ensemble

    sr = pytest.importorskip("scoringrules")
    # members and truth from N(0, 1): the expected CRPS of N(0, 1) at a N(0, 1) truth is 1/sqrt(pi)
    rng = np.random.default_rng(1)
    truth = xr.DataArray(rng.standard_normal(40000), dims="x")
    ens = xr.DataArray(rng.standard_normal((3, 40000)), dims=("member", "x"))
    exact = float(np.mean(sr.crps_normal(truth.values, 0.0, 1.0)))
    assert exact == pytest.approx(1 / np.sqrt(np.pi), rel=0.02)
    assert float(crps_ensemble(ens, truth, fair=True)) == pytest.approx(exact, rel=0.02)
    assert float(crps_ensemble(ens, truth)) > exact * 1.08  # 3 members: the standard estimator is biased high


def test_rank_histogram_against_pysteps_and_shapes():
    from eoretrieval.verify import rank_histogram

    ensscores = pytest.importorskip("pysteps.verification.ensscores")
    ens, truth = _ensemble(2, m=6, spread=0.6)  # under-dispersive: U shape
    ours = rank_histogram(ens, truth, weights=None)
    ref = ensscores.rankhist(ens.values, truth.values, normalize=True)
    np.testing.assert_allclose(ours.values, ref, rtol=1e-12)
    assert ours.dims == ("rank",) and ours["rank"].values.tolist() == list(range(7))
    assert float(ours.sum()) == pytest.approx(1.0)
    assert ours.values[0] > 2 / 7 / 2 and ours.values[3] < 1 / 7  # U shape
    calibrated = rank_histogram(*_ensemble(3, m=4, shape=(200, 10, 10)))
    np.testing.assert_allclose(calibrated.values, 0.2, atol=0.01)


def test_rank_histogram_ties_and_nan():
    from eoretrieval.verify import rank_histogram

    # truth tied with all 3 members (zero rain): rank uniform over 0..3
    ens = xr.DataArray(np.zeros((3, 20000)), dims=("member", "x"))
    truth = xr.DataArray(np.zeros(20000), dims="x")
    h = rank_histogram(ens, truth, seed=1)
    np.testing.assert_allclose(h.values, 0.25, atol=0.015)
    assert rank_histogram(ens, truth, seed=1).equals(h)
    t = truth.copy()
    t[0] = np.nan
    assert np.isnan(rank_histogram(ens, t).values).all()
    assert float(rank_histogram(ens, t, skipna=True).sum()) == pytest.approx(1.0)


def test_nan_semantics_of_ensemble_scores():
    ens = xr.DataArray([[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]], dims=("x", "member"))
    truth = xr.DataArray([2.0, np.nan, 1.0], dims="x")
    # a NaN truth is missing, not "outside the interval" (changed when moving to verify._core);
    # central 50 % interval of (0, 2) is [0.5, 1.5]: truth 2 outside, truth 1 inside
    assert np.isnan(float(interval_coverage(ens, truth, level=0.5)))
    assert float(interval_coverage(ens, truth, level=0.5, skipna=True)) == pytest.approx(0.5)
    assert np.isnan(float(spread_skill_ratio(ens, truth)))
    # spread sqrt(1.5 * 2) over the RMSE of the mean (errors 1 and 0: sqrt(0.5)), on the two valid points
    assert float(spread_skill_ratio(ens, truth, skipna=True)) == pytest.approx(np.sqrt(6.0))
