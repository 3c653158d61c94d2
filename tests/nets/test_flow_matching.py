"""Tests of eoretrieval.nets.flow_matching: closed-form xt/ut (torchcfm style), ODE sampler, residual variant."""

import pytest

torch = pytest.importorskip("torch")

from eoretrieval.nets.flow_matching import ConditionalFlowMatcher, ResidualFlowMatcher, integrate_ode  # noqa: E402
from eoretrieval.nets.unet import UNet  # noqa: E402


@pytest.mark.parametrize("sigma", [0.0, 0.1, 0.5])
def test_xt_ut_closed_form(sigma):
    gen = torch.Generator().manual_seed(1)
    x0, x1 = torch.randn(5, 2, 4, 3, generator=gen), torch.randn(5, 2, 4, 3, generator=gen)
    t = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])
    cfm = ConditionalFlowMatcher(sigma=sigma)
    t_out, xt, ut, eps = cfm.sample_location_and_conditional_flow(x0, x1, t, return_noise=True)
    for i, ti in enumerate(t.tolist()):
        assert torch.allclose(xt[i], ti * x1[i] + (1 - ti) * x0[i] + sigma * eps[i], atol=1e-6)
        assert torch.allclose(ut[i], x1[i] - x0[i])
    assert torch.equal(t_out, t)
    # endpoints: at t=0 and t=1 the mean is x0 and x1
    assert torch.allclose(cfm.compute_mu_t(x0, x1, torch.zeros(5)), x0)
    assert torch.allclose(cfm.compute_mu_t(x0, x1, torch.ones(5)), x1)


def test_sampled_t_uniform_and_shape_check():
    cfm = ConditionalFlowMatcher()
    x = torch.zeros(4000, 1)
    t, _, _ = cfm.sample_location_and_conditional_flow(x, x, generator=torch.Generator().manual_seed(0))
    assert 0.0 <= t.min() and t.max() <= 1.0 and abs(t.mean().item() - 0.5) < 0.02
    with pytest.raises(ValueError, match="same shape"):
        cfm.sample_location_and_conditional_flow(torch.zeros(2, 1), torch.zeros(3, 1))


@pytest.mark.parametrize("method, n, tol", [("euler", 200, 2e-2), ("heun", 20, 6e-3)])
def test_ode_integrator_exponential(method, n, tol):
    # dx/dt = x, x(0) = 1 -> x(1) = e
    x = integrate_ode(lambda x, t: x, torch.ones(1, dtype=torch.float64), n_steps=n, method=method)
    assert abs(x.item() - torch.e) < tol
    assert ConditionalFlowMatcher.nfe(n, method) == (n if method == "euler" else 2 * n - 1)
    if method == "heun":  # second order beats Euler at the same NFE
        euler = integrate_ode(lambda x, t: x, torch.ones(1, dtype=torch.float64), n_steps=2 * n - 1)
        assert abs(x.item() - torch.e) < 0.2 * abs(euler.item() - torch.e)


def test_exact_velocity_transports_gaussian_to_point():
    # with sigma=0 and the exact marginal velocity for a point target x1=c, (c - x)/(1 - t), Euler lands on c
    c = torch.full((3, 1, 2, 2), 2.5)
    x0 = torch.randn(3, 1, 2, 2)
    out = integrate_ode(lambda x, t: (c - x) / (1 - t), x0, n_steps=7)
    assert torch.allclose(out, c, atol=1e-5)


def test_loss_and_sample_shapes_and_overfit():
    torch.manual_seed(0)
    net = UNet(2, 1, base_channels=8, channel_mults=(1, 2), time_embedding=True)
    cfm = ConditionalFlowMatcher()
    cond = torch.randn(8, 1, 8, 8)
    x1 = torch.full((8, 1, 8, 8), 1.5)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(300):
        loss = cfm.loss(net, x1, cond)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = cfm.sample(net, cond, n_steps=8, generator=torch.Generator().manual_seed(0))
    assert out.shape == (8, 1, 8, 8)
    assert abs(out.mean().item() - 1.5) < 0.3


def test_residual_matcher_adds_mean():
    mean_net = UNet(1, 1, base_channels=8, channel_mults=(1,))
    res = ResidualFlowMatcher(mean_net, residual_scale=0.5)
    cond = torch.randn(2, 1, 8, 8)

    class Zero(torch.nn.Module):
        def forward(self, x, t):
            return torch.zeros_like(x[:, :1])

    gen = torch.Generator().manual_seed(3)
    out = res.sample(Zero(), cond, n_steps=3, generator=gen)
    x0 = torch.randn((2, 1, 8, 8), generator=torch.Generator().manual_seed(3))
    assert torch.allclose(out, res.mean(cond) + 0.5 * x0, atol=1e-6)
    assert all(not p.requires_grad for p in mean_net.parameters())
    net = UNet(3, 1, base_channels=8, channel_mults=(1,), time_embedding=True)
    assert res.loss(net, torch.randn(2, 1, 8, 8), cond).ndim == 0
    with pytest.raises(ValueError, match="residual_scale"):
        ResidualFlowMatcher(mean_net, residual_scale=0.0)


def test_time_grid_uniform_and_power():
    from eoretrieval.nets.flow_matching import time_grid
    assert torch.equal(time_grid(7), torch.linspace(0, 1, 8))  # p = 1 is torch's own uniform grid, bit for bit
    g = time_grid(5, power=2.0, dtype=torch.float64)
    assert torch.allclose(g, torch.tensor([0.0, 0.36, 0.64, 0.84, 0.96, 1.0], dtype=torch.float64))
    g3 = time_grid(4, power=3.0, t0=0.5, t1=1.0, dtype=torch.float64)
    assert g3[0] == 0.5 and g3[-1] == 1.0 and bool((g3.diff() > 0).all())
    assert bool((g3.diff().diff() < 0).all())  # steps shorten toward t1
    with pytest.raises(ValueError, match="power"):
        time_grid(3, power=0.0)
    with pytest.raises(ValueError, match="n_steps"):
        time_grid(0)


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_integrate_ode_uses_the_time_grid(method):
    from eoretrieval.nets.flow_matching import time_grid
    seen = []
    integrate_ode(lambda x, t: seen.append(float(t)) or x, torch.ones(1, dtype=torch.float64), n_steps=4,
                  method=method, time_power=2.0)
    grid = time_grid(4, power=2.0, dtype=torch.float64).tolist()
    # Euler evaluates at t_0 .. t_{n-1}; Heun's corrector also at t_1 .. t_{n-1} (its last step is Euler)
    assert seen[0] == 0.0 and sorted(set(seen)) == pytest.approx(grid[:-1])
    assert len(seen) == ConditionalFlowMatcher.nfe(4, method)
    # the non-uniform grid still converges: dx/dt = x from 1 reaches e
    x = integrate_ode(lambda x, t: x, torch.ones(1, dtype=torch.float64), n_steps=400, method=method, time_power=2.0)
    assert abs(x.item() - torch.e) < (1e-2 if method == "euler" else 1e-5)
