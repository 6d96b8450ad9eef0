"""ssprop.DropScheduler: the keep fraction over training, with the schedules
of the ssProp paper. The same code, expression for expression, as the C++
ssprop::DropScheduler (runtime/torch/Scheduler.cpp), so both give the same
floats; the tests check that.

By epoch e (0-based, evaluated at the start of each epoch):
  e < warmup -> 1.0; interleave: dense on even (e - warmup), else the mode;
  constant -> keep; linear -> max(min, keep - (keep - min) * e / (E - 1));
  cosine -> min + (keep - min) * (1 + cos(pi * e / (E - 1))) / 2;
  bar -> keep while e < E // 2, else min.
By iteration i (global step; warmup still counted in epochs):
  linear -> max(min, keep - (keep - min) * (i % T) / T);
  cosine -> min + (keep - min) * (1 + cos(pi * i / T)) / 2;
  bar -> keep while i % T < T // 2, else min; constant is an error.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Optional, Union

import torch

from .nn.modules import Conv2d, Linear

_WHERE = "ssprop.DropScheduler"
_MODES = ("constant", "linear", "cosine", "bar")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(v) -> str:
    """A number as the C++ side prints it (ostream: %g), so messages match."""
    return format(v, "g") if _is_number(v) else repr(v)


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
        self.mode = mode
        self.keep = keep
        self.min_keep = keep if min_keep is None else min_keep
        self._min_keep_given = min_keep is not None
        self.total_epochs = total_epochs
        self.by = by
        self.period = period
        self.interleave = bool(interleave)
        self.warmup = warmup
        self._validate()
        self.layers: List[torch.nn.Module] = self._collect(model_or_layers)
        self.epoch = 0
        self.iteration = 0
        self.current_keep = 1.0
        self._apply()

    # -- configuration ----------------------------------------------------

    def _validate(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f'{_WHERE}: mode must be "constant", "linear", "cosine" or "bar", '
                             f'got "{self.mode}"')
        if self.by not in ("epoch", "iteration"):
            raise ValueError(f'{_WHERE}: by must be "epoch" or "iteration", got "{self.by}"')
        for name in ("keep", "min_keep"):
            v = getattr(self, name)
            if not _is_number(v) or not (0.0 < v <= 1.0):
                raise ValueError(f"{_WHERE}: {name} must be in (0, 1], got {_fmt(v)}")
        if self.min_keep > self.keep:
            raise ValueError(f"{_WHERE}: min_keep must be <= keep, got min_keep "
                             f"{_fmt(self.min_keep)} > keep {_fmt(self.keep)}")
        for name, lowest in (("period", 1), ("warmup", 0), ("total_epochs", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lowest:
                raise ValueError(f"{_WHERE}: {name} must be >= {lowest}, got {_fmt(v)}")
        if self.by == "epoch":
            if self.mode in ("linear", "cosine") and self.total_epochs < 2:
                raise ValueError(f"{_WHERE}: total_epochs must be >= 2 for {self.mode}, "
                                 f"got {self.total_epochs}")
            if self.mode == "bar" and self.total_epochs < 1:
                raise ValueError(f"{_WHERE}: total_epochs must be >= 1 for bar, "
                                 f"got {self.total_epochs}")
        else:
            if self.mode == "constant":
                raise ValueError(f'{_WHERE}: mode "constant" is not available by iteration '
                                 f'(use by="epoch")')
            if self.interleave:
                raise ValueError(f"{_WHERE}: interleave applies by epoch only, not by iteration")

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
        if epoch < 0:
            raise ValueError(f"{_WHERE}: epoch must be >= 0, got {epoch}")
        if iteration < 0:
            raise ValueError(f"{_WHERE}: iteration must be >= 0, got {iteration}")
        keep, mn, mode = float(self.keep), float(self.min_keep), self.mode
        if epoch < self.warmup:
            return 1.0
        if self.by == "epoch":
            if self.interleave and (epoch - self.warmup) % 2 == 0:
                return 1.0
            e = float(epoch)
            last = float(self.total_epochs - 1)
            if mode == "constant":
                return keep
            if mode == "linear":
                return max(mn, keep - (keep - mn) * e / last)
            if mode == "cosine":
                return mn + 0.5 * (keep - mn) * (1.0 + math.cos(math.pi * e / last))
            return keep if epoch < self.total_epochs // 2 else mn  # bar
        t = self.period
        if mode == "linear":
            return max(mn, keep - (keep - mn) * float(iteration % t) / float(t))
        if mode == "cosine":
            return mn + 0.5 * (keep - mn) * (1.0 + math.cos(math.pi * float(iteration) / float(t)))
        return keep if iteration % t < t // 2 else mn  # bar

    def average_keep(self, iterations_per_epoch: int = 0) -> float:
        """Mean keep over the total_epochs epochs (by iteration: over
        total_epochs * iterations_per_epoch steps, which must then be given).
        Constant 0.2 with interleave over an even number of epochs: 0.6."""
        epochs = self.total_epochs
        if epochs < 1:
            raise ValueError(f"{_WHERE}: average_keep needs total_epochs >= 1, got {epochs}")
        total = 0.0
        if self.by == "epoch":
            for e in range(epochs):
                total += self.keep_at(e, 0)
            return total / float(epochs)
        if iterations_per_epoch < 1:
            raise ValueError(f"{_WHERE}: average_keep by iteration needs iterations_per_epoch "
                             f">= 1, got {iterations_per_epoch}")
        steps = epochs * iterations_per_epoch
        for i in range(steps):
            total += self.keep_at(i // iterations_per_epoch, i)
        return total / float(steps)

    # -- driving the layers ---------------------------------------------------

    def step_epoch(self, epoch: int) -> float:
        """Call at the start of each epoch; applies and returns keep_at."""
        if epoch < 0:
            raise ValueError(f"{_WHERE}: epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)
        return self._apply()

    def step_iteration(self, iteration: int) -> float:
        """Sets the global iteration; applies and returns keep_at."""
        if iteration < 0:
            raise ValueError(f"{_WHERE}: iteration must be >= 0, got {iteration}")
        self.iteration = int(iteration)
        return self._apply()

    def step(self) -> float:
        """torch-style: advances the epoch (by epoch) or the iteration (by
        iteration) by one; applies and returns the new keep."""
        if self.by == "epoch":
            self.epoch += 1
        else:
            self.iteration += 1
        return self._apply()

    def _apply(self) -> float:
        self.current_keep = self.keep_at(self.epoch, self.iteration)
        for m in self.layers:
            m.keep = self.current_keep
        return self.current_keep

    def get_last_keep(self) -> float:
        return self.current_keep

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.iteration = int(state["iteration"])
        self._apply()

    def __repr__(self) -> str:
        return (f"DropScheduler(mode={self.mode!r}, keep={self.keep}, min_keep={self.min_keep}, "
                f"total_epochs={self.total_epochs}, by={self.by!r}, period={self.period}, "
                f"interleave={self.interleave}, warmup={self.warmup}, layers={len(self.layers)})")
