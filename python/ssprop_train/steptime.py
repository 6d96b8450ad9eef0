"""Per-step CPU time of a model trained densely and with ssProp at fixed keeps,
robust to a busy machine: the dense model and one ssProp model per keep (and
at keep 1, as in an interleaved schedule's dense epochs) train in alternation
in one process (same batches, same threads; the order rotates every
step, so no model always runs first), and the medians of many steps are
compared. The training seconds of separate runs on a shared machine measure the
load from other processes, not ssProp; these ratios are free of the load's
level, though not of its kind (a busy machine's ratio is not an idle one's:
measure on an idle machine for figures to publish).

    python -m ssprop_train.steptime --model cnn --width 32 --keep 0.2
    python -m ssprop_train.steptime --model unet --width 16 --keep 0.2 0.5 --json t.json

Used by ``docs/results/step_timing.py``, ``scripts/demo-train`` and the
experiment scripts (:mod:`ssprop_train.experiment`), which turn epochs into
seconds with :meth:`StepTimes.epoch_seconds`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssprop_train import bridge, data, models
from ssprop_train.diffusion import Diffusion
from ssprop_train.unet import UNet

MODELS = tuple(sorted(models.DEFAULT_WIDTH)) + ("unet",)
#: The DDPM's diffusion steps (examples/ddpm.py's default).
TIMESTEPS = 200


@dataclass
class StepTimes:
    """Median milliseconds per training step (``step``) and of its backward
    alone (``backward``) of the plain ``torch.nn`` model (``dense_*``) and of
    the ssProp model at each measured keep (always keep 1 among them: an ssProp
    run's dense epochs, which cost a little more than the plain model's)."""
    model: str
    width: int
    batch_size: int
    threads: int
    steps: int
    dense_step: float
    dense_backward: float
    step: Dict[float, float] = field(default_factory=dict)
    backward: Dict[float, float] = field(default_factory=dict)

    def ratio(self, keep: float, part: str = "step") -> float:
        """The ssProp model's time at ``keep`` over the plain model's."""
        return getattr(self, part)[keep] / getattr(self, f"dense_{part}")

    def headline_ratio(self, keep: float) -> float:
        """The step-time ratio of ``keep`` + interleave (every other epoch at
        keep 1) to the plain model's."""
        return (self.ratio(1.0) + self.ratio(keep)) / 2

    def step_ms_at(self, keep: float, ssprop: bool = True) -> float:
        """The step time of the ssProp model at ``keep``, linear between the
        measured keeps (the kept channel count, and so the work, is a step
        function of keep); of the plain model when not ``ssprop``."""
        if not ssprop:
            return self.dense_step
        keeps = sorted(self.step)
        if not keeps[0] <= keep <= keeps[-1]:
            raise ValueError(f"keep {keep} outside the measured keeps {keeps[0]}..{keeps[-1]}")
        for lo, hi in zip(keeps, keeps[1:]):
            if lo <= keep <= hi:
                w = (keep - lo) / (hi - lo)
                return (1 - w) * self.step[lo] + w * self.step[hi]
        return self.step[keeps[0]]  # a single measured keep

    def epoch_seconds(self, keep: float, steps_per_epoch: int, ssprop: bool = True) -> float:
        return steps_per_epoch * self.step_ms_at(keep, ssprop) / 1e3

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        d = asdict(self)
        for part in ("step", "backward"):
            d[part] = {repr(k): v for k, v in d[part].items()}
        path.write_text(json.dumps(d, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path) -> "StepTimes":
        d = json.loads(Path(path).read_text())
        for part in ("step", "backward"):
            d[part] = {float(k): v for k, v in d[part].items()}
        return cls(**d)


def build(model: str, width: int) -> nn.Module:
    return UNet(width) if model == "unet" else models.build_model(model, width=width)


def _loss(model: str, m: nn.Module, diffusion: Diffusion, xb, yb, step: int):
    """The training loss of one batch; the UNet's diffusion steps and noise are
    drawn from ``step`` so that every model sees the same."""
    if model != "unet":
        return F.cross_entropy(m(xb), yb)
    g = torch.Generator().manual_seed(step)
    t = torch.randint(0, diffusion.timesteps, (xb.shape[0],), generator=g)
    return diffusion.loss(m, xb, t, torch.randn(xb.shape, generator=g))


def measure(model: str = "cnn", width: int = 32, keeps: Sequence[float] = (0.2,),
            batch_size: int = 128, steps: int = 40, warmup: int = 5,
            data_dir: Optional[str] = None) -> StepTimes:
    """Trains the plain model and one ssProp model per keep (and keep 1) in
    alternation for ``warmup + steps`` steps on the same Fashion-MNIST batches;
    the medians of the last ``steps``. Every model starts from the same initial
    weights."""
    x, y = data.load_split("train", data_dir, batch_size * (steps + warmup),
                           normalize=model != "unet")
    if model == "unet":
        x = x * 2 - 1  # the DDPM's pixel range
    batches = max(1, len(x) // batch_size)
    diffusion = Diffusion(TIMESTEPS)
    nets = {}
    for keep in [None, *sorted({1.0, *keeps}, reverse=True)]:  # None: the plain model
        torch.manual_seed(0)
        m = build(model, width)
        if keep is not None:
            m = bridge.convert(m, keep=keep, select="topk", weight_only=False)
        nets[keep] = (m, torch.optim.Adam(m.parameters(), lr=1e-3))
    order = list(nets)
    times = {k: {"step": [], "backward": []} for k in nets}
    # Blocking JIT: the warm-up compiles the kernels the timed steps run.
    with bridge.require().jit_mode("blocking"):
        for i in range(warmup + steps):
            b = slice((i % batches) * batch_size, (i % batches + 1) * batch_size)
            xb, yb = x[b], y[b]
            for keep in order[i % len(order):] + order[:i % len(order)]:
                m, opt = nets[keep]
                t0 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss = _loss(model, m, diffusion, xb, yb, i)
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                opt.step()
                t3 = time.perf_counter()
                if i >= warmup:
                    times[keep]["step"].append(t3 - t0)
                    times[keep]["backward"].append(t2 - t1)
    med = {part: {k: 1e3 * statistics.median(t[part]) for k, t in times.items()}
           for part in ("step", "backward")}
    dense = {f"dense_{part}": med[part].pop(None) for part in ("step", "backward")}
    return StepTimes(model, width, batch_size, torch.get_num_threads(), steps, **dense, **med)


def format_times(t: StepTimes) -> str:
    lines = [f"{t.model} width {t.width}, batch {t.batch_size}, {t.threads} thread(s), "
             f"median of {t.steps} alternating steps (ms):",
             f"{'model':12} {'step':>8} {'backward':>9} {'step ratio':>11} {'bwd ratio':>10}",
             f"{'dense':12} {t.dense_step:8.1f} {t.dense_backward:9.1f} {1:11.3f} {1:10.3f}"]
    for keep in sorted(t.step, reverse=True):
        lines.append(f"{'keep ' + format(keep, 'g'):12} {t.step[keep]:8.1f} "
                     f"{t.backward[keep]:9.1f} {t.ratio(keep):11.3f} "
                     f"{t.ratio(keep, 'backward'):10.3f}")
    for keep in sorted(k for k in t.step if k < 1.0):
        lines.append(f"headline (keep {keep:g} + interleave: every other epoch at keep 1): "
                     f"step-time ratio ~ {t.headline_ratio(keep):.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ssprop_train.steptime",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="cnn", choices=MODELS)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--keep", type=float, nargs="+", default=[0.2],
                   help="the ssProp models' keeps (the dense model is always timed)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--data", default=None, help="directory of the IDX files")
    p.add_argument("--json", metavar="PATH", help="also save the medians here")
    a = p.parse_args(argv)
    for name in ("width", "batch_size", "steps", "threads"):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    if a.warmup < 0:
        p.error(f"--warmup must be >= 0, got {a.warmup}")
    bad = [k for k in a.keep if not 0.0 < k <= 1.0]
    if bad:
        p.error(f"--keep must be in (0, 1], got {bad[0]}")
    try:
        bridge.require()
    except bridge.BridgeMissing as e:
        p.error(str(e))
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        t = measure(a.model, a.width, a.keep, a.batch_size, a.steps, a.warmup, a.data)
    except (data.DatasetNotFoundError, data.IdxError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(format_times(t))
    if a.json:
        print(f"wrote {t.save(a.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
