"""The objectives against hand computations (stub networks with known outputs)."""

import math

import pytest
import torch

from eoretrieval.nets.objectives import ELBO, Regression


class _StubVAE:
    """encode -> (mu = 0, logvar = -30): z = mu to 1e-6; decode -> (mean = m, logvar = lv)."""

    def __init__(self, mean: float, logvar: float, latent=(2, 2, 2)):
        self.mean, self.logvar, self.latent = mean, logvar, latent

    def encode(self, x1, cond):
        shape = (x1.shape[0], *self.latent)
        return torch.zeros(shape, dtype=torch.float64), torch.full(shape, -30.0, dtype=torch.float64)

    def decode(self, z, cond):
        shape = (z.shape[0], 1, 4, 4)
        return torch.full(shape, self.mean, dtype=torch.float64), torch.full(shape, self.logvar, dtype=torch.float64)


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
def test_elbo_equals_the_hand_computed_value(beta):
    torch.manual_seed(0)
    x1 = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    stub = _StubVAE(mean=0.5, logvar=math.log(2.0))
    loss = ELBO(beta=beta).loss(stub, x1, cond=None)
    nll = 0.5 * (math.log(2.0) + (x1 - 0.5) ** 2 / 2.0 + math.log(2 * math.pi))  # Gaussian NLL per pixel
    kl = 0.5 * (math.exp(-30.0) + 30.0 - 1.0) * 8  # per sample, 8 latent values
    expected = (nll.flatten(1).sum(1) + beta * kl).mean() / 16
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)  # log(2 pi) is a float32 constant in ELBO


def test_regression_is_the_mean_squared_error():
    x1, pred = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 5, 5)
    model = lambda cond: pred  # noqa: E731
    assert float(Regression().loss(model, x1, cond=None)) == pytest.approx(float(((pred - x1) ** 2).mean()), rel=1e-6)
    assert torch.equal(Regression().sample(model, None)[0], pred)


def test_fixed_decoder_logvar_replaces_the_decoder_variance():
    """With ``decoder_logvar`` the loss ignores the decoder's variance output and uses the constant."""
    torch.manual_seed(0)
    x1 = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    stub = _StubVAE(mean=0.5, logvar=5.0)   # a large learned variance that the fixed one must override
    loss = ELBO(beta=0.0, decoder_logvar=math.log(0.25)).loss(stub, x1, cond=None)
    nll = 0.5 * (math.log(0.25) + (x1 - 0.5) ** 2 / 0.25 + math.log(2 * math.pi))
    assert float(loss) == pytest.approx(float(nll.flatten(1).sum(1).mean() / 16), rel=1e-6)
    assert float(ELBO(beta=0.0).loss(stub, x1, cond=None)) != pytest.approx(float(loss), rel=1e-3)


class _LatentStub:
    """A decoder whose mean is the (upsampled) latent: samples differ only through z."""

    def latent_shape(self, cond):
        return (cond.shape[0], 1, 2, 2)

    def decode(self, z, cond):
        mean = z.repeat_interleave(2, dim=-1).repeat_interleave(2, dim=-2)
        return mean, torch.full_like(mean, math.log(100.0))


def test_sample_adds_pixel_noise_only_with_a_learned_variance():
    cond = torch.zeros(2, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    fixed = ELBO(decoder_logvar=-2.0).sample(_LatentStub(), cond, n_samples=8, generator=g)
    # latent only: each 2x2 block is constant within a member (spatially coherent)
    assert torch.equal(fixed[..., 0::2, 0::2], fixed[..., 1::2, 1::2])
    learned = ELBO().sample(_LatentStub(), cond, n_samples=8, generator=torch.Generator().manual_seed(0))
    assert float((learned - fixed).std()) > 5.0   # pixel noise of std 10 added
