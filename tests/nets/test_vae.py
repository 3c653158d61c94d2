import pytest
import torch

from eoretrieval.nets import ELBO, ConditionalVAE, Regression, SmaAtUNet, get_objective, list_objectives


@pytest.fixture
def vae():
    torch.manual_seed(0)
    return ConditionalVAE(3, 1, base_channels=8, depth=2, latent_channels=2, latent_depth=2, reduction=4)


def test_shapes(vae):
    x1, cond = torch.randn(2, 1, 16, 16), torch.randn(2, 3, 16, 16)
    mu, logvar = vae.encode(x1, cond)
    assert mu.shape == logvar.shape == (2, 2, 4, 4)
    mean, dec_logvar = vae.decode(mu, cond)
    assert mean.shape == dec_logvar.shape == (2, 1, 16, 16)
    assert vae(cond).shape == (2, 1, 16, 16)


def test_elbo_finite_and_kl_nonnegative(vae):
    x1, cond = torch.randn(2, 1, 16, 16), torch.randn(2, 3, 16, 16)
    loss = ELBO().loss(vae, x1, cond)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    mu, logvar = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    assert torch.all(ELBO.kl(mu, logvar) >= 0)
    assert torch.allclose(ELBO.kl(torch.zeros(1, 4), torch.zeros(1, 4)), torch.zeros(1))
    # closed form, one dim: KL(N(1, e) || N(0, 1)) = 0.5 (1 + e - 1 - 1)
    e = torch.tensor(1.0).exp()
    assert torch.allclose(ELBO.kl(torch.ones(1, 1), torch.ones(1, 1)), 0.5 * (1 + e - 2) * torch.ones(1))


def test_sample_shape_and_generator(vae):
    cond = torch.randn(3, 3, 16, 16)
    vae.eval()
    s1 = ELBO().sample(vae, cond, n_samples=4, generator=torch.Generator().manual_seed(1))
    s2 = ELBO().sample(vae, cond, n_samples=4, generator=torch.Generator().manual_seed(1))
    assert s1.shape == (4, 3, 1, 16, 16)
    assert torch.equal(s1, s2)
    assert s1.std(dim=0).mean() > 0


def test_regression_objective():
    model = SmaAtUNet(3, 1, base_channels=8, depth=2, reduction=4)
    cond, x1 = torch.randn(2, 3, 8, 8), torch.randn(2, 1, 8, 8)
    assert torch.isfinite(Regression().loss(model, x1, cond))
    assert Regression().sample(model.eval(), cond).shape == (1, 2, 1, 8, 8)


def test_objective_registry():
    assert get_objective("ELBO") is ELBO
    names = list_objectives()
    assert {"elbo", "regression"} <= set(names) and names == sorted(names)
    with pytest.raises(ValueError, match="valid objectives"):
        get_objective("gan")
