"""The tests' own ssProp backward, from the definition only: the dense
backward (autograd of torch.nn.functional.conv2d / linear) with the unselected
channels of grad_output zeroed; the selection computed here."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


def k_of(keep: float, channels: int) -> int:
    return max(int(math.floor(keep * channels)), 1)


def conv_topk_mask(dy: torch.Tensor, keep: float) -> torch.Tensor:
    scores = dy.abs().mean(dim=(0, 2, 3))
    idx = scores.topk(k_of(keep, dy.shape[1])).indices
    return torch.zeros(dy.shape[1], dtype=dy.dtype, device=dy.device).index_fill_(0, idx, 1.0)


def linear_topk_mask(dy: torch.Tensor, keep: float) -> torch.Tensor:
    d2 = dy.reshape(-1, dy.shape[-1])
    idx = d2.abs().sum(0).topk(k_of(keep, d2.shape[1])).indices
    return torch.zeros(d2.shape[1], dtype=dy.dtype, device=dy.device).index_fill_(0, idx, 1.0)


def index_mask(idx: torch.Tensor, channels: int, dtype) -> torch.Tensor:
    return torch.zeros(channels, dtype=dtype).index_fill_(0, idx.long(), 1.0)


def _grads(fn, tensors: Sequence[Optional[torch.Tensor]], dy: torch.Tensor):
    leaves = [None if t is None else t.detach().clone().requires_grad_(True) for t in tensors]
    y = fn(*leaves)
    present = [t for t in leaves if t is not None]
    g = iter(torch.autograd.grad(y, present, dy))
    return [None if t is None else next(g) for t in leaves]


def conv_oracle(x, w, b, stride, padding, dilation, groups, dy, mask, weight_only=False):
    def fn(x_, w_, b_):
        return F.conv2d(x_, w_, b_, stride, padding, dilation, groups)
    gx, gw, gb = _grads(fn, (x, w, b), dy * mask.view(1, -1, 1, 1))
    if weight_only:
        gx = _grads(fn, (x, w, b), dy)[0]
    return gx, gw, gb


def linear_oracle(x, w, b, dy, mask, weight_only=False):
    gx, gw, gb = _grads(F.linear, (x, w, b), dy * mask)
    if weight_only:
        gx = _grads(F.linear, (x, w, b), dy)[0]
    return gx, gw, gb


def assert_close(got, want, what=""):
    assert (got is None) == (want is None), what
    if want is None:
        return
    assert got.shape == want.shape and got.dtype == want.dtype, what
    tol = 1e-11 if want.dtype == torch.float64 else 2e-5
    scale = max(1.0, want.abs().max().item())
    err = (got.double() - want.double()).abs().max().item()
    assert err <= tol * scale, f"{what}: max error {err} (scale {scale})"
