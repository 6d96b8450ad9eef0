"""ssprop.nn.Conv2d and ssprop.nn.Linear: torch.nn.Conv2d / Linear (same
arguments, parameters, initialisation and state_dict) whose backward is ssProp's.
``keep`` can be changed at any time (ssprop.DropScheduler does)."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.nn.functional as TF

from . import functional as F

_SELECTS = ("topk", "random")


def _check_select(owner: str, select: Any) -> str:
    if select not in _SELECTS:
        raise ValueError(f'{owner}: select must be "topk" or "random", got "{select}"')
    return select


class _SspropLayer:
    """keep / select / weight_only as validated attributes."""

    _owner = "ssprop layer"

    @property
    def keep(self) -> float:
        return self._ssprop_keep

    @keep.setter
    def keep(self, value: float) -> None:
        self._ssprop_keep = F._check_keep(self._owner, value)

    @property
    def select(self) -> str:
        return self._ssprop_select

    @select.setter
    def select(self, value: str) -> None:
        self._ssprop_select = _check_select(self._owner, value)

    @property
    def weight_only(self) -> bool:
        return self._ssprop_weight_only

    @weight_only.setter
    def weight_only(self, value: bool) -> None:
        self._ssprop_weight_only = F._check_flag(self._owner, "weight_only", value)

    @property
    def sync_group(self) -> Optional[str]:
        """The process group (by name) whose processes keep the same
        channels, or None; set by :func:`ssprop.distributed`."""
        return getattr(self, "_ssprop_sync_group", None)

    @sync_group.setter
    def sync_group(self, value: Optional[str]) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self._owner}: sync_group must be a process group name (str) "
                            f"or None, got {value!r}")
        self._ssprop_sync_group = value

    def _ssprop_kwargs(self) -> dict:
        return dict(keep=self.keep, select=self.select, weight_only=self.weight_only,
                    sync_group=self.sync_group)

    def _ssprop_repr(self) -> str:
        s = f"keep={self.keep:g}, select={self.select}"
        if self.weight_only:
            s += ", weight_only=True"
        return s


class Conv2d(_SspropLayer, torch.nn.Conv2d):
    """torch.nn.Conv2d with the ssProp backward.

    Extra keyword arguments: ``keep`` (fraction of output channels kept in the
    backward, in (0, 1]; 1 is exactly dense), ``select`` ("topk": largest mean
    |grad_output|; "random"), ``weight_only`` (dense input gradient). Every
    padding and padding_mode of torch.nn.Conv2d works (non-zeros modes pad the
    input first, as torch does)."""

    _owner = "ssprop.nn.Conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, *, keep: float = 1.0, select: str = "topk",
                 weight_only: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)
        self.keep = keep
        self.select = select
        self.weight_only = weight_only

    @classmethod
    def from_dense(cls, module: torch.nn.Conv2d, *, keep: float = 1.0, select: str = "topk",
                   weight_only: bool = False) -> "Conv2d":
        """Turns `module` itself into an ssprop Conv2d (same object, same
        parameters, hooks and device) and returns it."""
        if not isinstance(module, torch.nn.Conv2d):
            raise TypeError(f"ssprop.nn.Conv2d.from_dense: expected a torch.nn.Conv2d, "
                            f"got {type(module).__name__}")
        keep = F._check_keep(cls._owner, keep)
        select = _check_select(cls._owner, select)
        weight_only = F._check_flag(cls._owner, "weight_only", weight_only)
        module.__class__ = cls
        module.keep, module.select, module.weight_only = keep, select, weight_only
        return module

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias):
        kw = self._ssprop_kwargs()
        if self.padding_mode != "zeros":
            return F.conv2d(TF.pad(input, self._reversed_padding_repeated_twice,
                                   mode=self.padding_mode),
                            weight, bias, self.stride, 0, self.dilation, self.groups, **kw)
        return F.conv2d(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups, **kw)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self._ssprop_repr()}"


class Linear(_SspropLayer, torch.nn.Linear):
    """torch.nn.Linear with the ssProp backward (keep, select, weight_only as
    ssprop.nn.Conv2d; the score of an output feature is the sum of
    |grad_output| over the batch)."""

    _owner = "ssprop.nn.Linear"

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None, *, keep: float = 1.0, select: str = "topk",
                 weight_only: bool = False) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.keep = keep
        self.select = select
        self.weight_only = weight_only

    @classmethod
    def from_dense(cls, module: torch.nn.Linear, *, keep: float = 1.0, select: str = "topk",
                   weight_only: bool = False) -> "Linear":
        """Turns `module` itself into an ssprop Linear and returns it."""
        if not isinstance(module, torch.nn.Linear):
            raise TypeError(f"ssprop.nn.Linear.from_dense: expected a torch.nn.Linear, "
                            f"got {type(module).__name__}")
        keep = F._check_keep(cls._owner, keep)
        select = _check_select(cls._owner, select)
        weight_only = F._check_flag(cls._owner, "weight_only", weight_only)
        module.__class__ = cls
        module.keep, module.select, module.weight_only = keep, select, weight_only
        return module

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.weight, self.bias, **self._ssprop_kwargs())

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self._ssprop_repr()}"
