"""Quantile and tail-sensitive objectives: closed forms and a constant-model optimisation."""

import numpy as np
import pytest
import torch
from torch import nn

from eoretrieval.nets import quantile as ql


class Constant(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.c = nn.Parameter(torch.zeros(1, k, 1, 1))

    def forward(self, cond):
        return self.c.expand(cond.shape[0], -1, cond.shape[2], cond.shape[3])


def test_pinball_values():
    pred = torch.tensor([[1.0, 1.0]]).reshape(1, 2, 1, 1)
    target = torch.tensor([3.0]).reshape(1, 1, 1, 1)
    out = ql.pinball(pred, target, torch.tensor([0.1, 0.9]))
    np.testing.assert_allclose(out.flatten().numpy(), [0.2, 1.8], rtol=1e-6)
    out = ql.pinball(pred, torch.zeros(1, 1, 1, 1), torch.tensor([0.1, 0.9]))
    np.testing.assert_allclose(out.flatten().numpy(), [0.9, 0.1], rtol=1e-6)


def test_quantile_loss_is_minimised_by_the_quantiles():
    torch.manual_seed(0)
    y = torch.distributions.Exponential(1.0).sample((64, 1, 4, 4))
    taus = (0.1, 0.5, 0.9)
    model = Constant(3)
    obj = ql.QuantileLoss(taus)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    cond = torch.zeros(64, 1, 4, 4)
    for _ in range(600):
        opt.zero_grad()
        obj.loss(model, y, cond).backward()
        opt.step()
    expected = np.quantile(y.numpy().ravel(), taus)
    np.testing.assert_allclose(model.c.detach().flatten().numpy(), expected, atol=0.05)


def test_quantile_loss_errors():
    with pytest.raises(ValueError):
        ql.QuantileLoss((0.5, 0.1))
    with pytest.raises(ValueError, match="needs 2"):
        ql.QuantileLoss((0.1, 0.9)).loss(Constant(3), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))


def test_quantiles_to_mean():
    q = torch.full((2, 3, 4, 4), 2.5)
    assert torch.allclose(ql.quantiles_to_mean(q, (0.1, 0.5, 0.9)), torch.full((2, 1, 4, 4), 2.5))
    # uniform(0, 1): quantile function tau -> mean 0.5 with dense levels
    taus = np.linspace(0.01, 0.99, 99)
    q = torch.tensor(taus, dtype=torch.float64).reshape(1, -1, 1, 1)
    assert float(ql.quantiles_to_mean(q, taus)) == pytest.approx(0.5, abs=1e-3)


def test_weighted_tail_focal_reduce_to_mse():
    torch.manual_seed(1)
    model, cond = Constant(1), torch.zeros(4, 1, 3, 3)
    y = torch.rand(4, 1, 3, 3)
    mse = torch.mean((model(cond) - y) ** 2)
    assert torch.isclose(ql.WeightedMSE(a=0.0).loss(model, y, cond), mse)
    assert torch.isclose(ql.TailMSE(threshold=10.0).loss(model, y, cond), mse)
    # tail term = MSE over exceedances only
    tail = ql.TailMSE(threshold=0.5, lam=1.0).loss(model, y, cond)
    exc = y > 0.5
    assert torch.isclose(tail, mse + torch.mean(((model(cond) - y) ** 2)[exc]))
    # focal-R: errors -> 0 weight (2 sigmoid(0) - 1 = 0) for exact predictions
    assert float(ql.FocalR().loss(model, torch.zeros(4, 1, 3, 3), cond).detach()) == 0.0


def test_balanced_mse_prefers_correct_predictions():
    torch.manual_seed(2)
    y = torch.rand(8, 1, 8, 8)

    class Echo(nn.Module):
        def __init__(self, y, noise):
            super().__init__()
            self.y, self.noise = y, noise

        def forward(self, cond):
            return self.y + self.noise * torch.randn_like(self.y)

    obj = ql.BalancedMSE(sigma=0.05, n_pixels=256)
    good = obj.loss(Echo(y, 0.0), y, y)
    bad = obj.loss(Echo(y, 0.3), y, y)
    assert torch.isfinite(good) and good < bad
