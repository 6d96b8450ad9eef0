"""A small DDPM UNet for 28x28 images, as a plain ``torch.nn`` module.

Levels of ``width * mults[i]`` channels at 28, 14, 7 (for three levels), one
residual block per level on the way down and up (GroupNorm + SiLU, the timestep
embedding added between the two 3x3 convolutions, Dropout before the second),
stride-2 convolutions down, nearest-neighbour upsampling + 3x3 convolution up,
and a middle of residual block, self-attention, residual block at the lowest
resolution. Every convolution is an exact ``nn.Conv2d`` (attention's q/k/v and
output projections are 1x1 convolutions), so ``ssprop.convert`` reaches all of
them; the timestep MLP's ``nn.Linear`` layers stay dense, as in the paper's
classifiers.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def _norm(channels: int) -> nn.GroupNorm:
    # 8 groups where the width allows (the tiny test models have 4 channels).
    return nn.GroupNorm(math.gcd(8, channels), channels)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding [N, dim] of integer timesteps [N] (Transformer style)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    args = t.to(torch.float64)[:, None] * freqs.to(t.device)[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, dropout: float):
        super().__init__()
        self.norm1 = _norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = _norm(cout)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(emb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Attention(nn.Module):
    """Single-head self-attention over the pixels, residual."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                             v.transpose(1, 2))
        return x + self.proj(out.transpose(1, 2).reshape(n, c, h, w))


class UNet(nn.Module):
    def __init__(self, width: int = 32, mults: Sequence[int] = (1, 2, 2), in_channels: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        if width < 1 or not mults or min(mults) < 1:
            raise ValueError(f"UNet needs width >= 1 and mults >= 1, got width={width}, "
                             f"mults={list(mults)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        temb = 4 * width
        self.width = width
        self.time_mlp = nn.Sequential(nn.Linear(width, temb), nn.SiLU(), nn.Linear(temb, temb))
        chans = [width * m for m in mults]
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = width
        for i, c in enumerate(chans):
            self.down.append(ResBlock(prev, c, temb, dropout))
            if i < len(chans) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            prev = c
        self.mid1 = ResBlock(prev, prev, temb, dropout)
        self.attn = Attention(prev)
        self.mid2 = ResBlock(prev, prev, temb, dropout)
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in reversed(range(len(chans))):
            if i < len(chans) - 1:
                self.upsample.append(nn.Conv2d(prev, prev, 3, padding=1))
            self.up.append(ResBlock(prev + chans[i], chans[i], temb, dropout))
            prev = chans[i]
        self.out_norm = _norm(prev)
        self.out = nn.Conv2d(prev, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.width).to(x.dtype))
        h = self.stem(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for i, block in enumerate(self.up):
            skip = skips.pop()
            if i > 0:
                # Back to the skip's size (7 -> 14 -> 28: sizes need not be even).
                h = self.upsample[i - 1](F.interpolate(h, size=skip.shape[-2:], mode="nearest"))
            h = block(torch.cat([h, skip], dim=1), emb)
        return self.out(F.silu(self.out_norm(h)))
