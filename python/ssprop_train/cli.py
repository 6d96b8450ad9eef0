"""What the trainers share on the command line: the ssProp scheduler flags, the
training flags, their checks (argparse errors naming the flag), and turning the
parsed flags into a converted model, its keep scheduler and a backward FLOP
meter.

Used by ``examples/train.py`` (classifier) and ``examples/ddpm.py`` (DDPM), so
the two take the same flags with the same meaning and the same errors."""

from __future__ import annotations

import argparse
import math
from typing import Optional, Tuple, Type

import torch
import torch.nn as nn

from ssprop_train import bridge, runstate
from ssprop_train import data as fmnist
from ssprop_train.flops import DenseFlopCounter

SCHEDULES = ("constant", "linear", "cosine", "bar")


def add_ssprop_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ssProp")
    g.add_argument("--mode", choices=("dense", "ssprop"), default="ssprop")
    g.add_argument("--keep", type=float, default=0.2,
                   help="fraction of output channels kept in the backward (the schedule's start)")
    g.add_argument("--min-keep", type=float, default=0.2, help="the schedule's lowest keep")
    g.add_argument("--schedule", choices=SCHEDULES, default="constant")
    g.add_argument("--by", choices=("epoch", "iteration"), default="epoch",
                   help="evaluate the schedule once per epoch or at every step")
    g.add_argument("--period", type=int, default=10, help="T: the by-iteration period in steps")
    g.add_argument("--interleave", action="store_true",
                   help="alternate dense and sparse epochs (by epoch only)")
    g.add_argument("--warmup", type=int, default=0, help="dense epochs at the start")
    g.add_argument("--select", choices=("topk", "random"), default="topk")
    g.add_argument("--jit", choices=("blocking", "background"), default="blocking",
                   help="blocking (the default): each layer's first backward compiles its "
                        "kernels, and a run computes the same bits every time (a resumed run "
                        "equals an uninterrupted one); background: layers run the gathered "
                        "path while their kernels compile (equal within the kernels' "
                        "tolerance, not bit for bit)")
    g.add_argument("--weight-only", action="store_true",
                   help="sparse weight/bias gradients only; the input gradient stays dense")


def add_training_args(p: argparse.ArgumentParser, *, epochs: int, lr: float,
                      out: str) -> argparse._ArgumentGroup:
    """The training flags both trainers take; returns the group for more."""
    t = p.add_argument_group("training")
    t.add_argument("--dropout", type=float, default=0.0, help="Dropout probability, [0, 1)")
    t.add_argument("--epochs", type=int, default=epochs)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=lr, help="Adam's learning rate")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--subset", type=int, default=None,
                   help="train on the first N images (of those not held out by --val)")
    t.add_argument("--val", type=int, default=0, metavar="N",
                   help="hold out N training images, drawn at random by --seed, for "
                        "validation (loss and accuracy per epoch, beside the test set's)")
    t.add_argument("--zero-bias", action="store_true",
                   help="start every convolution's bias at zero (the paper's own layer; "
                        "stock torch.nn.Conv2d draws it at random)")
    t.add_argument("--data", default=None,
                   help=f"directory of the IDX files (default: ${fmnist.ENV_VAR}, "
                        f"then {fmnist.DEFAULT_DIRS[0]})")
    t.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=out, help="output directory")
    o.add_argument("--no-plot", action="store_true", help="skip the PNGs")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    o.add_argument("--label", default=None, help="the run's name in tables (default: the mode)")
    return t


def check_args(p: argparse.ArgumentParser, a: argparse.Namespace,
               positive: Tuple[str, ...] = ("subset", "threads")) -> None:
    """The checks of the flags added above (argparse's usage + message, exit
    status 2); ``positive`` names the optional integer flags that must be >= 1."""
    bad = p.error
    for name in ("keep", "min_keep"):
        v = getattr(a, name)
        if not (0.0 < v <= 1.0):
            bad(f"--{_flag(name)} must be in (0, 1], got {v}")
    if a.min_keep > a.keep:
        bad(f"--min-keep ({a.min_keep}) must not exceed --keep ({a.keep})")
    if a.epochs < 1:
        bad(f"--epochs must be >= 1, got {a.epochs}")
    if a.period < 1:
        bad(f"--period must be >= 1, got {a.period}")
    if a.warmup < 0:
        bad(f"--warmup must be >= 0, got {a.warmup}")
    if not (0 <= a.seed < 2 ** 63):  # torch.manual_seed takes 64-bit seeds
        bad(f"--seed must be in [0, 2^63), got {a.seed}")
    if a.batch_size < 1:
        bad(f"--batch-size must be >= 1, got {a.batch_size}")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        bad(f"--lr must be a positive number, got {a.lr}")
    for name in positive:
        v = getattr(a, name)
        if v is not None and v < 1:
            bad(f"--{_flag(name)} must be >= 1, got {v}")
    if not (0.0 <= a.dropout < 1.0):
        bad(f"--dropout must be in [0, 1), got {a.dropout}")
    if a.val < 0:
        bad(f"--val must be >= 0, got {a.val}")
    if a.mode == "ssprop":
        if a.by == "iteration" and a.schedule == "constant":
            bad("--schedule constant has no by-iteration form (use --by epoch, or linear/cosine/bar)")
        if a.by == "iteration" and a.interleave:
            bad("--interleave applies by epoch only (drop it or use --by epoch)")
        if a.by == "epoch" and a.schedule in ("linear", "cosine") and a.epochs < 2:
            bad(f"--schedule {a.schedule} by epoch needs --epochs >= 2 (it divides by epochs - 1)")
        try:
            bridge.require()
        except bridge.BridgeMissing as e:
            bad(str(e))
    if a.device == "cuda" and not torch.cuda.is_available():
        bad("--device cuda: no CUDA device is available to this PyTorch")


def check_outputs(p: argparse.ArgumentParser, a: argparse.Namespace,
                  extra: Tuple[Tuple[str, Optional[str]], ...] = ()) -> None:
    """--out, and the directories of ``extra`` ((flag, directory or None)
    pairs), can be written to (made if missing): checked before training, so
    that no work is lost at the end. The trainers call it after every other
    check, as it creates the directories."""
    for flag, directory in (("--out", a.out), *extra):
        problem = directory is not None and runstate.check_writable(directory)
        if problem:
            p.error(f"{flag}: {problem}")


def _flag(name: str) -> str:
    return name.replace("_", "-")


def apply_ssprop(model: nn.Module, a: argparse.Namespace,
                 layers: Tuple[Type[nn.Module], ...] = (nn.Conv2d,)):
    """``(model, scheduler)``: with --mode ssprop, ``layers`` converted in place
    and the keep scheduler the flags describe; with --mode dense, the model as it
    is and no scheduler."""
    if a.mode != "ssprop":
        return model, None
    bridge.require().set_jit_mode(a.jit)
    model = bridge.convert(model, keep=a.keep, select=a.select, weight_only=a.weight_only,
                           layers=layers)
    sched = bridge.make_scheduler(model, schedule=a.schedule, keep=a.keep, min_keep=a.min_keep,
                                  epochs=a.epochs, interleave=a.interleave, warmup=a.warmup,
                                  by=a.by, period=a.period)
    return model, sched


class FlopMeter:
    """Backward FLOPs per epoch, dense and actual: ``ssprop.stats()`` for an
    ssProp model, a forward-hook count of the same quantity for a dense one."""

    def __init__(self, model: nn.Module, sched,
                 layers: Tuple[Type[nn.Module], ...] = (nn.Conv2d,)):
        self.sparse = sched is not None
        self.counter = DenseFlopCounter(
            [] if self.sparse else [m for m in model.modules() if isinstance(m, layers)])

    def start(self) -> None:
        bridge.reset_stats()
        self.counter.take()

    def take(self) -> Tuple[float, float]:
        """(dense, actual) since ``start``."""
        if not self.sparse:
            dense = self.counter.take()
            return dense, dense
        st = bridge.stats()
        return st["dense_backward_flops"], st["actual_backward_flops"]

    def remove(self) -> None:
        self.counter.remove()


def keep_before_step(sched, step: int) -> float:
    """Drives a by-iteration schedule before a step; the keep the step runs at."""
    if sched is None:
        return 1.0
    bridge.scheduler_step(sched, step)
    return bridge.current_keep(sched)


def start_epoch(sched, epoch: int) -> None:
    if sched is not None:
        bridge.scheduler_epoch(sched, epoch)


def load_images(a: argparse.Namespace, split: str, subset: Optional[int],
                normalize: bool = True):
    """A split of Fashion-MNIST; a missing or corrupt data set exits with its message."""
    try:
        return fmnist.load_split(split, a.data, subset, normalize)
    except (fmnist.DatasetNotFoundError, fmnist.IdxError) as e:
        raise SystemExit(f"error: {e}")


def load_train_val(a: argparse.Namespace, normalize: bool = True, verbose: bool = True):
    """``((train_x, train_y), val)``: the training images of --subset and --val,
    and the --val images held out of them (None without --val;
    :func:`ssprop_train.data.train_val_indices`). Says which images were held
    out (their index sum identifies the split; ssprop-train prints the same)."""
    if not a.val:
        return load_images(a, "train", a.subset, normalize), None
    x, y = load_images(a, "train", None, normalize)
    try:
        train, held = fmnist.train_val_indices(len(x), a.subset, a.val, a.seed)
    except ValueError as e:
        raise SystemExit(f"error: --subset/--val: {e}")
    if verbose:
        print(f"validation: {len(held)} of {len(x)} training images held out by seed {a.seed} "
              f"(index sum {int(held.sum())}); training on {len(train)}", flush=True)
    return (x[train], y[train]), (x[held], y[held])


def load_saved(run: "runstate.RunDir") -> "Optional[runstate.Saved]":
    """The run's checkpoint, if any; exits with a clear error when the output
    directory holds a run that cannot be continued."""
    try:
        return run.load()
    except ValueError as e:
        raise SystemExit(f"error: {e}")
