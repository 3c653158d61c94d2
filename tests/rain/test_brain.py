"""Bayesian database retrieval: closed-form posterior means and a simulated-scene check."""

import numpy as np
import pytest

from eoretrieval.rain.brain import BayesianDatabase, channel_covariance
from eoretrieval.rain.gmi_simulator import make_environment, simulate_tb, stochastic_rain_fields


def test_two_point_posterior_closed_form():
    db = BayesianDatabase(np.eye(1) * 4.0)
    db.fit_arrays(np.array([[0.0], [10.0]]), np.array([0.0, 10.0]), np.zeros(2, int))
    tb = np.array([[0.0], [5.0], [7.0]])
    mean, sd, pop = db.retrieve_arrays(tb, np.zeros(3, int))
    # w1/w0 = exp(-((t-10)^2 - t^2) / (2*4))
    ratio = np.exp(-((tb[:, 0] - 10) ** 2 - tb[:, 0] ** 2) / 8.0)
    expected = 10 * ratio / (1 + ratio)
    np.testing.assert_allclose(mean, expected, rtol=1e-5)
    np.testing.assert_allclose(pop, ratio / (1 + ratio), rtol=1e-5)
    assert sd[1] == pytest.approx(5.0)


def test_gaussian_posterior_mean():
    # prior R ~ N(5, 2^2), Tb = R + N(0, 1): posterior mean = 5 + 4/5 (tb - 5)
    rng = np.random.default_rng(0)
    r = rng.normal(5, 2, 60000)
    # noise-free database Tb; the observation error (variance 1) is the covariance
    db = BayesianDatabase(np.eye(1), n_per_class=100000).fit_arrays(r[:, None], r, np.zeros(len(r), int))
    obs = np.array([[3.0], [5.0], [8.0]])
    mean, _, _ = db.retrieve_arrays(obs, np.zeros(3, int))
    np.testing.assert_allclose(mean, 5 + 0.8 * (obs[:, 0] - 5), atol=0.06)


def test_covariance_and_errors():
    s = channel_covariance("gmi", model_error_k=2.0)
    assert s.shape == (13, 13) and s[0, 0] == pytest.approx(0.96 ** 2 + 4)
    with pytest.raises(ValueError, match="square"):
        BayesianDatabase(np.ones(3))
    with pytest.raises(RuntimeError, match="empty database"):
        BayesianDatabase(np.eye(1)).retrieve_arrays(np.zeros((1, 1)), np.zeros(1, int))


def test_retrieval_on_simulated_scenes_beats_climatology():
    rain = stochastic_rain_fields(120, seed=3)
    env = make_environment(120, seed=3)
    import xarray as xr
    ds = xr.Dataset({"tb": simulate_tb(rain, env, seed=1), "surface_precip": rain,
                     "land_fraction": env["land_fraction"]})
    train, test = ds.isel(sample=slice(0, 100)), ds.isel(sample=slice(100, None))
    db = BayesianDatabase(channel_covariance("gmi"), n_per_class=4000).fit(train)
    out = db.retrieve(test)
    truth = test["surface_precip"].values
    mae = np.abs(out["surface_precip"].values - truth).mean()
    clim = np.abs(train["surface_precip"].values.mean() - truth).mean()
    assert out["surface_precip"].attrs["units"] == "mm h-1"
    assert mae < 0.7 * clim
    assert np.corrcoef(out["surface_precip"].values.ravel(), truth.ravel())[0, 1] > 0.6
