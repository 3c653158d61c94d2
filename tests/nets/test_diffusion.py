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
