"""Tests of eoretrieval.nox.variational on a tiny world."""

import numpy as np
import pytest
import torch

from eoretrieval.nox import estimate_prior_rel_error, get_baseline, variational_inversion
from eoretrieval.errors import DataError
from eoretrieval.nox import make_nox_world

torch.set_num_threads(1)

TINY = dict(start="2019-06-01", end="2019-06-10", lat0=36.0, lat1=39.0, lon0=114.0, lon1=117.0,
            split_train="2019-06-01/2019-06-06", split_val="2019-06-07/2019-06-08",
            split_test="2019-06-09/2019-06-10", chunk_days=10)


@pytest.fixture(scope="module")
def clean_world():
    # precise observations, no clouds: the inversion must then beat the prior by far (cloudy cells whose
    # emissions leave the domain downwind are not constrained at all). Upwind transport is linear in the
    # column (the van Leer limiter is not), so the analytical BLUE below is exact
    return make_nox_world(seed=0, cache=False, progress=False, noise_abs=2e-6, noise_rel=0.01, amf_rel_error=0.02,
                          cloud_cover=0.0, cloud_seasonal_amplitude=0.0, amf_bias_std=0.0, advection="upwind", **TINY)


def _rmse(a, b):
    return float(np.sqrt(np.mean((a.values - b.values) ** 2)))


def test_recovers_truth_much_better_than_prior(clean_world):
    days = "test"
    post = variational_inversion(clean_world, days, n_iter=40, progress=False)
    truth = clean_world["emission"].sel(time=post["time"])
    prior = clean_world["prior_emission"].sel(time=post["time"])
    assert post.attrs["units"] == "mol m-2 s-1" and post.dims == ("time", "lat", "lon")
    assert _rmse(post, truth) < 0.5 * _rmse(prior, truth)
    assert post.attrs["seconds_per_day"] > 0
    assert 0.1 < post.attrs["prior_rel_error"] < 3.0  # per-world inventories: new plants where the prior is small


def test_registry_entry_and_errors(clean_world):
    assert get_baseline("Variational") is variational_inversion
    with pytest.raises(DataError, match="has 0 day\\(s\\) before it in the world; expected at least 1"):
        variational_inversion(clean_world, [clean_world["time"].values[0]], n_iter=1, progress=False)
    bad = clean_world.copy()
    bad["u"] = bad["u"].assign_attrs(units="km h-1")
    with pytest.raises(DataError, match=r"variable 'u' has units 'km h-1', expected 'm s-1'"):
        variational_inversion(bad, "test", n_iter=1, progress=False)


def test_prior_rel_error_estimate(clean_world):
    s = estimate_prior_rel_error(clean_world)
    e, p = clean_world["emission"].values, clean_world["prior_emission"].values
    assert s == pytest.approx(float(np.sqrt(np.mean(((e[:6] - p[:6]) / p[:6]) ** 2))), rel=1e-6)


def test_lbfgs_reaches_the_analytical_blue(clean_world):
    """On a tiny grid the explicit Jacobian gives the best linear unbiased estimate; 4D-Var must match it."""
    from eoretrieval.nox.transport import SphericalGrid, simulate_day

    w = clean_world
    i = w.sizes["time"] - 1
    day = w["time"].values[i]
    post = variational_inversion(w, [day], n_iter=100, progress=False).values[0].ravel()
    s = estimate_prior_rel_error(w)
    grid = SphericalGrid.from_coords(w["lat"].values, w["lon"].values)
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    args = (t(w["u"][i - 1]), t(w["v"][i - 1]), t(w["u"][i]), t(w["v"][i]), 1 / (3600 * t(w["lifetime"][i])), grid)
    kw = dict(n_substeps=w.attrs["transport_substeps_per_day"], diffusivity=w.attrs["transport_diffusivity_m2_s"],
              background=w.attrs["transport_background_nox_mol_m2"], scheme=w.attrs["transport_scheme"])
    n = w.sizes["lat"] * w.sizes["lon"]
    c0 = t(w["nox_column"][i - 1])
    base = simulate_day(c0, torch.zeros(w.sizes["lat"], w.sizes["lon"], dtype=torch.float64), *args, **kw)
    unit = torch.eye(n, dtype=torch.float64).reshape(n, w.sizes["lat"], w.sizes["lon"]) * 1e-9
    jac = ((simulate_day(c0.expand(n, -1, -1), unit, *args, **kw) - base) / 1e-9).reshape(n, n).T.numpy()
    # equal information: the nominal NO2/NOx ratio and an AMF error relative to the observed column
    y = w["no2_column"].values[i].ravel()
    ratio = np.full(y.shape, w.attrs["obs_no2_nox_ratio"])
    ok = np.isfinite(y)
    so = np.sqrt(w["no2_column_precision"].values[i].ravel() ** 2
                 + (w.attrs["obs_amf_rel_error"] * np.abs(np.where(ok, y, 0.0))) ** 2)
    ep = w["prior_emission"].values[i].ravel().astype(float)
    sp = s * ep
    h = (ratio[:, None] * jac)[ok] / so[ok, None] * sp[None, :]
    d = (y[ok] - ratio[ok] * base.numpy().ravel()[ok] - w.attrs["no2_background_mol_m2"]
         - (ratio[:, None] * jac)[ok] @ ep) / so[ok]
    blue = ep + sp * np.linalg.solve(np.eye(n) + h.T @ h, h.T @ d)
    assert np.sqrt(np.mean((post - blue) ** 2)) < 0.02 * np.sqrt(np.mean((ep - blue) ** 2))


def test_own_analysis_cycling_never_uses_the_true_state(clean_world):
    """spinup_days=n: the inversion carries its own analysed state; the true columns are never read."""
    post = variational_inversion(clean_world, "test", n_iter=40, progress=False, spinup_days=3)
    truth = clean_world["emission"].sel(time=post["time"])
    prior = clean_world["prior_emission"].sel(time=post["time"])
    assert _rmse(post, truth) < 0.6 * _rmse(prior, truth)
    assert "own analysis" in post.attrs["initial_state"]
    scrambled = clean_world.copy()
    scrambled["nox_column"] = (clean_world["nox_column"] * 0 + 1.0).assign_attrs(clean_world["nox_column"].attrs)
    again = variational_inversion(scrambled, "test", n_iter=40, progress=False, spinup_days=3)
    np.testing.assert_array_equal(again.values, post.values)
    # the idealised mode does read the true state: scrambling it changes the answer
    ideal = variational_inversion(scrambled, "test", n_iter=5, progress=False)
    assert not np.allclose(ideal.values, variational_inversion(clean_world, "test", n_iter=5, progress=False).values)
    with pytest.raises(DataError, match="expected at least 4"):
        variational_inversion(clean_world, [clean_world["time"].values[2]], n_iter=1, progress=False, spinup_days=3)
