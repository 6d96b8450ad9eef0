"""ssprop.DropScheduler: the keep fraction over training, with the schedules
of the ssProp paper (docs/usage.md). The library computes them
(torch.classes.ssprop.KeepSchedule, on the C++ ssprop::KeepSchedule that the
C++ ssprop::DropScheduler calls too); this class drives the Python layers.
"""

from __future__ import annotations

import numbers
from typing import Iterable, List, Optional, Union

import torch

from ._library import load_library
from .nn.modules import Conv2d, Linear

load_library()

_WHERE = "ssprop.DropScheduler"


# Types are checked here: torch's conversion to the library's arguments
# would take a bool as a number or truncate a float to an int.

def _str(name: str, v) -> str:
    if not isinstance(v, str):
        raise TypeError(f"{_WHERE}: {name} must be a str, got {v!r}")
    return v


def _real(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{_WHERE}: {name} must be a number, got {v!r}")
    return float(v)


def _int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{_WHERE}: {name} must be an int, got {v!r}")
    if not -2**63 <= v < 2**63:
        raise ValueError(f"{_WHERE}: {name} must fit in 64 bits, got {v}")
    return int(v)


def _option(name: str) -> property:
    return property(lambda self: self._options[name],
                    doc=f"The {name} the scheduler was built with.")


class DropScheduler:
    """Sets ``keep`` on every ssprop layer of a model as training goes.

    ``model_or_layers``: a module (every ssprop.nn.Conv2d / Linear inside it;
    there must be one), an iterable of ssprop layers, or None (keep_at and
    average_keep only).

    Use either ``step_epoch(e)`` at the start of each epoch (and, by
    iteration, ``step_iteration(i)`` before each step with the global step
    count), or torch-style ``step()``: after each epoch (by epoch) or each
    step (by iteration). The value for (0, 0) is applied on construction."""

    def __init__(self, model_or_layers: Union[torch.nn.Module, Iterable[torch.nn.Module], None],
                 mode: str, keep: float, min_keep: Optional[float] = None,
                 total_epochs: int = 0, by: str = "epoch", period: int = 10,
                 interleave: bool = False, warmup: int = 0) -> None:
        self._options = dict(mode=mode, keep=keep, min_keep=keep if min_keep is None else min_keep,
                             total_epochs=total_epochs, by=by, period=period,
                             interleave=bool(interleave), warmup=warmup)
        self._schedule = self._make_schedule()
        self.layers: List[torch.nn.Module] = self._collect(model_or_layers)
        self._move_to(0, 0)

    mode = _option("mode")
    keep = _option("keep")
    min_keep = _option("min_keep")
    total_epochs = _option("total_epochs")
    by = _option("by")
    period = _option("period")
    interleave = _option("interleave")
    warmup = _option("warmup")

    def _make_schedule(self):
        o = self._options
        return torch.classes.ssprop.KeepSchedule(
            _str("mode", o["mode"]), _real("keep", o["keep"]), _real("min_keep", o["min_keep"]),
            _int("total_epochs", o["total_epochs"]), _str("by", o["by"]),
            _int("period", o["period"]), o["interleave"], _int("warmup", o["warmup"]))

    # copy and pickle: the library's schedule is rebuilt from the options.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_schedule"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._schedule = self._make_schedule()

    @staticmethod
    def _collect(model_or_layers) -> List[torch.nn.Module]:
        if model_or_layers is None:
            return []
        if isinstance(model_or_layers, torch.nn.Module):
            layers = [m for m in model_or_layers.modules() if isinstance(m, (Conv2d, Linear))]
            if not layers:
                raise ValueError(f"{_WHERE}: the model has no ssprop layer (ssprop.nn.Conv2d / "
                                 f"Linear); build it with them or call ssprop.convert first")
            return layers
        layers = list(model_or_layers)
        for i, m in enumerate(layers):
            if not isinstance(m, (Conv2d, Linear)):
                raise TypeError(f"{_WHERE}: layer {i} is not an ssprop.nn.Conv2d or "
                                f"ssprop.nn.Linear (got {type(m).__name__})")
        return layers

    # -- the schedule -----------------------------------------------------

    def keep_at(self, epoch: int, iteration: int = 0) -> float:
        """The keep fraction at (epoch, global iteration): a pure function."""
        return self._schedule.keep_at(_int("epoch", epoch), _int("iteration", iteration))

    def average_keep(self, iterations_per_epoch: int = 0) -> float:
        """Mean keep over the total_epochs epochs (by iteration: over
        total_epochs * iterations_per_epoch steps, which must then be given),
        in closed form: any number of epochs takes the same time.
        Constant 0.2 with interleave over an even number of epochs: 0.6."""
        return self._schedule.average_keep(_int("iterations_per_epoch", iterations_per_epoch))

    def distinct_keeps(self) -> List[float]:
        """Every keep the training takes, largest first, each once: over the
        total_epochs epochs, or by iteration over the steps 0..period (cosine
        is symmetric about period) plus the warmup's 1 -- a superset when the
        training is shorter. At most 2^20 epochs or steps are evaluated; more
        raise ValueError."""
        return list(self._schedule.distinct_keeps())

    # -- driving the layers ---------------------------------------------------

    def step_epoch(self, epoch: int) -> float:
        """Call at the start of each epoch; applies and returns keep_at."""
        return self._move_to(epoch, self.iteration)

    def step_iteration(self, iteration: int) -> float:
        """Sets the global iteration; applies and returns keep_at."""
        return self._move_to(self.epoch, iteration)

    def step(self) -> float:
        """torch-style: advances the epoch (by epoch) or the iteration (by
        iteration) by one; applies and returns the new keep."""
        if self.by == "epoch":
            return self._move_to(self.epoch + 1, self.iteration)
        return self._move_to(self.epoch, self.iteration + 1)

    def _move_to(self, epoch: int, iteration: int) -> float:
        """Sets (epoch, iteration) and applies its keep to the layers; raises,
        changing nothing, if it is invalid."""
        keep = self.keep_at(epoch, iteration)
        self.epoch, self.iteration, self.current_keep = int(epoch), int(iteration), keep
        for m in self.layers:
            m.keep = keep
        return keep

    def get_last_keep(self) -> float:
        return self.current_keep

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        self._move_to(int(state["epoch"]), int(state["iteration"]))

    def __repr__(self) -> str:
        return (f"DropScheduler(mode={self.mode!r}, keep={self.keep}, min_keep={self.min_keep}, "
                f"total_epochs={self.total_epochs}, by={self.by!r}, period={self.period}, "
                f"interleave={self.interleave}, warmup={self.warmup}, layers={len(self.layers)})")
