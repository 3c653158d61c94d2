"""Building blocks of SmaAt-UNet :cite:`trebing2021`: depthwise-separable convolutions and CBAM attention.

Each block is a small :class:`torch.nn.Module`; shapes are ``(batch, channel, y, x)``.

Public names: :class:`DepthwiseSeparableConv`, :class:`ChannelAttention`, :class:`SpatialAttention`,
:class:`CBAM`, :class:`DoubleConvDS`, :class:`DownDS`, :class:`UpDS`, :class:`OutConv`.

References
----------
:cite:`trebing2021` (SmaAt-UNet), :cite:`woo2018` (CBAM), :cite:`howard2017` (depthwise-separable convolutions).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DepthwiseSeparableConv", "ChannelAttention", "SpatialAttention", "CBAM",
           "DoubleConvDS", "DownDS", "UpDS", "OutConv"]


class DepthwiseSeparableConv(nn.Module):
    """Depthwise k×k conv (``kernels_per_layer`` per input channel) ⇒ pointwise 1×1 conv."""

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 3,
                 kernels_per_layer: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels * kernels_per_layer, kernel_size,
                                   padding=kernel_size // 2, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels * kernels_per_layer, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ChannelAttention(nn.Module):
    """Channel attention: sigmoid(MLP(avgpool) + MLP(maxpool)) scales each channel (CBAM, Woo et al. 2018, eq. 2)."""

    def __init__(self, channels: int, *, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
                                 nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(F.adaptive_avg_pool2d(x, 1))
        mx = self.mlp(F.adaptive_max_pool2d(x, 1))
        return x * torch.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """Spatial attention: sigmoid(conv7×7([mean_c, max_c])) scales each pixel (CBAM, eq. 3)."""

    def __init__(self, *, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    """Convolutional block attention module: channel attention ⇒ spatial attention; shape-preserving."""

    def __init__(self, channels: int, *, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, reduction=reduction)
        self.spatial = SpatialAttention(kernel_size=kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


class DoubleConvDS(nn.Module):
    """(depthwise-separable conv ⇒ BN ⇒ ReLU) × 2."""

    def __init__(self, in_channels: int, out_channels: int, *, mid_channels: int | None = None,
                 kernels_per_layer: int = 1) -> None:
        super().__init__()
        mid = mid_channels or out_channels
        self.block = nn.Sequential(
            DepthwiseSeparableConv(in_channels, mid, kernels_per_layer=kernels_per_layer),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            DepthwiseSeparableConv(mid, out_channels, kernels_per_layer=kernels_per_layer),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class DownDS(nn.Module):
    """2×2 max-pool ⇒ :class:`DoubleConvDS` (halves y and x)."""

    def __init__(self, in_channels: int, out_channels: int, *, kernels_per_layer: int = 1) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.MaxPool2d(2),
                                   DoubleConvDS(in_channels, out_channels, kernels_per_layer=kernels_per_layer))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UpDS(nn.Module):
    """Bilinear ×2 upsampling, pad to the skip's size, concatenate the skip ⇒ :class:`DoubleConvDS`."""

    def __init__(self, in_channels: int, out_channels: int, *, kernels_per_layer: int = 1) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv = DoubleConvDS(in_channels, out_channels, mid_channels=in_channels // 2,
                                 kernels_per_layer=kernels_per_layer)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class OutConv(nn.Module):
    """1×1 convolution to the output channels."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)
