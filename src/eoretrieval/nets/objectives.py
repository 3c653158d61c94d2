"""Training objectives that do not own the network (torchcfm style): each has ``loss(model, x1, cond)`` and
``sample(model, cond, *, n_samples, generator)`` returning ``(n_samples, batch, c, y, x)``.

Public names: :class:`Regression` (mean squared error), :class:`ELBO` (negative ELBO of a
:class:`~eoretrieval.nets.vae.ConditionalVAE`).

References
----------
:cite:`kingma2014` (the ELBO and the Gaussian KL of appendix B), :cite:`sohn2015` (conditional VAE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .vae import ConditionalVAE

__all__ = ["Regression", "ELBO"]


class ELBO:
    """Negative evidence lower bound of a :class:`ConditionalVAE`, per pixel.

    .. math::
        \\mathcal{L} = \\frac{1}{N}\\Big[\\sum_i \\tfrac12\\big(\\log\\sigma_i^2 + (x_i-\\mu_i)^2/\\sigma_i^2
        + \\log 2\\pi\\big) + \\beta\\,\\mathrm{KL}\\big(q(z\\mid x_1,c)\\,\\|\\,\\mathcal N(0,I)\\big)\\Big]

    with :math:`N` the number of target pixels, the Gaussian KL
    :math:`\\tfrac12\\sum(\\mu^2+\\sigma^2-\\log\\sigma^2-1)` (Kingma & Welling 2014, appendix B) and
    :math:`\\beta = 1` giving the conditional ELBO of Sohn et al. (2015).

    Parameters
    ----------
    beta : float
        Weight of the KL term.
    decoder_logvar : float, optional
        Fix :math:`\\log\\sigma_i^2` to this constant instead of the decoder's output. With a fixed, small
        pixel variance the reconstruction cannot be bought with pixel noise: what the condition does not
        determine has to go through the latent, so samples differ coherently in space (posterior collapse
        onto white pixel noise is what a learned variance allows).
    """

    def __init__(self, *, beta: float = 1.0, decoder_logvar: float | None = None) -> None:
        self.beta = beta
        self.decoder_logvar = decoder_logvar

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(mu, exp(logvar)) || N(0, 1)) summed over latent dims, shape ``(batch,)``; always >= 0."""
        return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).flatten(1).sum(dim=1)

    def loss(self, model: ConditionalVAE, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Mean negative ELBO per pixel of ``x1`` ``(batch, c, y, x)`` given ``cond`` ``(batch, c', y, x)``."""
        mu, logvar = model.encode(x1, cond)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        mean, dec_logvar = model.decode(z, cond)
        if self.decoder_logvar is not None:
            dec_logvar = torch.full_like(mean, float(self.decoder_logvar))
        nll = 0.5 * (dec_logvar + (x1 - mean).pow(2) * (-dec_logvar).exp() + torch.log(torch.tensor(2 * torch.pi)))
        n_pix = x1[0].numel()
        return (nll.flatten(1).sum(dim=1) + self.beta * self.kl(mu, logvar)).mean() / n_pix

    @torch.no_grad()
    def sample(self, model: ConditionalVAE, cond: torch.Tensor, *, n_samples: int = 16,
               generator: torch.Generator | None = None, pixel_noise: bool | None = None) -> torch.Tensor:
        """Draw ``n_samples`` maps from :math:`p(x_1 \\mid c)`: shape ``(n_samples, batch, c, y, x)``.

        ``z`` is drawn from the prior; with ``pixel_noise`` the decoder's Gaussian noise is added too
        (the posterior predictive), otherwise each sample is the decoder mean. The default (None) adds it
        only when the decoder variance is learned; with a fixed ``decoder_logvar`` the spread is the latent's.
        """
        if pixel_noise is None:
            pixel_noise = self.decoder_logvar is None
        out = []
        for _ in range(n_samples):
            z = torch.randn(model.latent_shape(cond), generator=generator, dtype=cond.dtype, device=cond.device)
            mean, logvar = model.decode(z, cond)
            if pixel_noise:
                eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
                mean = mean + eps * (0.5 * logvar).exp()
            out.append(mean)
        return torch.stack(out)


class Regression:
    """Deterministic regression objective: mean squared error of ``model(cond)`` against ``x1``.

    .. math:: \\mathcal{L} = \\frac{1}{N}\\sum_i (f_\\theta(c)_i - x_{1,i})^2

    ``sample`` returns the single deterministic prediction as one member, so deterministic and
    generative models share one evaluation path.
    """

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Mean squared error over all pixels of ``x1`` ``(batch, c, y, x)``."""
        return F.mse_loss(model(cond), x1)

    @torch.no_grad()
    def sample(self, model: nn.Module, cond: torch.Tensor, *, n_samples: int = 1,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Return ``model(cond)`` with a leading member axis of length 1: ``(1, batch, c, y, x)``."""
        return model(cond).unsqueeze(0)
