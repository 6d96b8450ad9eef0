"""ssprop.nn.functional: conv2d and linear with the ssProp backward, with the
arguments of torch.nn.functional.conv2d / linear plus keep, select and
weight_only."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .. import ops as _ops_module  # noqa: F401  (loads the library)

_IntOr2 = Union[int, Sequence[int]]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _pair(name: str, v: _IntOr2) -> Tuple[int, int]:
    """An int or a sequence of ints, as torch.nn.functional takes them; other
    types (floats, strings, bools) raise instead of being truncated."""
    if _is_int(v):
        return (v, v)
    if not isinstance(v, (tuple, list, torch.Size)) or not all(_is_int(x) for x in v):
        raise TypeError(f"ssprop.nn.functional.conv2d: {name} must be an int or a sequence "
                        f"of ints, got {v!r}")
    v = tuple(v)
    if len(v) == 1:
        return (v[0], v[0])
    return v  # length checked by the operator


def _check_keep(owner: str, keep: Any) -> float:
    if isinstance(keep, bool):  # float(True) would be a silent 1.0
        raise TypeError(f"{owner}: keep must be a number in (0, 1], got {keep!r}")
    try:
        value = float(keep)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: keep must be a number in (0, 1], got {keep!r}") from None
    if not (0.0 < value <= 1.0):  # NaN fails too
        # %g: the number as the C++ operator prints it.
        raise ValueError(f"{owner}: keep must be in (0, 1], got {value:g}")
    return value


def _check_flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return value


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
    stride_, dilation_ = _pair("stride", stride), _pair("dilation", dilation)
    if not _is_int(groups):
        raise TypeError(f"ssprop.nn.functional.conv2d: groups must be an int, got {groups!r}")
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
        padding_ = _pair("padding", padding)
    out = torch.ops.ssprop.conv2d(input, weight, bias, list(stride_), list(padding_),
                                  list(dilation_), groups,
                                  _check_keep("ssprop.nn.functional.conv2d", keep), select,
                                  _check_flag("ssprop.nn.functional.conv2d", "weight_only",
                                              weight_only), sync_group)
    return out.squeeze(0) if unbatched else out


def linear(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, *,
           keep: float = 1.0, select: str = "topk", weight_only: bool = False,
           sync_group: Optional[str] = None) -> torch.Tensor:
    """torch.nn.functional.linear with the ssProp backward (scores: sum of
    |grad_output| over every leading dimension; ``sync_group`` as conv2d)."""
    return torch.ops.ssprop.linear(input, weight, bias,
                                   _check_keep("ssprop.nn.functional.linear", keep), select,
                                   _check_flag("ssprop.nn.functional.linear", "weight_only",
                                               weight_only), sync_group)
