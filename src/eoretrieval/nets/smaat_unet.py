"""SmaAt-UNet: a small U-Net with depthwise-separable convolutions and CBAM attention :cite:`trebing2021`.

Public names: :class:`SmaAtUNet`.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import CBAM, DoubleConvDS, DownDS, OutConv, UpDS

__all__ = ["SmaAtUNet"]


class SmaAtUNet(nn.Module):
    """SmaAt-UNet (Trebing et al. 2021) with widths set by ``base_channels`` and ``depth``.

    The encoder has ``depth`` down-sampling stages of widths ``base_channels * 2**k``; every encoder
    output passes through CBAM before it is used as a skip connection; the decoder mirrors the encoder.
    The bottleneck width is halved (bilinear upsampling, as in the paper), so the last encoder stage has
    ``base_channels * 2**(depth - 1)`` channels.

    Parameters
    ----------
    in_channels, out_channels : int
        Input and output channels.
    base_channels : int
        Width of the first stage (the paper uses 64).
    depth : int
        Number of down-/up-sampling stages (the paper uses 4). Inputs of any size work; sizes that are
        not multiples of ``2**depth`` are padded inside the decoder.
    reduction : int
        Channel-reduction ratio of the CBAM channel-attention MLP (the paper uses 16).
    kernels_per_layer : int
        Depthwise kernels per input channel (the paper uses 2).

    Notes
    -----
    Shapes:

    input ``(batch, in_channels, y, x)`` → output ``(batch, out_channels, y, x)``.

    References
    ----------
    :cite:`trebing2021`, :cite:`ronneberger2015`, :cite:`woo2018`.
    """

    def __init__(self, in_channels: int, out_channels: int, *, base_channels: int = 16, depth: int = 4,
                 reduction: int = 16, kernels_per_layer: int = 2) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        widths = [base_channels * 2**k for k in range(depth + 1)]
        widths[-1] //= 2  # bilinear upsampling: the bottleneck keeps the width of the stage above it
        kpl = kernels_per_layer
        self.inc = DoubleConvDS(in_channels, widths[0], kernels_per_layer=kpl)
        self.cbam_in = CBAM(widths[0], reduction=reduction)
        self.downs = nn.ModuleList(DownDS(widths[k], widths[k + 1], kernels_per_layer=kpl) for k in range(depth))
        self.cbams = nn.ModuleList(CBAM(widths[k + 1], reduction=reduction) for k in range(depth))
        # decoder: stage k concatenates skip (widths[k]) with the upsampled deeper features
        ups = []
        deeper = widths[depth]
        for k in reversed(range(depth)):
            out = widths[k] // 2 if k > 0 else widths[0]
            ups.append(UpDS(widths[k] + deeper, out, kernels_per_layer=kpl))
            deeper = out
        self.ups = nn.ModuleList(ups)
        self.outc = OutConv(widths[0], out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inc(x)
        skips = [self.cbam_in(h)]          # as in the paper: the encoder path continues from the raw
        for down, cbam in zip(self.downs, self.cbams):  # features, the skips carry the attended ones
            h = down(h)
            skips.append(cbam(h))
        h = skips.pop()
        for up in self.ups:
            h = up(h, skips.pop())
        return self.outc(h)
