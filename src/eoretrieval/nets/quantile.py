"""Regression objectives for skewed targets such as rain rate: quantiles and tail-sensitive losses.

Each objective is a plain class that does not own the network (torchcfm style) and exposes
``loss(model, x1, cond) -> Tensor`` for :func:`eoretrieval.nets.train.train`; ``model(cond)`` returns
``(batch, n_out, y, x)`` and ``x1`` is the target ``(batch, 1, y, x)``.

- :class:`QuantileLoss`: pinball loss summed over several quantile heads (DRAIN/GPROF-NN style).
- :class:`WeightedMSE`: MSE weighted by a function of the target (heavier rain counts more).
- :class:`BalancedMSE`: batch-based Monte-Carlo Balanced MSE of Ren et al. (2022), eq. 8.
- :class:`FocalR`: focal-MSE of Yang et al. (2021), eq. (focal-R).
- :class:`TailMSE`: MSE plus an extreme-value tail term, the mean squared error of the exceedances over a
  high threshold, so that the rare extremes are not swamped by the many light-rain pixels.

Public names: :class:`QuantileLoss`, :class:`WeightedMSE`, :class:`BalancedMSE`, :class:`FocalR`,
:class:`TailMSE`, :func:`pinball`, :func:`quantiles_to_mean`.

References
----------
:cite:`koenker1978` (quantile regression), :cite:`pfreundschuh2022` (quantile-regression neural networks
for precipitation retrievals), :cite:`ren2022` (Balanced MSE), :cite:`yang2021` (focal-R),
:cite:`ding2019` (extreme-value losses).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["QuantileLoss", "WeightedMSE", "BalancedMSE", "FocalR", "TailMSE", "pinball", "quantiles_to_mean",
           "DEFAULT_QUANTILES"]

#: Quantile levels of the DRAIN-like heads.
DEFAULT_QUANTILES = (0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 0.999)


def pinball(pred: torch.Tensor, target: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Element-wise pinball loss :math:`\\rho_\\tau(y - q) = \\max(\\tau (y - q), (\\tau - 1)(y - q))`.

    Shapes: ``pred`` ``(batch, k, y, x)``, ``target`` ``(batch, 1, y, x)``, ``tau`` ``(k,)``; returns
    ``(batch, k, y, x)`` (Koenker & Bassett 1978, eq. 1.3).
    """
    diff = target - pred
    tau = tau.reshape(1, -1, *([1] * (pred.dim() - 2))).to(pred)
    return torch.maximum(tau * diff, (tau - 1.0) * diff)


def quantiles_to_mean(q: torch.Tensor, taus: Sequence[float]) -> torch.Tensor:
    """Expected value from quantile heads ``(batch, k, y, x)`` by the trapezoidal rule over ``taus``.

    The quantile function is extended flat below the first and above the last level, so the estimate is
    :math:`\\int_0^1 F^{-1}(\\tau) d\\tau` of the piecewise-linear quantile function.
    """
    t = torch.as_tensor([0.0, *taus, 1.0], dtype=q.dtype, device=q.device)
    qq = torch.cat([q[:, :1], q, q[:, -1:]], dim=1)
    w = (t[1:] - t[:-1]).reshape(1, -1, *([1] * (q.dim() - 2)))
    return (0.5 * (qq[:, 1:] + qq[:, :-1]) * w).sum(dim=1, keepdim=True)


class QuantileLoss:
    """Mean pinball loss over quantile heads: :math:`\\frac{1}{KN}\\sum_k\\sum_i \\rho_{\\tau_k}(y_i - q_{k,i})`.

    Parameters
    ----------
    quantiles : sequence of float
        Levels in (0, 1), increasing; the network has ``len(quantiles)`` output channels.
    """

    def __init__(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> None:
        q = list(quantiles)
        if not q or any(not 0.0 < t < 1.0 for t in q) or sorted(q) != q:
            raise ValueError(f"quantiles must be increasing levels in (0, 1), got {quantiles}")
        self.quantiles = tuple(q)
        self.n_outputs = len(q)

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Mean pinball loss of ``model(cond)`` ``(batch, k, y, x)`` against ``x1`` ``(batch, 1, y, x)``."""
        pred = model(cond)
        if pred.shape[1] != self.n_outputs:
            raise ValueError(f"model gives {pred.shape[1]} channels; QuantileLoss needs {self.n_outputs}")
        return pinball(pred, x1, torch.as_tensor(self.quantiles)).mean()


class WeightedMSE:
    """MSE with weights growing with the target: :math:`w = 1 + a\\,\\min(y, y_{max})` (Hess & Boers 2022 style).

    Parameters
    ----------
    a : float
        Weight slope per unit of (scaled) target.
    y_max : float
        Cap of the target used in the weight.
    """

    n_outputs = 1

    def __init__(self, *, a: float = 2.0, y_max: float = 5.0) -> None:
        self.a, self.y_max = a, y_max

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Weighted mean squared error."""
        w = 1.0 + self.a * x1.clamp(min=0.0, max=self.y_max)
        return (w * (model(cond) - x1) ** 2).sum() / w.sum()


class BalancedMSE:
    """Balanced MSE, batch-based Monte-Carlo form (Ren et al. 2022, eq. 8), on a random subset of pixels.

    .. math:: \\mathcal L = -\\frac{2\\sigma^2}{M}\\sum_i \\log \\frac{\\exp(-\\|\\hat y_i - y_i\\|^2 / 2\\sigma^2)}
              {\\sum_j \\exp(-\\|\\hat y_i - y_j\\|^2 / 2\\sigma^2)}

    The targets of the batch stand for the training label distribution, so the loss removes its imbalance
    (the prior of light rain). Pixels are subsampled to ``n_pixels`` per batch, half of them wet, to keep
    the ``M × M`` matrix small. ``sigma`` is the (fixed) noise scale of the labels.
    """

    n_outputs = 1

    def __init__(self, *, sigma: float = 0.1, n_pixels: int = 1024, wet: float = 0.01) -> None:
        self.sigma, self.n_pixels, self.wet = sigma, n_pixels, wet

    def _select(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p, y = pred.reshape(-1), target.reshape(-1)
        wet = torch.nonzero(y > self.wet).reshape(-1)
        dry = torch.nonzero(y <= self.wet).reshape(-1)
        half = self.n_pixels // 2
        pick_w = wet[torch.randperm(len(wet), device=y.device)[:half]]
        pick_d = dry[torch.randperm(len(dry), device=y.device)[:self.n_pixels - len(pick_w)]]
        idx = torch.cat([pick_w, pick_d])
        return p[idx], y[idx]

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Balanced MSE on a pixel subset."""
        p, y = self._select(model(cond), x1)
        logits = -(p[:, None] - y[None, :]) ** 2 / (2.0 * self.sigma ** 2)
        target = torch.arange(len(p), device=p.device)
        return F.cross_entropy(logits, target) * (2.0 * self.sigma ** 2)


class FocalR:
    """Focal-MSE (Yang et al. 2021): :math:`\\frac1N\\sum_i (2\\,\\sigma(|\\beta e_i|) - 1)^\\gamma e_i^2`.

    Errors that are already small are down-weighted, so training concentrates on the hard (often heavy)
    pixels.
    """

    n_outputs = 1

    def __init__(self, *, beta: float = 2.0, gamma: float = 1.0) -> None:
        self.beta, self.gamma = beta, gamma

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Focal mean squared error."""
        e = model(cond) - x1
        return ((2.0 * torch.sigmoid(torch.abs(self.beta * e)) - 1.0) ** self.gamma * e ** 2).mean()


class TailMSE:
    """MSE plus an extreme-value tail term: :math:`\\mathcal L = \\mathrm{MSE} + \\lambda\\,\\overline{(\\hat y - y)^2}_{y > u}`.

    The tail term is the mean squared error over the exceedances of the threshold ``u`` (peaks over
    threshold), normalised by their own number so that it does not vanish with their rarity.
    """

    n_outputs = 1

    def __init__(self, *, threshold: float = 1.0, lam: float = 1.0) -> None:
        self.threshold, self.lam = threshold, lam

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """MSE + tail term."""
        se = (model(cond) - x1) ** 2
        tail = x1 > self.threshold
        tail_term = (se * tail).sum() / tail.sum().clamp(min=1)
        return se.mean() + self.lam * tail_term
