"""The operators of libssprop_torch, as Python functions.

``torch.ops.ssprop.conv2d`` / ``torch.ops.ssprop.linear``: dense forward,
ssProp backward (only the ``k = max(floor(keep * C_out), 1)`` output channels
with the largest mean |grad_output| -- or ``k`` random ones -- take part in the
weight, bias and input gradients; ``keep = 1`` is exactly dense).
"""

from __future__ import annotations

import atexit
import contextlib
from typing import Callable, ContextManager, Dict, Iterator, Optional, TypeVar

import torch

from ._library import load_library

load_library()

_ops = torch.ops.ssprop
T = TypeVar("T")
# Compiles still running when the interpreter exits would outlive LLVM's
# statics: finish them (and drop those not started) first.
atexit.register(_ops._stop_compiles)

STATS_KEYS = (
    "dense_backward_flops",
    "actual_backward_flops",
    "kernels_compiled",
    "memory_hits",
    "disk_hits",
    "compile_ms",
    "tactic_timings",
    "provisional_calls",
    "rejected_candidates",
)
_INT_STATS = {"kernels_compiled", "memory_hits", "disk_hits", "tactic_timings",
              "provisional_calls", "rejected_candidates"}


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
def _setting(get: Callable[[], T], set_: Callable[[T], None], value: T) -> Iterator[None]:
    """A library setting at ``value`` inside a ``with`` block, restored after."""
    previous = get()
    set_(value)
    try:
        yield
    finally:
        set_(previous)


def tactic(name: Optional[str]) -> ContextManager[None]:
    """Forces ``name`` (see :func:`set_tactic`) inside a ``with`` block."""
    return _setting(get_tactic, set_tactic, name)


def stats() -> Dict[str, float]:
    """Counters since the last reset_stats(): backward FLOPs the dense backward
    would have done and ssprop did (multiply-adds count 2; weight and input
    gradients); the JIT's kernel compilations, cache hits and compile time;
    the candidates timed, the backward calls that ran the gathered path while
    their kernels compiled in the background, and the generated candidates
    rejected by verification."""
    values = _ops.stats()
    return {k: (int(v) if k in _INT_STATS else float(v)) for k, v in zip(STATS_KEYS, values)}


def reset_stats() -> None:
    _ops.reset_stats()


def set_jit_mode(mode: str) -> None:
    """``"background"`` (the default): a layer whose kernels are not compiled
    yet runs its gathered path while background threads compile them, and
    switches to them once they are ready; ``"blocking"``: its first backward
    compiles (and times) them before it returns. The first value is
    $SSPROP_JIT."""
    _ops.set_jit_mode(mode)


def get_jit_mode() -> str:
    return _ops.get_jit_mode()


def jit_mode(mode: str) -> ContextManager[None]:
    """:func:`set_jit_mode` inside a ``with`` block (benchmarks time the
    kernels, not their stand-ins: ``with ssprop.jit_mode("blocking")``)."""
    return _setting(get_jit_mode, set_jit_mode, mode)


def set_verify(verify: bool) -> None:
    """Whether a generated kernel's results are checked against the gathered
    reference before it first runs for a layer (the default; the first value
    is $SSPROP_VERIFY). A kernel that differs never runs for that layer."""
    _ops.set_verify(bool(verify))


def wait_for_compiles() -> None:
    """Blocks until every background compile has finished."""
    _ops.wait_for_compiles()

