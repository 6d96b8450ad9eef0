"""A training run's per-epoch checkpoint, so that a killed run continues from its
last finished epoch.

``DIR/checkpoint.pt`` holds the run's arguments, the finished epochs' rows (the
CSV so far), the global step count, the model's and the optimizer's state, the
random generators' states and whatever else the trainer keeps (``extra``). It
is written atomically (a temporary file, fsync, rename, fsync of the
directory): a kill leaves the previous epoch's checkpoint whole. Re-running the
same command continues from it, and on the CPU with one thread gives the same
weights and CSV as a run that was never interrupted; a complete run (its
outputs written) is skipped; a directory holding a run of other arguments is
refused. The keep schedule and the shuffling are functions of the epoch and
step (``ssprop.DropScheduler.keep_at``, :class:`ssprop_train.data.Batches`),
so they need no state of their own.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn

FORMAT = "ssprop-run/1"
FILE = "checkpoint.pt"
#: Flags that change how a run is shown, named or how fast it goes, not what it
#: computes: a run may resume under other values of these.
PRESENTATION = frozenset({"out", "no_progress", "no_plot", "label", "threads"})


class ArgumentsDiffer(ValueError):
    """The output directory holds a run of other arguments."""


def run_arguments(a: argparse.Namespace) -> Dict[str, object]:
    """The flags that define what a run computes (JSON values, tuples as lists;
    objects the checks attach, such as a loaded model, are left out)."""
    plain = (str, int, float, bool, type(None))
    return {k: list(v) if isinstance(v, (list, tuple)) else v
            for k, v in sorted(vars(a).items())
            if k not in PRESENTATION and (isinstance(v, plain) or
                                          isinstance(v, (list, tuple)) and
                                          all(isinstance(x, plain) for x in v))}


def write_atomically(path, write: Callable) -> Path:
    """``write(f)`` into a temporary file beside ``path`` (binary), then fsync
    and rename over ``path``: readers see the old file or the whole new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _rng_state() -> Dict[str, object]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Dict[str, object]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Saved:
    """A checkpoint read back: ``rows`` of the finished epochs, the global
    ``step``, whether the run is ``complete``, the trainer's ``extra``."""
    rows: List[Dict[str, object]]
    step: int
    complete: bool
    extra: Dict[str, object] = field(default_factory=dict)
    state: Dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def epochs(self) -> int:
        return len(self.rows)

    def restore(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        """The model, the optimizer and the random generators as they were at the
        end of the last finished epoch."""
        model.load_state_dict(self.state["model"])
        opt.load_state_dict(self.state["optimizer"])
        _set_rng_state(self.state["rng"])


class RunDir:
    """The checkpoint of the run in ``out`` with arguments ``args``
    (:func:`run_arguments`)."""

    def __init__(self, out, args: Dict[str, object]):
        self.out = Path(out)
        self.path = self.out / FILE
        self.args = args

    def load(self) -> Optional[Saved]:
        """The saved run, None when there is none; ArgumentsDiffer when it was
        started with other arguments, ValueError when the file is not ours."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as e:  # a truncated or foreign file: any unpickler error
            raise ValueError(f"{self.path}: cannot read the run's checkpoint: {e}") from e
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a run checkpoint (expected format {FORMAT!r})")
        self._check_arguments(state["args"])
        return Saved(state["rows"], state["step"], state["complete"], state["extra"], state)

    def _check_arguments(self, saved: Dict[str, object]) -> None:
        diffs = [f"--{k.replace('_', '-')} {_show(saved.get(k))} there, {_show(self.args.get(k))} "
                 f"here" for k in sorted(set(saved) | set(self.args))
                 if saved.get(k) != self.args.get(k)]
        if diffs:
            raise ArgumentsDiffer(
                f"{self.out} holds a run with other arguments ({'; '.join(diffs)}): run the "
                f"same command to continue it, pass another --out, or delete {self.path} to "
                f"start over")

    def save(self, rows, step: int, model: nn.Module, opt: Optional[torch.optim.Optimizer],
             extra: Optional[Dict[str, object]] = None, complete: bool = False) -> Path:
        """After each finished epoch (``opt`` None and ``complete`` once the
        run's outputs are written: the optimizer's state is no longer needed)."""
        state = {"format": FORMAT, "args": self.args, "rows": list(rows), "step": step,
                 "complete": complete, "extra": dict(extra or {}),
                 "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                 "optimizer": opt.state_dict() if opt is not None else None,
                 "rng": _rng_state()}
        return write_atomically(self.path, lambda f: torch.save(state, f))


def _show(v) -> str:
    return "(unset)" if v is None else json.dumps(v)


def check_writable(directory) -> Optional[str]:
    """None when files can be created in ``directory`` (made if missing), else
    why not: checked before training, so that no work is lost at the end."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return f"{directory}: cannot write there: {e.strerror or e}"
    return None
