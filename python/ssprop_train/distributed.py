"""Data-parallel ssProp with the same channels on every process.

Under DistributedDataParallel each process sees a slice of the global batch.
If every process chose its channels from its own ``dy``, the processes would
keep different channels and DDP's gradient average would mix them: neither the
method on the global batch nor a sparse gradient. :func:`sync_scores` makes the
selection global: in the backward of each ssProp layer the per-channel sums of
``|dy|`` (and the element counts) are all-reduced over the process group before
the top-k, so every process keeps the channels the single-process run on the
concatenated batch would keep. The sparse gradients themselves are computed
locally with ATen (gathered, as the bridge's CPU path does) and DDP then
averages ``dW``/``db`` as usual: a step equals the single-process step on the
global batch (up to floating-point summation order).

``select="random"`` needs no scores: every process draws the same permutation
from a generator seeded identically on all ranks.

Implementation: the forward of each ssprop layer is replaced (per instance) by
an autograd Function with a dense forward and this backward; the layer's
``keep``, ``select`` and ``weight_only`` are read at every call, so the keep
scheduler keeps working. FLOPs are counted here (``take_stats``), since the
bridge's operator is not called.
"""

from __future__ import annotations

import types
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn import grad as nn_grad

from .flops import conv_backward_flops, kept_channels, linear_backward_flops

_stats = {"dense": 0.0, "actual": 0.0}


def take_stats() -> Tuple[float, float]:
    """(dense, actual) backward FLOPs of the synchronised layers since the last
    call (this process only)."""
    d, a = _stats["dense"], _stats["actual"]
    reset_stats()
    return d, a


def reset_stats() -> None:
    _stats["dense"] = _stats["actual"] = 0.0


class _Sync:
    """Per-model state: the process group and the shared random generator."""

    def __init__(self, group, seed: int):
        self.group = group
        self.generator = torch.Generator().manual_seed(seed * 7919 + 1)

    def global_scores(self, abs_sums: torch.Tensor, count: float) -> torch.Tensor:
        """Mean |dy| per channel over the global batch."""
        buf = torch.cat([abs_sums.to(torch.float64).flatten(),
                         torch.tensor([count], dtype=torch.float64, device=abs_sums.device)])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(buf, op=dist.ReduceOp.SUM, group=self.group)
        return buf[:-1] / buf[-1]

    def select(self, dy: torch.Tensor, channel_dim: int, keep: float, select: str) -> Optional[torch.Tensor]:
        """Sorted kept channel indices, or None for all channels (keep = 1)."""
        c = dy.shape[channel_dim]
        k = kept_channels(keep, c)
        if k >= c:
            return None
        if select == "random":
            idx = torch.randperm(c, generator=self.generator)[:k]
        else:
            dims = [d for d in range(dy.dim()) if d != channel_dim]
            sums = dy.detach().abs().sum(dim=dims)
            count = float(dy.numel() // c)
            scores = self.global_scores(sums, count)
            idx = torch.topk(scores, k).indices
        return torch.sort(idx).values.to(dy.device)


class _SyncConv2dFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, keep, select,
                weight_only, sync):
        ctx.save_for_backward(x, weight)
        ctx.conf = (stride, padding, dilation, groups, keep, select, weight_only, sync,
                    bias is not None)
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, keep, select, weight_only, sync, has_bias = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        idx = sync.select(dy, 1, keep, select)
        cout = w.shape[0]
        k = cout if idx is None else idx.numel()
        d, a = conv_backward_flops(dy.shape[0], (dy.shape[2], dy.shape[3]), cout, w.shape[1],
                                   (w.shape[2], w.shape[3]), k, need_x, need_w, weight_only)
        _stats["dense"] += d
        _stats["actual"] += a
        gx = gw = gb = None
        if idx is None:
            dy_k, w_k = dy, w
        elif groups == 1:
            dy_k, w_k = dy.index_select(1, idx).contiguous(), w.index_select(0, idx)
        else:
            # Grouped: the kept channels fall unevenly over the groups; run the
            # dense kernels on dy with the other channels zeroed (same numbers).
            mask = torch.zeros(cout, dtype=dy.dtype, device=dy.device)
            mask[idx] = 1
            dy_k, w_k, idx = dy * mask.view(1, -1, 1, 1), w, None
        if need_w:
            gw_k = nn_grad.conv2d_weight(x, w_k.shape, dy_k, stride, padding, dilation, groups)
            gw = gw_k if idx is None else torch.zeros_like(w).index_copy_(0, idx, gw_k)
        if need_b and has_bias:
            gb_k = dy_k.sum(dim=(0, 2, 3))
            gb = gb_k if idx is None else torch.zeros(cout, dtype=dy.dtype,
                                                      device=dy.device).index_copy_(0, idx, gb_k)
        if need_x:
            if weight_only:
                gx = nn_grad.conv2d_input(x.shape, w, dy, stride, padding, dilation, groups)
            else:
                gx = nn_grad.conv2d_input(x.shape, w_k, dy_k, stride, padding, dilation, groups)
        return gx, gw, gb, None, None, None, None, None, None, None, None


class _SyncLinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, keep, select, weight_only, sync):
        ctx.save_for_backward(x, weight)
        ctx.conf = (keep, select, weight_only, sync, bias is not None)
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        keep, select, weight_only, sync, has_bias = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        dy2 = dy.reshape(-1, dy.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        idx = sync.select(dy2, 1, keep, select)
        out = w.shape[0]
        k = out if idx is None else idx.numel()
        d, a = linear_backward_flops(dy2.shape[0], out, w.shape[1], k, need_x, need_w, weight_only)
        _stats["dense"] += d
        _stats["actual"] += a
        dy_k = dy2 if idx is None else dy2.index_select(1, idx)
        w_k = w if idx is None else w.index_select(0, idx)
        gx = gw = gb = None
        if need_w:
            gw_k = dy_k.t().mm(x2)
            gw = gw_k if idx is None else torch.zeros_like(w).index_copy_(0, idx, gw_k)
        if need_b and has_bias:
            gb_k = dy_k.sum(0)
            gb = gb_k if idx is None else torch.zeros(out, dtype=dy.dtype,
                                                      device=dy.device).index_copy_(0, idx, gb_k)
        if need_x:
            gx = (dy2.mm(w) if weight_only else dy_k.mm(w_k)).reshape(x.shape)
        return gx, gw, gb, None, None, None, None


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _layer_settings(m):
    return float(m.keep), str(getattr(m, "select", "topk")), bool(getattr(m, "weight_only", False))


def _conv_forward(self, x):
    keep, select, weight_only = _layer_settings(self)
    return _SyncConv2dFn.apply(x, self.weight, self.bias, _pair(self.stride), _pair(self.padding),
                               _pair(self.dilation), int(self.groups), keep, select, weight_only,
                               self._ssprop_sync)


def _linear_forward(self, x):
    keep, select, weight_only = _layer_settings(self)
    return _SyncLinearFn.apply(x, self.weight, self.bias, keep, select, weight_only,
                               self._ssprop_sync)


def sync_scores(model: torch.nn.Module, seed: int = 0, group=None) -> int:
    """Makes every ssprop layer of ``model`` select its channels from the scores
    of the global batch (call on every process, before wrapping in DDP).
    Returns the number of layers changed."""
    from . import bridge
    ssprop = bridge.require()
    state = _Sync(group, seed)
    n = 0
    for m in model.modules():
        if isinstance(m, ssprop.nn.Conv2d):
            if getattr(m, "padding_mode", "zeros") != "zeros":
                raise ValueError("sync_scores: only zeros padding is supported")
            m._ssprop_sync = state
            m.forward = types.MethodType(_conv_forward, m)
            n += 1
        elif isinstance(m, ssprop.nn.Linear):
            m._ssprop_sync = state
            m.forward = types.MethodType(_linear_forward, m)
            n += 1
    if n == 0:
        raise ValueError("sync_scores: the model has no ssprop layer (convert it first)")
    return n
