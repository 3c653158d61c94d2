"""Tests of eoretrieval.nox.transport: conservation, decay, advection speed, convergence, CFL."""

import math

import numpy as np
import pytest
import torch

from eoretrieval.nox.transport import (EARTH_RADIUS, SCHEMES, SphericalGrid, cfl_substeps, simulate_day,
                                       simulate_days, transport_step)

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


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("boundary", ["periodic", "closed"])
def test_mass_conserved_without_sink(boundary, scheme):
    grid = _grid(24, 30.0, 36.0, 110.0, 116.0)
    rng = np.random.default_rng(0)
    c = torch.tensor(rng.uniform(0, 1e-4, grid.shape))
    u = torch.tensor(rng.normal(3, 4, grid.shape))
    v = torch.tensor(rng.normal(-1, 4, grid.shape))
    n = cfl_substeps(u, v, grid, duration=86400.0, diffusivity=5000.0)
    m0 = _mass(c, grid)
    out = simulate_day(c, torch.zeros(()), u, v, u, v, torch.zeros(()), grid, n_substeps=n, diffusivity=5000.0,
                       boundary=boundary, scheme=scheme)
    assert abs(_mass(out, grid) - m0) / m0 < 1e-12
    assert float(out.min()) >= 0.0  # both schemes keep the column positive under the CFL condition


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


def _plume_moments(c, grid):
    w = c.numpy() * grid.area()
    x = EARTH_RADIUS * np.radians(np.asarray(grid.lon))[None, :] * np.ones_like(w)
    y = EARTH_RADIUS * np.radians(np.asarray(grid.lat))[:, None] * np.ones_like(w)
    m = w.sum()
    mx, my = (w * x).sum() / m, (w * y).sum() / m
    return mx, (w * (x - mx) ** 2).sum() / m, (w * (y - my) ** 2).sum() / m


def test_effective_diffusion_of_a_plume():
    """Variance growth of an advected Gaussian plume, sigma^2(T) - sigma^2(0) = 2 K_eff T, against the nominal K.

    On a 0.25 degree equatorial grid with u = 5 m s-1 and sub-steps set by a 20 m s-1 maximum wind (Courant number
    ~0.22, as in a world with strong winds elsewhere), first-order upwind adds K_num = |u| dx (1 - nu) / 2 ~ 5e4 m2 s-1
    along the wind, 50 times the nominal 1000 m2 s-1; the flux-limited scheme adds less than a tenth of that.
    Across the wind both give the nominal K.
    """
    n, r = 96, 0.25
    grid = SphericalGrid.from_coords(-n * r / 2 + r * (np.arange(n) + 0.5), 100 + r * (np.arange(n) + 0.5))
    lat = torch.tensor(grid.lat, dtype=torch.float64)[:, None]
    lon = torch.tensor(grid.lon, dtype=torch.float64)[None, :]
    c0 = 1e-4 * torch.exp(-(lat**2 + (lon - 106.0) ** 2) / 2.0)
    u = torch.full(grid.shape, 5.0, dtype=torch.float64)
    v = torch.zeros_like(u)
    K, T = 1000.0, 86400.0
    n_sub = cfl_substeps(4 * u, v, grid, duration=T, diffusivity=K)
    x0, vx0, vy0 = _plume_moments(c0, grid)
    k_eff = {}
    for scheme in SCHEMES:
        c = simulate_day(c0, torch.zeros(()), u, v, u, v, torch.zeros(()), grid, n_substeps=n_sub, diffusivity=K,
                         boundary="periodic", scheme=scheme)
        x1, vx1, vy1 = _plume_moments(c, grid)
        assert (x1 - x0) / T == pytest.approx(5.0, rel=1e-3)
        assert (vy1 - vy0) / (2 * T) == pytest.approx(K, rel=0.01)
        k_eff[scheme] = (vx1 - vx0) / (2 * T)
    dx = grid.dx()[n // 2]
    nu = 5.0 * (T / n_sub) / dx
    assert k_eff["upwind"] == pytest.approx(K + 0.5 * 5.0 * dx * (1 - nu), rel=0.1)
    assert k_eff["upwind"] > 40 * K
    assert k_eff["vanleer"] - K < 0.1 * (k_eff["upwind"] - K)
    assert k_eff["vanleer"] < 3 * K


def test_unknown_scheme_is_named():
    grid = _grid(8)
    c = torch.zeros(grid.shape, dtype=torch.float64)
    with pytest.raises(ValueError, match="unknown advection scheme 'quick'"):
        simulate_day(c, c, c, c, c, c, c, grid, n_substeps=1, scheme="quick")
