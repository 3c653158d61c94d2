"""Conditional denoising diffusion (DDPM) :cite:`ho2020`: an objective that does not own the network, with
ancestral sampling on the full or a respaced (strided) schedule :cite:`nichol2021`, or DDIM sampling
:cite:`song2021ddim` (``method="ddim"``, stochasticity ``eta``: 0 deterministic, 1 the ancestral sampler's variance).

The noise-prediction network is called as ``model(torch.cat([xt, cond], 1), t)`` with
``t = step / n_train_steps`` of shape ``(batch,)`` (e.g. :class:`~eoretrieval.nets.unet.UNet` with
``time_embedding=True``).

Public names: :class:`GaussianDiffusion`, :func:`beta_schedule`.

References
----------
:cite:`ho2020` (DDPM: eq. 4 forward marginal, eq. 11-12 sampler, eq. 14 simple loss),
:cite:`nichol2021` (cosine schedule eq. 17, respacing section 4), :cite:`song2021ddim` (DDIM, eqs. 12 and 16).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["GaussianDiffusion", "beta_schedule"]


def beta_schedule(n_steps: int, kind: str = "cosine") -> torch.Tensor:
    """Return the variance schedule :math:`\\beta_1 \\dots \\beta_T`, shape ``(n_steps,)`` (float64).

    ``"linear"``: :math:`10^{-4} \\cdot 1000/T \\dots 0.02 \\cdot 1000/T` (Ho et al. 2020, scaled to T);
    ``"cosine"``: :math:`\\bar\\alpha_t = f(t)/f(0)`, :math:`f(t) = \\cos^2(\\frac{t/T + s}{1 + s}\\frac{\\pi}{2})`,
    :math:`s = 0.008`, betas clipped at 0.999 (Nichol & Dhariwal 2021, eq. 17).
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if kind == "linear":
        scale = 1000.0 / n_steps
        return torch.linspace(1e-4 * scale, min(0.02 * scale, 0.999), n_steps, dtype=torch.float64)
    if kind == "cosine":
        s = 0.008
        t = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        abar = f / f[0]
        return torch.clamp(1 - abar[1:] / abar[:-1], max=0.999)
    raise ValueError(f"unknown schedule {kind!r}; valid: 'linear', 'cosine'")


class GaussianDiffusion:
    """Conditional DDPM with the simple noise-prediction loss.

    .. math::
        q(x_t \\mid x_0) = N(\\sqrt{\\bar\\alpha_t} x_0, (1 - \\bar\\alpha_t) I), \\quad
        L = \\mathbb{E}\\,\\lVert \\epsilon - \\epsilon_\\theta(x_t, t, c) \\rVert^2

    (Ho et al. 2020, eqs. 4 and 14). Here :math:`x_0` is the data (torchcfm calls it ``x1``).

    Parameters
    ----------
    n_train_steps : int
        Diffusion steps :math:`T`.
    schedule : {"cosine", "linear"}
    clip_x0 : float or None
        Clip the predicted clean sample to ``[-clip_x0, clip_x0]`` while sampling (None: no clipping).
    """

    def __init__(self, *, n_train_steps: int = 200, schedule: str = "cosine", clip_x0: float | None = None) -> None:
        self.n_train_steps = int(n_train_steps)
        self.schedule = schedule
        self.clip_x0 = clip_x0
        self.betas = beta_schedule(self.n_train_steps, schedule)
        self.alphas_cumprod = torch.cumprod(1 - self.betas, dim=0)

    def q_sample(self, x1: torch.Tensor, step: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Draw :math:`x_t = \\sqrt{\\bar\\alpha_t} x_1 + \\sqrt{1 - \\bar\\alpha_t} \\epsilon` (eq. 4).

        ``x1``, ``noise`` ``(bs, *dim)``; ``step`` ``(bs,)`` integer in ``[0, T)``.
        """
        abar = self.alphas_cumprod.to(x1.device)[step].to(x1.dtype).reshape(-1, *([1] * (x1.dim() - 1)))
        return abar.sqrt() * x1 + (1 - abar).sqrt() * noise

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Simple loss (eq. 14): MSE between the noise and ``model(cat(xt, cond), step / T)``."""
        step = torch.randint(0, self.n_train_steps, (x1.shape[0],), device=x1.device)
        noise = torch.randn_like(x1)
        xt = self.q_sample(x1, step, noise)
        eps = model(torch.cat([xt, cond], dim=1), step.to(x1.dtype) / self.n_train_steps)
        return torch.mean((eps - noise) ** 2)

    def respaced_steps(self, n_steps: int | None) -> list[int]:
        """Training steps used by a sampler of ``n_steps`` evaluations (uniform stride; None: all T)."""
        n = self.n_train_steps if n_steps is None else int(n_steps)
        if not 1 <= n <= self.n_train_steps:
            raise ValueError(f"n_steps must be in [1, {self.n_train_steps}], got {n_steps}")
        return sorted({int(round(v)) for v in torch.linspace(0, self.n_train_steps - 1, n).tolist()})

    def sample(self, model: nn.Module, cond: torch.Tensor, *, out_channels: int = 1, n_steps: int | None = None,
               generator: torch.Generator | None = None, method: str = "ancestral", eta: float = 1.0) -> torch.Tensor:
        """Ancestral sampling (Ho et al. 2020, algorithm 2) or DDIM (Song et al. 2021) on a respaced schedule.

        With ``n_steps`` below T, the betas are recomputed from :math:`\\bar\\alpha` at the kept steps
        (Nichol & Dhariwal 2021, section 4); NFE = ``n_steps`` for both methods.

        Parameters
        ----------
        model : torch.nn.Module
            Noise-prediction network.
        cond : torch.Tensor
            Condition ``(bs, c', y, x)``; repeat along the batch for an ensemble.
        out_channels : int
        n_steps : int or None
            Number of network evaluations (None: T).
        generator : torch.Generator, optional
        method : {"ancestral", "ddim"}
            ``"ddim"``: :math:`x_{s} = \\sqrt{\\bar\\alpha_s}\\hat x_0 + \\sqrt{1 - \\bar\\alpha_s - \\sigma^2}
            \\hat\\epsilon + \\sigma z` with :math:`\\sigma = \\eta \\sqrt{(1 - \\bar\\alpha_s)/(1 -
            \\bar\\alpha_t)}\\sqrt{1 - \\bar\\alpha_t/\\bar\\alpha_s}` (Song et al. 2021, eqs. 12 and 16);
            :math:`\\hat\\epsilon` is recomputed from the clipped :math:`\\hat x_0` when ``clip_x0`` is set. With
            ``eta = 1`` and no clipping it is the ancestral sampler (the same draws give the same samples).
        eta : float
            DDIM only: 0 deterministic (an ODE sampler), 1 the ancestral variance.

        Returns
        -------
        torch.Tensor
            Samples ``(bs, out_channels, y, x)``.
        """
        if method not in ("ancestral", "ddim"):
            raise ValueError(f"unknown sampler method {method!r}; valid: 'ancestral', 'ddim'")
        if not 0.0 <= float(eta) <= 1.0:
            raise ValueError(f"eta must be in [0, 1], got {eta}")
        steps = self.respaced_steps(n_steps)
        abar_all = self.alphas_cumprod
        shape = (cond.shape[0], out_channels, *cond.shape[2:])
        x = torch.randn(shape, generator=generator, dtype=cond.dtype).to(cond.device)
        with torch.no_grad():
            for i in reversed(range(len(steps))):
                s = steps[i]
                abar = abar_all[s]
                abar_prev = abar_all[steps[i - 1]] if i > 0 else torch.tensor(1.0, dtype=torch.float64)
                beta = 1 - abar / abar_prev
                t = torch.full((x.shape[0],), s / self.n_train_steps, dtype=x.dtype, device=x.device)
                eps = model(torch.cat([x, cond], dim=1), t)
                x0_hat = (x - math.sqrt(1 - abar) * eps) / math.sqrt(abar)
                if self.clip_x0 is not None:
                    x0_hat = x0_hat.clamp(-self.clip_x0, self.clip_x0)
                var = float(beta * (1 - abar_prev) / (1 - abar))   # the posterior variance (Ho et al. eq. 7)
                if method == "ddim":
                    if self.clip_x0 is not None:
                        eps = (x - math.sqrt(abar) * x0_hat) / math.sqrt(1 - abar)
                    sigma2 = float(eta) ** 2 * var
                    mean = math.sqrt(float(abar_prev)) * x0_hat + math.sqrt(max(float(1 - abar_prev) - sigma2, 0.0)) * eps
                else:
                    # posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eqs. 6-7)
                    coef0 = math.sqrt(abar_prev) * beta / (1 - abar)
                    coeft = math.sqrt(1 - beta) * (1 - abar_prev) / (1 - abar)
                    mean = float(coef0) * x0_hat + float(coeft) * x
                    sigma2 = var
                if i > 0 and sigma2 > 0:
                    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
                    x = mean + math.sqrt(sigma2) * noise
                else:
                    x = mean
        return x

    @staticmethod
    def nfe(n_steps: int) -> int:
        """Number of network evaluations of :meth:`sample` with ``n_steps``."""
        return int(n_steps)
