"""Tests of eoretrieval.osse.transport: conservation, decay, advection speed, convergence, CFL."""

import math

import numpy as np
import pytest
import torch

from eoretrieval.osse.transport import (EARTH_RADIUS, SphericalGrid, cfl_substeps, simulate_day, simulate_days,
                                        transport_step)

torch.set_num_threads(1)


def _grid(n=32, lat0=-4.0, lat1=4.0, lon0=100.0, lon1=108.0):
    r = (lat1 - lat0) / n
    return SphericalGrid.from_coords(lat0 + r * (np.arange(n) + 0.5), lon0 + (lon1 - lon0) / n * (np.arange(n) + 0.5))


def _blob(grid, lat_c, lon_c, width_deg):
    lat = torch.tensor(grid.lat, dtype=torch.float64)[:, None]
    lon = torch.tensor(grid.lon, dtype=torch.float64)[None, :]
    return 1e-4 * torch.exp(-((lat - lat_c) ** 2 + (lon - lon_c) ** 2) / (2 * width_deg**2))


def _mass(c, grid):
    return float((c * torch.tensor(grid.area(), dtype=c.dtype)).sum())


@pytest.mark.parametrize("boundary", ["periodic", "closed"])
def test_mass_conserved_without_sink(boundary):
    grid = _grid(24, 30.0, 36.0, 110.0, 116.0)
    rng = np.random.default_rng(0)
    c = torch.tensor(rng.uniform(0, 1e-4, grid.shape))
    u = torch.tensor(rng.normal(3, 4, grid.shape))
    v = torch.tensor(rng.normal(-1, 4, grid.shape))
    n = cfl_substeps(u, v, grid, duration=86400.0, diffusivity=5000.0)
    m0 = _mass(c, grid)
    out = simulate_day(c, torch.zeros(()), u, v, u, v, torch.zeros(()), grid, n_substeps=n, diffusivity=5000.0,
                       boundary=boundary)
    assert abs(_mass(out, grid) - m0) / m0 < 1e-12
    assert float(out.min()) >= 0.0  # upwind is positivity preserving under CFL


def test_exponential_decay_without_wind():
    grid = _grid(8)
    tau = 6 * 3600.0
    c0 = torch.full(grid.shape, 2e-4, dtype=torch.float64)
    out = simulate_day(c0, torch.zeros(()), torch.zeros(()), torch.zeros(()), torch.zeros(()), torch.zeros(()),
                       torch.tensor(1 / tau, dtype=torch.float64), grid, n_substeps=7, duration=10 * 3600.0, boundary="periodic")
    np.testing.assert_allclose(out.numpy(), 2e-4 * math.exp(-10 / 6), rtol=1e-12)
    # constant source: c -> E tau + (c0 - E tau) exp(-t/tau), exact with the exponential integrator
    e = 1e-8
    out = simulate_day(c0, torch.tensor(e, dtype=torch.float64), torch.zeros(()), torch.zeros(()), torch.zeros(()), torch.zeros(()),
                       torch.tensor(1 / tau, dtype=torch.float64), grid, n_substeps=3, duration=10 * 3600.0, boundary="periodic")
    expected = e * tau + (2e-4 - e * tau) * math.exp(-10 / 6)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_plume_moves_downwind_at_wind_speed():
    grid = _grid(64, -4.0, 4.0, 100.0, 116.0)
    c0 = _blob(grid, 0.0, 104.0, 0.6)
    u, hours = 10.0, 24.0
    n = cfl_substeps(torch.tensor(u), torch.tensor(0.0), grid, duration=hours * 3600)
    out = simulate_day(c0, torch.zeros(()), torch.tensor(u), torch.tensor(0.0), torch.tensor(u), torch.tensor(0.0),
                       torch.zeros(()), grid, n_substeps=n, duration=hours * 3600, boundary="periodic")
    lon = torch.tensor(grid.lon, dtype=torch.float64)[None, :]
    com0 = float((c0 * lon).sum() / c0.sum())
    com1 = float((out * lon).sum() / out.sum())
    expected = math.degrees(u * hours * 3600 / EARTH_RADIUS)  # cos(lat) ~ 1 within 4 deg of the equator
    assert abs((com1 - com0) - expected) / expected < 0.01


def test_error_decreases_when_grid_is_refined():
    errors = []
    for n in (16, 32, 64):
        grid = _grid(n, -4.0, 4.0, 100.0, 108.0)
        c0 = _blob(grid, 0.0, 102.5, 0.7)
        hours = 12.0
        u = 10.0
        shift = math.degrees(u * hours * 3600 / EARTH_RADIUS)
        exact = _blob(grid, 0.0, 102.5 + shift, 0.7)  # pure translation (cos lat ~ 1)
        k = cfl_substeps(torch.tensor(u), torch.tensor(0.0), grid, duration=hours * 3600)
        out = simulate_day(c0, torch.zeros(()), torch.tensor(u), torch.tensor(0.0), torch.tensor(u),
                           torch.tensor(0.0), torch.zeros(()), grid, n_substeps=k, duration=hours * 3600,
                           boundary="periodic")
        errors.append(float(torch.sqrt(torch.mean((out - exact) ** 2))))
    assert errors[0] > errors[1] > errors[2]
    assert errors[0] / errors[2] > 2.0  # about first order


def test_cfl_substeps_stabilise_the_scheme():
    grid = _grid(32, 30.0, 38.0, 110.0, 118.0)
    c0 = _blob(grid, 34.0, 114.0, 0.3)
    u = torch.tensor(15.0)
    n = cfl_substeps(u, torch.tensor(0.0), grid, duration=86400.0)
    dx_min = float(grid.dx().min())
    assert 15.0 * 86400.0 / n / dx_min <= 0.9 + 1e-9  # Courant number respected
    good = simulate_day(c0, torch.zeros(()), u, torch.tensor(0.0), u, torch.tensor(0.0), torch.zeros(()), grid,
                        n_substeps=n, boundary="periodic")
    bad = simulate_day(c0, torch.zeros(()), u, torch.tensor(0.0), u, torch.tensor(0.0), torch.zeros(()), grid,
                       n_substeps=max(1, n // 3), boundary="periodic")
    assert float(good.max()) <= float(c0.max()) and float(good.min()) >= 0
    assert float(bad.abs().max()) > 10 * float(c0.max())  # unstable without sub-stepping


def test_open_boundary_inflow_reaches_background():
    grid = _grid(16, 30.0, 34.0, 110.0, 114.0)
    out = simulate_day(torch.zeros(grid.shape, dtype=torch.float64), torch.zeros(()), torch.tensor(10.0),
                       torch.tensor(0.0), torch.tensor(10.0), torch.tensor(0.0), torch.zeros(()), grid,
                       n_substeps=60, boundary="open", background=1e-5)
    np.testing.assert_allclose(out.numpy(), 1e-5, rtol=1e-6)


def test_differentiable_and_batched():
    grid = _grid(8, 30.0, 32.0, 110.0, 112.0)
    e = torch.full((3, *grid.shape), 1e-8, dtype=torch.float64, requires_grad=True)
    days = simulate_days(torch.zeros(grid.shape, dtype=torch.float64), e, torch.full((3, 1, 1), 4.0, dtype=torch.float64),
                         torch.zeros((3, 1, 1), dtype=torch.float64), torch.full((3, 1, 1), 1 / 36000.0, dtype=torch.float64),
                         grid, u_init=torch.tensor(4.0), v_init=torch.tensor(0.0), n_substeps=10)
    assert days.shape == (3, *grid.shape)
    days[-1].sum().backward()
    assert torch.isfinite(e.grad).all() and float(e.grad.sum()) > 0


def test_bad_arguments():
    grid = _grid(4)
    with pytest.raises(ValueError, match="boundary"):
        transport_step(torch.zeros(grid.shape), 0.0, 0.0, torch.zeros(()), torch.zeros(()), 10.0, grid.tensors(),
                       boundary="reflective")
    with pytest.raises(ValueError, match="lat"):
        SphericalGrid.from_coords([1.0, 0.0, -1.0], [1.0, 2.0])
