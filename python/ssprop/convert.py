"""ssprop.convert: swaps the convolutions and linear layers of a model."""

from __future__ import annotations

import torch

from .nn.functional import _check_flag, _check_keep
from .nn.modules import Conv2d, Linear, _check_select


def convert(model: torch.nn.Module, keep: float = 1.0, select: str = "topk",
            weight_only: bool = False, *, conv: bool = True, linear: bool = True
            ) -> torch.nn.Module:
    """Makes every torch.nn.Conv2d (if `conv`) and torch.nn.Linear (if `linear`)
    of `model`, at any depth and `model` itself included, an ssprop layer with
    the given settings, in place, and returns `model`.

    The layers stay the same objects (parameters, buffers, hooks, device and
    dtype kept: optimizers already built keep working); ssprop layers already
    there get the new settings. Only exact torch.nn.Conv2d / Linear are
    converted: subclasses (which may change forward) are left alone."""
    keep = _check_keep("ssprop.convert", keep)
    select = _check_select("ssprop.convert", select)
    weight_only = _check_flag("ssprop.convert", "weight_only", weight_only)
    for m in model.modules():
        if isinstance(m, (Conv2d, Linear)):
            m.keep, m.select, m.weight_only = keep, select, weight_only
        elif conv and type(m) is torch.nn.Conv2d:
            Conv2d.from_dense(m, keep=keep, select=select, weight_only=weight_only)
        elif linear and type(m) is torch.nn.Linear:
            Linear.from_dense(m, keep=keep, select=select, weight_only=weight_only)
    return model
