"""What the trainers use of the ``ssprop`` package (python/ssprop, the LibTorch
bridge), in one place: converting a model's convolutions, the keep scheduler,
the FLOP statistics. The dense path needs none of it."""

from __future__ import annotations

from typing import Dict, Tuple, Type

import torch.nn as nn


class BridgeMissing(RuntimeError):
    """The ssprop package (or its compiled library) is not usable."""


_ssprop = None


def require():
    """The ``ssprop`` module, or BridgeMissing saying why not."""
    global _ssprop
    if _ssprop is not None:
        return _ssprop
    try:
        import ssprop  # noqa: F401
    except Exception as e:  # ImportError, or OSError from loading libssprop_torch
        raise BridgeMissing(
            f"--mode ssprop needs the ssprop package and its library libssprop_torch "
            f"(python/ssprop; build it with `cmake --build build`): {type(e).__name__}: {e}"
        ) from e
    missing = [n for n in ("convert", "DropScheduler", "stats", "reset_stats") if not hasattr(ssprop, n)]
    if missing:
        raise BridgeMissing(f"the ssprop package lacks {', '.join(missing)}")
    _ssprop = ssprop
    return ssprop


def available() -> bool:
    try:
        require()
        return True
    except BridgeMissing:
        return False


def ssprop_layer_types() -> Tuple[Type[nn.Module], ...]:
    """The layer kinds ssProp converts: the convolutions, as in the paper's
    classification experiments (its linear variant is for MLPs only)."""
    return (nn.Conv2d,)


def is_ssprop_layer(m: nn.Module) -> bool:
    if _ssprop is None:
        return False
    return isinstance(m, (_ssprop.nn.Conv2d, _ssprop.nn.Linear))


def convert(model: nn.Module, keep: float, select: str, weight_only: bool,
            layers: Tuple[Type[nn.Module], ...] = (nn.Conv2d,)) -> nn.Module:
    ssprop = require()
    return ssprop.convert(model, keep=keep, select=select, weight_only=weight_only,
                          conv=nn.Conv2d in layers, linear=nn.Linear in layers)


def make_scheduler(model: nn.Module, *, schedule: str, keep: float, min_keep: float,
                   epochs: int, interleave: bool, warmup: int, by: str, period: int):
    ssprop = require()
    return ssprop.DropScheduler(model, schedule, keep=keep, min_keep=min_keep,
                                total_epochs=epochs, interleave=interleave, warmup=warmup,
                                by=by, period=period)


def scheduler_epoch(sched, epoch: int) -> None:
    """At the start of each epoch."""
    sched.step_epoch(epoch)


def scheduler_step(sched, iteration: int) -> None:
    """Before each step (by iteration: the global step count)."""
    if sched.by == "iteration":
        sched.step_iteration(iteration)


def current_keep(sched) -> float:
    return float(sched.current_keep)


def stats() -> Dict[str, float]:
    if _ssprop is None:
        return {"dense_backward_flops": 0.0, "actual_backward_flops": 0.0}
    return dict(_ssprop.stats())


def reset_stats() -> None:
    if _ssprop is not None:
        _ssprop.reset_stats()
