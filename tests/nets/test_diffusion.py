"""Tests of eoretrieval.nets.diffusion: schedules in closed form, forward marginal, sampler."""

import math

import pytest

torch = pytest.importorskip("torch")

from eoretrieval.nets.diffusion import GaussianDiffusion, beta_schedule  # noqa: E402
from eoretrieval.nets.unet import UNet  # noqa: E402


def test_linear_schedule_matches_ho2020_at_t1000():
    b = beta_schedule(1000, "linear")
    assert b[0].item() == pytest.approx(1e-4) and b[-1].item() == pytest.approx(0.02)


def test_cosine_schedule_closed_form():
    n, s = 50, 0.008
    abar = torch.cumprod(1 - beta_schedule(n, "cosine"), 0)
    f = lambda t: math.cos((t / n + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    for t in (1, 10, 25, 40):
        assert abar[t - 1].item() == pytest.approx(f(t) / f(0), rel=1e-9)
    with pytest.raises(ValueError, match="schedule"):
        beta_schedule(10, "sigmoid")


def test_q_sample_closed_form():
    d = GaussianDiffusion(n_train_steps=100)
    x1, noise = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    step = torch.tensor([0, 50, 99])
    xt = d.q_sample(x1, step, noise)
    for i, s in enumerate(step.tolist()):
        a = d.alphas_cumprod[s].item()
        assert torch.allclose(xt[i], math.sqrt(a) * x1[i] + math.sqrt(1 - a) * noise[i], atol=1e-6)


def test_respacing():
    d = GaussianDiffusion(n_train_steps=100)
    assert d.respaced_steps(None) == list(range(100))
    steps = d.respaced_steps(10)
    assert len(steps) == 10 and steps[0] == 0 and steps[-1] == 99
    with pytest.raises(ValueError, match="n_steps"):
        d.respaced_steps(101)


@pytest.mark.parametrize("n_steps", [None, 10])
def test_oracle_noise_predictor_recovers_point(n_steps):
    # a network that returns the exact noise for a point target c recovers c with any respacing
    c = 0.7
    d = GaussianDiffusion(n_train_steps=100)

    class Oracle(torch.nn.Module):
        def forward(self, x, t):
            step = torch.round(t * 100).long()
            a = d.alphas_cumprod[step].to(x.dtype).reshape(-1, 1, 1, 1)
            return (x[:, :1] - a.sqrt() * c) / (1 - a).sqrt()

    out = d.sample(Oracle(), torch.zeros(4, 1, 5, 5), n_steps=n_steps, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, torch.full_like(out, c), atol=1e-3)


def test_loss_shape():
    net = UNet(2, 1, base_channels=8, channel_mults=(1,), time_embedding=True)
    loss = GaussianDiffusion(n_train_steps=20).loss(net, torch.randn(2, 1, 8, 8), torch.randn(2, 1, 8, 8))
    assert loss.ndim == 0 and torch.isfinite(loss)


def _gaussian_oracle(d, mu, s):
    """The exact noise predictor E[eps | x_t] for data N(mu, s^2) (channel 0 of the input)."""

    class Oracle(torch.nn.Module):
        def forward(self, x, t):
            step = torch.round(t * d.n_train_steps).long()
            a = d.alphas_cumprod[step].to(x.dtype).reshape(-1, 1, 1, 1)
            return (1 - a).sqrt() * (x[:, :1] - a.sqrt() * mu) / (a * s ** 2 + 1 - a)

    return Oracle()


@pytest.mark.parametrize("n_steps", [None, 10])
def test_ddim_with_eta_one_is_the_ancestral_sampler(n_steps):
    """Song et al.'s sigma with eta = 1 is the DDPM posterior variance and the DDIM mean is the posterior mean: the
    same random draws give the same samples (float64)."""
    d = GaussianDiffusion(n_train_steps=100)
    oracle = _gaussian_oracle(d, 0.5, 0.3)
    cond = torch.zeros(64, 1, 2, 2, dtype=torch.float64)
    a = d.sample(oracle, cond, n_steps=n_steps, generator=torch.Generator().manual_seed(3))
    b = d.sample(oracle, cond, n_steps=n_steps, generator=torch.Generator().manual_seed(3), method="ddim", eta=1.0)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    c = d.sample(oracle, cond, n_steps=n_steps, generator=torch.Generator().manual_seed(3), method="ddim", eta=0.5)
    assert (c - a).abs().max() > 1e-3


@pytest.mark.parametrize("method,eta", [("ancestral", 1.0), ("ddim", 0.0), ("ddim", 0.5)])
def test_every_sampler_draws_the_data_distribution_with_the_exact_noise(method, eta):
    """With the exact noise predictor of N(mu, s^2) data every sampler returns that distribution (mean and sd
    within sampling error of 20 000 draws and the discretisation of the full 200-step schedule; with 50 steps the
    ancestral sampler's sd is 10 % low, DDIM's 3 %)."""
    mu, s = 0.5, 0.3
    d = GaussianDiffusion(n_train_steps=200)
    cond = torch.zeros(5000, 1, 2, 2, dtype=torch.float64)
    out = d.sample(_gaussian_oracle(d, mu, s), cond, n_steps=None, generator=torch.Generator().manual_seed(0),
                   method=method, eta=eta)
    assert abs(float(out.mean()) - mu) < 0.01
    assert abs(float(out.std()) - s) < 0.01


def test_ddim_with_eta_zero_is_deterministic_and_bad_arguments_are_refused():
    d = GaussianDiffusion(n_train_steps=50)
    oracle = _gaussian_oracle(d, 0.0, 1.0)
    x = d.sample(oracle, torch.zeros(2, 1, 3, 3), n_steps=5, generator=torch.Generator().manual_seed(1), method="ddim",
                 eta=0.0)
    y = d.sample(oracle, torch.zeros(2, 1, 3, 3), n_steps=5, generator=torch.Generator().manual_seed(1), method="ddim",
                 eta=0.0)
    torch.testing.assert_close(x, y)
    with pytest.raises(ValueError, match="unknown sampler method 'euler'"):
        d.sample(oracle, torch.zeros(1, 1, 2, 2), method="euler")
    with pytest.raises(ValueError, match="eta must be in"):
        d.sample(oracle, torch.zeros(1, 1, 2, 2), method="ddim", eta=1.5)
