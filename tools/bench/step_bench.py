#!/usr/bin/env python3
"""ssprop-step-bench: training-step time on the GPU, dense against ssProp.

For CIFAR ResNet-18 (3x32x32, width 64) and the paper's CNN (1x28x28, width
128) on synthetic data, times whole steps (forward, backward, Adam) of
  dense        plain torch.nn layers (cuDNN),
  ssprop@keep  the same model converted with ssprop.convert at each keep,
and the headline schedule: constant keep 0.2 + interleave alternates sparse
and dense epochs, so its average step is the mean of ssprop@0.2 and ssprop@1.
Prints median step milliseconds, speedups over dense and peak memory. CUDA
events after warm-up (which includes ssprop's first-use compile and tactic
timing), median of repeats, all in one run.

    tools/bench/step_bench.py --model resnet18 cnn --batch 128 --csv steps.csv
"""
import argparse
import copy
import csv
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tools" / "bench"))

from ssprop_bench import time_ms  # noqa: E402
from ssprop_train import bridge, models  # noqa: E402

# (input channels, image size) of each model's data set.
INPUTS = {"resnet18": (3, 32), "cnn": (1, 28)}


def step_ms(model, name, batch, warmup, repeats):
    """Median milliseconds of one training step, and the peak memory in MiB."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    channels, size = INPUTS[name]
    x = torch.randn(batch, channels, size, size, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    torch.cuda.reset_peak_memory_stats()
    ms = time_ms(step, warmup, repeats)
    return ms, torch.cuda.max_memory_allocated() / 2**20


def bench_model(name, args):
    import ssprop
    ssprop.set_jit_mode("blocking")  # the warm-up compiles what the timed steps run
    channels, _ = INPUTS[name]
    dense = models.build_model(name, in_channels=channels).cuda()
    timing = (name, args.batch, args.warmup, args.repeats)
    results = {"dense": step_ms(dense, *timing)}
    sparse = ssprop.convert(copy.deepcopy(dense))
    for keep in sorted(set(args.keep) | {0.2, 1.0}, reverse=True):
        for layer in sparse.modules():
            if bridge.is_ssprop_layer(layer):
                layer.keep = keep
        results[f"ssprop@{keep:g}"] = step_ms(sparse, *timing)
    headline = (results["ssprop@0.2"][0] + results["ssprop@1"][0]) / 2
    results["headline (0.2 + interleave)"] = (
        headline, max(results["ssprop@0.2"][1], results["ssprop@1"][1]))
    return results


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(INPUTS), nargs="+", default=["resnet18", "cnn"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--keep", type=float, nargs="+", default=[0.6, 0.4, 0.2])
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--csv", help="write every measurement here")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("ssprop-step-bench: no CUDA device (torch.cuda.is_available() is False); "
              "the GPU benchmark needs one", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    print(f"ssprop-step-bench on {torch.cuda.get_device_name()}, torch {torch.__version__}, "
          f"batch {args.batch}, synthetic data")
    rows = []
    for name in args.model:
        results = bench_model(name, args)
        dense_ms = results["dense"][0]
        print(f"\n{name}\n{'variant':<30}{'step ms':>10}{'speedup':>9}{'peak MiB':>10}")
        for variant, (ms, mib) in results.items():
            print(f"{variant:<30}{ms:>10.3f}{dense_ms / ms:>9.2f}{mib:>10.0f}")
            rows.append([name, args.batch, variant, ms, dense_ms / ms, mib])
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["model", "batch", "variant", "step_ms", "speedup", "peak_mib"])
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
