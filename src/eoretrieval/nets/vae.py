"""Conditional variational autoencoder (cVAE) for emission maps.

The model :class:`ConditionalVAE` holds an encoder :math:`q_\\phi(z \\mid x_1, c)` and a decoder
:math:`p_\\theta(x_1 \\mid z, c)`; its objective :class:`~eoretrieval.nets.objectives.ELBO` lives in
:mod:`eoretrieval.nets.objectives` and does not own the network (torchcfm style).

- Encoder: ``(x1, cond)`` → a latent map ``z`` of ``latent_channels`` at ``1 / 2**latent_depth`` of the
  input resolution (mean and log-variance).
- Decoder: a :class:`~eoretrieval.nets.smaat_unet.SmaAtUNet` on ``(cond, upsample(z))`` → per-pixel mean and
  log-variance of a Gaussian likelihood (heteroscedastic), so that samples carry both the latent spread and
  the decoder's pixel noise.

Public names: :class:`ConditionalVAE`.

References
----------
:cite:`kingma2014` (VAE: the ELBO, and the Gaussian KL of appendix B), :cite:`sohn2015` (conditional VAE).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import DoubleConvDS, DownDS
from .smaat_unet import SmaAtUNet

__all__ = ["ConditionalVAE"]

_LOGVAR_MIN, _LOGVAR_MAX = -12.0, 6.0


class ConditionalVAE(nn.Module):
    """Conditional VAE with a spatial latent and a SmaAt-UNet decoder.

    Parameters
    ----------
    in_channels : int
        Channels of the condition ``cond`` (the observations and meteorology).
    out_channels : int
        Channels of the target ``x1`` (1: the emission map).
    base_channels, depth : int
        Width and depth of the decoder's SmaAt-UNet.
    latent_channels : int
        Channels of the latent map.
    latent_depth : int
        The latent map has ``y / 2**latent_depth`` × ``x / 2**latent_depth`` pixels.
    reduction : int
        CBAM reduction ratio of the decoder.
    kernels_per_layer : int
        Depthwise kernels per input channel in the decoder.

    Notes
    -----
    Shapes:

    ``encode(x1, cond)``: ``(batch, out_channels, y, x)``, ``(batch, in_channels, y, x)`` →
    ``mu, logvar`` each ``(batch, latent_channels, y / 2^latent_depth, x / 2^latent_depth)``.
    ``decode(z, cond)`` → ``mean, logvar`` each ``(batch, out_channels, y, x)``.
    ``forward(cond)`` → the decoder mean at the prior mean ``z = 0``, ``(batch, out_channels, y, x)``.
    """

    def __init__(self, in_channels: int, out_channels: int = 1, *, base_channels: int = 16, depth: int = 4,
                 latent_channels: int = 4, latent_depth: int = 3, reduction: int = 16,
                 kernels_per_layer: int = 1) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.latent_channels = latent_channels
        self.latent_depth = latent_depth
        widths = [base_channels * 2**min(k, 2) for k in range(latent_depth + 1)]
        self.enc_in = DoubleConvDS(in_channels + out_channels, widths[0])
        self.enc_downs = nn.Sequential(*(DownDS(widths[k], widths[k + 1]) for k in range(latent_depth)))
        self.enc_out = nn.Conv2d(widths[-1], 2 * latent_channels, kernel_size=1)
        self.decoder = SmaAtUNet(in_channels + latent_channels, 2 * out_channels, base_channels=base_channels,
                                 depth=depth, reduction=reduction, kernels_per_layer=kernels_per_layer)

    def encode(self, x1: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc_out(self.enc_downs(self.enc_in(torch.cat([x1, cond], dim=1))))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(_LOGVAR_MIN, _LOGVAR_MAX)

    def latent_shape(self, cond: torch.Tensor) -> tuple[int, int, int, int]:
        """Shape of the latent map for a condition batch."""
        f = 2**self.latent_depth
        return (cond.shape[0], self.latent_channels, max(cond.shape[-2] // f, 1), max(cond.shape[-1] // f, 1))

    def decode(self, z: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_up = F.interpolate(z, size=cond.shape[-2:], mode="bilinear", align_corners=False)
        mean, logvar = self.decoder(torch.cat([cond, z_up], dim=1)).chunk(2, dim=1)
        return mean, logvar.clamp(_LOGVAR_MIN, _LOGVAR_MAX)

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        z = torch.zeros(self.latent_shape(cond), dtype=cond.dtype, device=cond.device)
        return self.decode(z, cond)[0]
