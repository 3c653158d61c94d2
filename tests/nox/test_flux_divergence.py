"""Tests of eoretrieval.nox.flux_divergence."""

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from eoretrieval.nox import flux_divergence
from eoretrieval.nox._common import fill_gaps
from eoretrieval.errors import DataError
from eoretrieval.nox.transport import SphericalGrid, simulate_day

torch.set_num_threads(1)


def _steady_state_case(u=5.0, v=2.0, tau_h=4.0, n=32):
    lat = 34.0 + 0.25 * (np.arange(n) + 0.5)
    lon = 112.0 + 0.25 * (np.arange(n) + 0.5)
    grid = SphericalGrid.from_coords(lat, lon)
    yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    e = 2e-8 * np.exp(-((yy - 14) ** 2 + (xx - 12) ** 2) / (2 * 2.5**2))
    ut, vt = torch.tensor(u, dtype=torch.float64), torch.tensor(v, dtype=torch.float64)
    c = simulate_day(torch.zeros((n, n), dtype=torch.float64), torch.tensor(e), ut, vt, ut, vt,
                     torch.tensor(1 / (3600 * tau_h), dtype=torch.float64), grid, n_substeps=400, duration=3 * 86400.0,
                     diffusivity=0.0, boundary="open", background=0.0).numpy()
    coords = {"time": pd.date_range("2020-01-01", periods=1), "lat": lat, "lon": lon}

    def da(x, units):
        return xr.DataArray(np.broadcast_to(x, (1, n, n)).copy(), dims=("time", "lat", "lon"), coords=coords,
                            attrs={"units": units})

    return da(e, "mol m-2 s-1"), da(c, "mol m-2"), da(np.full((n, n), u), "m s-1"), da(np.full((n, n), v), "m s-1"), \
        da(np.full((n, n), tau_h), "h")


def test_recovers_known_emission_in_steady_state():
    e, c, u, v, tau = _steady_state_case()
    est = flux_divergence(c, u, v, tau, no2_nox_ratio=1.0, background=0.0, smooth_sigma=0.0)
    assert est.attrs["units"] == "mol m-2 s-1" and est.dims == ("time", "lat", "lon")
    total_ratio = float(est.sum() / e.sum())
    assert abs(total_ratio - 1) < 0.05
    assert np.corrcoef(est.values.ravel(), e.values.ravel())[0, 1] > 0.95
    # NO2 with ratio and background gives the same answer
    no2 = 0.75 * c + 1e-5
    no2.attrs["units"] = "mol m-2"
    est2 = flux_divergence(no2, u, v, tau, no2_nox_ratio=0.75, background=1e-5, smooth_sigma=0.0)
    np.testing.assert_allclose(est2.values, est.values, rtol=1e-4, atol=1e-14)


def test_gaps_are_filled_then_optionally_masked():
    e, c, u, v, tau = _steady_state_case()
    rng = np.random.default_rng(0)
    gappy = c.where(rng.uniform(size=c.shape) > 0.3)
    gappy.attrs["units"] = "mol m-2"
    est = flux_divergence(gappy, u, v, tau, no2_nox_ratio=1.0, background=0.0, smooth_sigma=1.0)
    assert np.isfinite(est.values).all()
    assert np.corrcoef(est.values.ravel(), e.values.ravel())[0, 1] > 0.8
    masked = flux_divergence(gappy, u, v, tau, no2_nox_ratio=1.0, background=0.0, mask=True)
    assert np.isnan(masked.values[np.isnan(gappy.values)]).all()


def test_fill_gaps_keeps_observed_values():
    f = np.arange(25.0).reshape(5, 5)
    m = np.ones((5, 5), bool)
    m[2, 2] = m[0, 4] = False
    out = fill_gaps(np.where(m, f, np.nan), m)
    np.testing.assert_array_equal(out[m], f[m])
    assert np.isfinite(out).all() and 8 < out[2, 2] < 16


def test_bad_input_raises_dataerror():
    e, c, u, v, tau = _steady_state_case(n=8)
    bad = u.copy()
    bad.attrs["units"] = "km h-1"
    with pytest.raises(DataError, match=r"variable 'u' has units 'km h-1', expected 'm s-1'"):
        flux_divergence(c, bad, v, tau)
    with pytest.raises(DataError, match=r"variable 'lifetime' has units"):
        flux_divergence(c, u, v, tau.assign_attrs(units="s"))
    empty = c * np.nan
    empty.attrs["units"] = "mol m-2"
    with pytest.raises(DataError, match=r"no2_column: no observed cell on 2020-01-01"):
        flux_divergence(empty, u, v, tau)
    assert np.isnan(flux_divergence(empty, u, v, tau, on_empty="nan").values).all()


def test_trailing_mean_is_the_mean_over_the_defined_days_of_the_window(nox_world):
    from eoretrieval.nox.flux_divergence import flux_divergence_trailing, flux_divergence_world

    days = nox_world.time.to_index()[[0, 5, 12, 30]]
    mean, today = flux_divergence_trailing(nox_world, days, window=4, return_daily=True)
    every = flux_divergence_world(nox_world, nox_world.time.to_index())
    xr.testing.assert_allclose(today, every.sel(time=days))
    for d in days:
        win = every.sel(time=slice(d - pd.Timedelta(days=3), d))
        expect = win.sum("time", skipna=True) / win.notnull().sum("time").clip(min=1)
        np.testing.assert_allclose(mean.sel(time=d).values, expect.values, rtol=1e-4, atol=1e-15)  # float32 FD
    assert mean.attrs["window_days"] == 4 and mean.attrs["units"] == every.attrs["units"]
    assert not np.allclose(mean.isel(time=-1), today.isel(time=-1))   # a week smooths the day
    # the first day has no history: its mean is the day itself
    np.testing.assert_allclose(mean.isel(time=0).values, np.nan_to_num(today.isel(time=0).values), rtol=1e-4)
