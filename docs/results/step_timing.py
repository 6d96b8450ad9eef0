#!/usr/bin/env python3
"""Per-step CPU timing of the CNN (or the DDPM's UNet), dense vs ssProp at a fixed keep, robust to a
busy machine: the dense and the ssProp model train in alternation in one
process (same batches, same threads), and the medians of many steps are
compared. Prints median milliseconds of the whole step and of the backward
alone, and their ratios.

    PYTHONPATH=python python3 docs/results/step_timing.py --width 32 --keep 0.2
    PYTHONPATH=python python3 docs/results/step_timing.py --model unet --width 16 --keep 0.2
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ssprop_train import bridge, data, models  # noqa: E402
from ssprop_train.diffusion import Diffusion  # noqa: E402
from ssprop_train.unet import UNet  # noqa: E402


def build(model: str, width: int):
    return UNet(width) if model == "unet" else models.build_model(model, width=width)


def step_loss(model: str, m, xb, yb, step: int):
    """The training loss of one batch; the UNet's diffusion steps and noise are
    drawn from ``step`` so that the dense and the ssProp model see the same."""
    if model != "unet":
        return F.cross_entropy(m(xb), yb)
    g = torch.Generator().manual_seed(step)
    t = torch.randint(0, 200, (xb.shape[0],), generator=g)
    return DIFFUSION.loss(m, xb, t, torch.randn(xb.shape, generator=g))


DIFFUSION = Diffusion(200)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="cnn", choices=sorted(models.DEFAULT_WIDTH) + ["unet"])
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--keep", type=float, default=0.2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    ssprop = bridge.require()
    x, y = data.load_split("train", subset=a.batch_size * (a.steps + a.warmup))
    nets = {}
    for name in ("dense", "ssprop"):
        torch.manual_seed(0)
        m = build(a.model, a.width)
        if name == "ssprop":
            ssprop.convert(m, keep=a.keep, linear=False)
        nets[name] = (m, torch.optim.Adam(m.parameters(), lr=1e-3))
    times = {n: {"step": [], "backward": []} for n in nets}
    for i in range(a.steps + a.warmup):
        xb, yb = x[i * a.batch_size:(i + 1) * a.batch_size], y[i * a.batch_size:(i + 1) * a.batch_size]
        for name in (("dense", "ssprop") if i % 2 == 0 else ("ssprop", "dense")):
            m, opt = nets[name]
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = step_loss(a.model, m, xb, yb, i)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            if i >= a.warmup:
                times[name]["step"].append(t3 - t0)
                times[name]["backward"].append(t2 - t1)
    med = {n: {k: 1e3 * statistics.median(v) for k, v in t.items()} for n, t in times.items()}
    print(f"{a.model} width {a.width}, batch {a.batch_size}, keep {a.keep}, "
          f"{torch.get_num_threads()} threads, median of {a.steps} steps (ms):")
    print(f"{'':8} {'step':>8} {'backward':>9}")
    for n in nets:
        print(f"{n:8} {med[n]['step']:8.1f} {med[n]['backward']:9.1f}")
    rs = med["ssprop"]["step"] / med["dense"]["step"]
    rb = med["ssprop"]["backward"] / med["dense"]["backward"]
    print(f"ratio    {rs:8.3f} {rb:9.3f}")
    print(f"headline (keep {a.keep} + interleave: half the epochs dense) step-time ratio "
          f"~ {(1 + rs) / 2:.3f}")


if __name__ == "__main__":
    main()
