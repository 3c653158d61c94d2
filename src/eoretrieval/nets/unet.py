"""A plain, configurable U-Net :cite:`ronneberger2015`, usable as a regression network or as the
denoiser/velocity network of a generative objective (optional time / noise-level embedding).

Public names: :class:`UNet`, :class:`TimeEmbedding`, :class:`ResBlock`.

The network reads top to bottom (SmaAt-UNet style): ``inc`` → ``downs`` → ``mid`` → ``ups`` → ``outc``.
Widths come from ``base_channels`` and ``channel_mults``; the time embedding, when enabled, is added to
every residual block (the DDPM / score-SDE design, :cite:`ho2020`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["UNet", "TimeEmbedding", "ResBlock"]


class TimeEmbedding(nn.Module):
    """Sinusoidal embedding of a scalar ``t`` per sample ⇒ MLP; ``(batch,)`` → ``(batch, dim)``."""

    def __init__(self, dim: int, *, scale: float = 1000.0) -> None:
        super().__init__()
        self.dim = dim
        self.scale = scale
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        args = self.scale * t.float().reshape(-1, 1) * freqs[None]
        emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
        if self.dim % 2:
            emb = F.pad(emb, (0, 1))
        return self.mlp(emb)


class ResBlock(nn.Module):
    """(GroupNorm ⇒ SiLU ⇒ conv3×3) × 2 with an optional additive time embedding and a 1×1 skip."""

    def __init__(self, in_channels: int, out_channels: int, *, emb_dim: int | None = None,
                 groups: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(math.gcd(groups, in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_channels) if emb_dim else None
        self.norm2 = nn.GroupNorm(math.gcd(groups, out_channels), out_channels)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        if self.emb is not None and emb is not None:
            h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return h + self.skip(x)


class UNet(nn.Module):
    """Plain U-Net with residual blocks, widths ``base_channels * channel_mults[k]``.

    Parameters
    ----------
    in_channels : int
        Input channels (for generative use: the noisy state plus the conditioning channels).
    out_channels : int
        Output channels.
    base_channels : int
        Width of the first stage.
    channel_mults : tuple of int
        Width multiplier per resolution; ``len(channel_mults) - 1`` down-sampling steps (×2 each).
    time_embedding : bool
        If True, ``forward`` takes ``t`` (shape ``(batch,)``, in [0, 1] for flow matching or
        ``step / n_steps`` for DDPM) and adds its embedding to every block.
    blocks_per_level : int
        Residual blocks per resolution on each side.
    dropout : float
        Dropout inside residual blocks.

    Notes
    -----
    Shapes: ``x`` ``(batch, in_channels, y, x)``, ``t`` ``(batch,)`` → ``(batch, out_channels, y, x)``.
    ``y`` and ``x`` need not be multiples of ``2**(len(channel_mults) - 1)``: the decoder pads/crops
    to the skip's size.

    References
    ----------
    :cite:`ronneberger2015`, :cite:`ho2020`.

    Examples
    --------
    >>> import torch
    >>> net = UNet(3, 1, base_channels=8, channel_mults=(1, 2), time_embedding=True)
    >>> net(torch.zeros(2, 3, 12, 10), torch.rand(2)).shape
    torch.Size([2, 1, 12, 10])
    """

    def __init__(self, in_channels: int, out_channels: int, *, base_channels: int = 16,
                 channel_mults: tuple[int, ...] = (1, 2, 4), time_embedding: bool = False,
                 blocks_per_level: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if not channel_mults or base_channels < 1:
            raise ValueError(f"need base_channels >= 1 and a non-empty channel_mults, got "
                             f"{base_channels}, {channel_mults}")
        widths = [base_channels * m for m in channel_mults]
        emb_dim = 4 * base_channels if time_embedding else None
        self.time_embedding = time_embedding
        self.temb = TimeEmbedding(emb_dim) if time_embedding else None
        self.inc = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        # encoder: blocks at each level, then a strided conv down (except the deepest level)
        self.downs = nn.ModuleList()
        self.pools = nn.ModuleList()
        prev = widths[0]
        for k, w in enumerate(widths):
            level = nn.ModuleList()
            for _ in range(blocks_per_level):
                level.append(ResBlock(prev, w, emb_dim=emb_dim, dropout=dropout))
                prev = w
            self.downs.append(level)
            self.pools.append(nn.Conv2d(w, w, 3, stride=2, padding=1) if k < len(widths) - 1 else nn.Identity())
        self.mid = ResBlock(prev, prev, emb_dim=emb_dim, dropout=dropout)
        # decoder: upsample, concatenate the skip of the same level, blocks
        self.ups = nn.ModuleList()
        for k in reversed(range(len(widths))):
            level = nn.ModuleList()
            for j in range(blocks_per_level):
                level.append(ResBlock(prev + (widths[k] if j == 0 else 0), widths[k], emb_dim=emb_dim,
                                      dropout=dropout))
                prev = widths[k]
            self.ups.append(level)
        self.outc = nn.Sequential(nn.GroupNorm(math.gcd(8, widths[0]), widths[0]), nn.SiLU(),
                                  nn.Conv2d(widths[0], out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        if self.time_embedding:
            if t is None:
                raise ValueError("this UNet was built with time_embedding=True; pass t of shape (batch,)")
            t = t.reshape(-1).expand(x.shape[0]) if t.numel() == 1 else t.reshape(-1)
            emb = self.temb(t)
        else:
            emb = None
        h = self.inc(x)
        skips = []
        for level, pool in zip(self.downs, self.pools):
            for block in level:
                h = block(h, emb)
            skips.append(h)
            h = pool(h)
        h = self.mid(h, emb)
        for level in self.ups:
            skip = skips.pop()
            if h.shape[-2:] != skip.shape[-2:]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = torch.cat([h, skip], dim=1)
            for block in level:
                h = block(h, emb)
        return self.outc(h)
