"""Backward FLOPs of convolutions and linear layers, counted the way the bridge's
``ssprop.stats()`` counts them, for runs whose layers the bridge does not see
(the dense baseline uses plain ``torch.nn`` layers).

Convention (include/ssprop/Torch/Ops.h): a multiply-add is 2 FLOPs; the weight
gradient and the input gradient are counted when autograd asks for them; bias
sums are not counted. ssProp does the sparse parts with ``k`` channels instead of
``Cout``; with ``weight_only`` the input gradient stays dense.
"""

from __future__ import annotations

from typing import Iterable, List, Tuple

import torch
import torch.nn as nn


def conv_backward_flops(batch: int, out_hw: Tuple[int, int], cout: int, cin_per_group: int,
                        kernel: Tuple[int, int], k: int, needs_input_grad: bool,
                        needs_weight_grad: bool = True, weight_only: bool = False
                        ) -> Tuple[float, float]:
    """(dense, actual) backward FLOPs of one convolution call."""
    per_channel = 2.0 * batch * out_hw[0] * out_hw[1] * cin_per_group * kernel[0] * kernel[1]
    dense = actual = 0.0
    if needs_weight_grad:
        dense += per_channel * cout
        actual += per_channel * k
    if needs_input_grad:
        dense += per_channel * cout
        actual += per_channel * (cout if weight_only else k)
    return dense, actual


def linear_backward_flops(rows: int, out_features: int, in_features: int, k: int,
                          needs_input_grad: bool, needs_weight_grad: bool = True,
                          weight_only: bool = False) -> Tuple[float, float]:
    """(dense, actual) backward FLOPs of one linear call: a 1x1 convolution
    over ``rows`` positions."""
    return conv_backward_flops(rows, (1, 1), out_features, in_features, (1, 1), k,
                               needs_input_grad, needs_weight_grad, weight_only)


class DenseFlopCounter:
    """Counts the dense backward FLOPs of the given layers' forward calls in
    training mode (forward hooks: every training forward is followed by one
    backward in these trainers). ``take()`` returns and resets the count."""

    def __init__(self, layers: Iterable[nn.Module]):
        self.flops = 0.0
        self._handles: List = [m.register_forward_hook(self._hook) for m in layers]

    def _hook(self, module: nn.Module, inputs, output) -> None:
        if not module.training or not torch.is_grad_enabled():
            return
        x = inputs[0]
        w = module.weight
        needs_dx = x.requires_grad
        if w.dim() == 4:
            out = output
            dense, _ = conv_backward_flops(out.shape[0], (out.shape[2], out.shape[3]),
                                           w.shape[0], w.shape[1], (w.shape[2], w.shape[3]),
                                           w.shape[0], needs_dx, w.requires_grad)
        else:
            rows = x.numel() // x.shape[-1]
            dense, _ = linear_backward_flops(rows, w.shape[0], w.shape[1], w.shape[0], needs_dx,
                                             w.requires_grad)
        self.flops += dense

    def take(self) -> float:
        f, self.flops = self.flops, 0.0
        return f

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
