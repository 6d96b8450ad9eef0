"""The operators of libssprop_torch, as Python functions.

``torch.ops.ssprop.conv2d`` / ``torch.ops.ssprop.linear``: dense forward,
ssProp backward (only the ``k = max(floor(keep * C_out), 1)`` output channels
with the largest mean |grad_output| -- or ``k`` random ones -- take part in the
weight, bias and input gradients; ``keep = 1`` is exactly dense).
"""

from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Optional

import torch

from ._library import load_library

load_library()

_ops = torch.ops.ssprop

STATS_KEYS = (
    "dense_backward_flops",
    "actual_backward_flops",
    "kernels_compiled",
    "memory_hits",
    "disk_hits",
    "compile_ms",
)
_INT_STATS = {"kernels_compiled", "memory_hits", "disk_hits"}


def kept_channels(keep: float, channels: int) -> int:
    """max(floor(keep * channels), 1), at most channels: the number of output
    channels the backward keeps (the library's one definition)."""
    return int(_ops.kept_channels(float(keep), int(channels)))


def format_keep(keep: float) -> str:
    """keep as the IR writes it (``0.4``, ``1.0``, ``1.0e-08``): the shortest
    decimal that reads back as the same double, always with a ``.`` (the
    library's one definition)."""
    return _ops.format_keep(float(keep))


def set_tactic(name: Optional[str]) -> None:
    """Forces the tactic ``name`` (e.g. ``"gathered-cudnn"``, ``"cublas"``,
    ``"generated:<tile>"``) on every layer where it is a candidate, or with
    None lets each layer choose again. Its first value is $SSPROP_TACTIC."""
    _ops.set_tactic(name)


def get_tactic() -> Optional[str]:
    """The forced tactic, or None."""
    return _ops.get_tactic()


@contextlib.contextmanager
def tactic(name: Optional[str]) -> Iterator[None]:
    """Forces ``name`` (see :func:`set_tactic`) inside a ``with`` block."""
    previous = get_tactic()
    set_tactic(name)
    try:
        yield
    finally:
        set_tactic(previous)


def stats() -> Dict[str, float]:
    """Counters since the last reset_stats(): backward FLOPs the dense backward
    would have done and ssprop did (multiply-adds count 2; weight and input
    gradients), and the CUDA JIT's kernel compilations, cache hits and compile
    time."""
    values = _ops.stats()
    return {k: (int(v) if k in _INT_STATS else float(v)) for k, v in zip(STATS_KEYS, values)}


def reset_stats() -> None:
    _ops.reset_stats()

