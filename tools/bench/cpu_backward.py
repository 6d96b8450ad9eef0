#!/usr/bin/env python3
"""Backward time of ssprop's CPU path (the gathered ATen backward) against the
dense ATen backward, per convolution and per network, at keep 1.0 / 0.8 / 0.6 /
0.4 / 0.2, batch 32.

Networks: the paper's plain CNN (three 3x3 convolutions of width 128 on 28x28
Fashion-MNIST, as python/ssprop_train's "cnn") and the CIFAR-style ResNet-18
(3x3 stem, 32x32 input; every convolution, with its multiplicity). Each time is
the median of --repeats backward passes (torch.autograd.grad on a retained
graph: the forward is not timed), weight and input gradients, no bias.

    PYTHONPATH=python python3 tools/bench/cpu_backward.py [--repeats 5] [--threads N]

Prints a Markdown table: per layer and per network, the time of the dense
backward and the ratio ssprop / dense at each keep.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import ssprop  # noqa: E402

KEEPS = (1.0, 0.8, 0.6, 0.4, 0.2)

# (name, count, Cin, Cout, H=W, kernel, stride, padding)
CNN = [
    ("cnn conv1 1->128 28x28", 1, 1, 128, 28, 3, 1, 1),
    ("cnn conv2 128->128 28x28", 1, 128, 128, 28, 3, 1, 1),
    ("cnn conv3 128->128 28x28", 1, 128, 128, 28, 3, 1, 1),
]
RESNET18 = [
    ("r18 stem 3->64 32x32", 1, 3, 64, 32, 3, 1, 1),
    ("r18 layer1 64->64 32x32", 4, 64, 64, 32, 3, 1, 1),
    ("r18 layer2.0 64->128 s2", 1, 64, 128, 32, 3, 2, 1),
    ("r18 layer2 128->128 16x16", 3, 128, 128, 16, 3, 1, 1),
    ("r18 layer2 down 1x1 s2", 1, 64, 128, 32, 1, 2, 0),
    ("r18 layer3.0 128->256 s2", 1, 128, 256, 16, 3, 2, 1),
    ("r18 layer3 256->256 8x8", 3, 256, 256, 8, 3, 1, 1),
    ("r18 layer3 down 1x1 s2", 1, 128, 256, 16, 1, 2, 0),
    ("r18 layer4.0 256->512 s2", 1, 256, 512, 8, 3, 2, 1),
    ("r18 layer4 512->512 4x4", 3, 512, 512, 4, 3, 1, 1),
    ("r18 layer4 down 1x1 s2", 1, 256, 512, 8, 1, 2, 0),
]


def median_backward(y, inputs, dy, repeats):
    torch.autograd.grad(y, inputs, dy, retain_graph=True)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.autograd.grad(y, inputs, dy, retain_graph=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_layer(cin, cout, hw, k, stride, pad, batch, repeats):
    torch.manual_seed(0)
    x = torch.randn(batch, cin, hw, hw, requires_grad=True)
    w = torch.randn(cout, cin, k, k, requires_grad=True)
    y = F.conv2d(x, w, None, stride, pad)
    dy = torch.randn_like(y)
    out = {"dense": median_backward(y, (x, w), dy, repeats)}
    for keep in KEEPS:
        y = torch.ops.ssprop.conv2d(x, w, None, stride, pad, 1, 1, keep)
        out[keep] = median_backward(y, (x, w), dy, repeats)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, batch {a.batch}, median of {a.repeats}\n")
    header = "| layer | count | dense ms | " + " | ".join(f"keep {k}" for k in KEEPS) + " |"
    print(header)
    print("|" + " --- |" * (3 + len(KEEPS)))
    for net_name, layers in (("paper CNN", CNN), ("ResNet-18", RESNET18)):
        totals = {key: 0.0 for key in ("dense",) + KEEPS}
        for name, count, cin, cout, hw, k, stride, pad in layers:
            t = bench_layer(cin, cout, hw, k, stride, pad, a.batch, a.repeats)
            for key in totals:
                totals[key] += count * t[key]
            ratios = " | ".join(f"{t[kp] / t['dense']:.2f}" for kp in KEEPS)
            print(f"| {name} | {count} | {1e3 * t['dense']:.1f} | {ratios} |", flush=True)
        ratios = " | ".join(f"**{totals[kp] / totals['dense']:.2f}**" for kp in KEEPS)
        print(f"| **{net_name}, all convolutions** | | **{1e3 * totals['dense']:.0f}** | {ratios} |",
              flush=True)


if __name__ == "__main__":
    main()
