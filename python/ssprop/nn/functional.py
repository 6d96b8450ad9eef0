"""ssprop.nn.functional: conv2d and linear with the ssProp backward, with the
arguments of torch.nn.functional.conv2d / linear plus keep, select and
weight_only."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .. import ops as _ops_module  # noqa: F401  (loads the library)

_IntOr2 = Union[int, Sequence[int]]


def _pair(v: _IntOr2) -> Tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return (v[0], v[0])
    return v  # length checked by the operator


def conv2d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           stride: _IntOr2 = 1, padding: Union[_IntOr2, str] = 0, dilation: _IntOr2 = 1,
           groups: int = 1, *, keep: float = 1.0, select: str = "topk",
           weight_only: bool = False, sync_group: Optional[str] = None) -> torch.Tensor:
    """torch.nn.functional.conv2d with the ssProp backward.

    ``input`` is [N, C, H, W] (an unbatched [C, H, W] is accepted as by torch);
    ``padding`` may be "valid" or "same" (asymmetric "same" pads the input
    explicitly, as torch does). ``sync_group``: the name of a process group
    whose processes all keep the channels of the whole group's batch
    (see :func:`ssprop.distributed`)."""
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    stride_, dilation_ = _pair(stride), _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            padding_ = (0, 0)
        elif padding == "same":
            if stride_ != (1, 1):
                raise ValueError("ssprop.nn.functional.conv2d: padding='same' is not supported "
                                 f"for strided convolutions, got stride {stride_}")
            pads = []
            extra = []
            for d in range(2):
                total = dilation_[d] * (weight.shape[2 + d] - 1)
                pads.append(total // 2)
                extra.append(total - 2 * (total // 2))
            if any(extra):
                # torch pads the extra element on the right/bottom.
                input = F.pad(input, (0, extra[1], 0, extra[0]))
            padding_ = (pads[0], pads[1])
        else:
            raise ValueError("ssprop.nn.functional.conv2d: padding must be a number, a pair, "
                             f"'valid' or 'same', got {padding!r}")
    else:
        padding_ = _pair(padding)
    out = torch.ops.ssprop.conv2d(input, weight, bias, list(stride_), list(padding_),
                                  list(dilation_), int(groups), float(keep), select,
                                  bool(weight_only), sync_group)
    return out.squeeze(0) if unbatched else out


def linear(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, *,
           keep: float = 1.0, select: str = "topk", weight_only: bool = False,
           sync_group: Optional[str] = None) -> torch.Tensor:
    """torch.nn.functional.linear with the ssProp backward (scores: sum of
    |grad_output| over every leading dimension; ``sync_group`` as conv2d)."""
    return torch.ops.ssprop.linear(input, weight, bias, float(keep), select, bool(weight_only),
                                   sync_group)
