#!/usr/bin/env python3
"""Backward time of ssprop's CPU tactics against the dense ATen backward, per
convolution, at keep 1.0 / 0.8 / 0.6 / 0.4 / 0.2, and the training step of the
paper's CNN, dense against the headline schedule.

Layers: every distinct convolution of the paper's CNN (python/ssprop_train's
"cnn": widths 32 and 128 by default, batch 128, 28x28) and of the CIFAR
ResNet-18 (batch 32, 32x32), found by running the models once (a count says
how often a convolution occurs). Per layer, in one process and in alternation
(every candidate once per round, the order rotating each round, one untimed
round first: it compiles the kernels), the median of --repeats rounds of

  dense      aten::convolution_backward, with autograd's output mask (no input
             gradient for a first layer; bias gradient where there is a bias),
  gathered   torch.ops.ssprop._conv2d_backward with the tactic forced to
             "gathered-aten" (score, top-k, the dense backward on the kept
             channels, scatter),
  generated  the same with each "generated:<tile>" tactic the layer lists
             (torch.ops.ssprop._conv2d_tactics); "best" is the fastest tile,
  peak       the machine's FMA throughput on the same threads: a loop of
             independent FMA chains in C, compiled at run time by the system
             cc (-march=native) and called through ctypes.

keep 1.0 is not timed: ssprop runs exactly the dense call there (1.00 by
construction). GFLOP/s count the kept work, 2·N·Ho·Wo·Cin/g·KH·KW·k for the
weight gradient and as much again for the input gradient (none for a first
layer); the times include everything (scores, selection, packs, scatters).
With one thread the clock is this thread's CPU time (other processes on a
shared machine do not count), with more it is wall time.

    PYTHONPATH=python SSPROP_TORCH_LIBRARY=build/runtime/torch/libssprop_torch.so \\
      python3 tools/bench/cpu_backward.py [--threads 1 2] [--repeats 5] [--csv out.csv]
    ... tools/bench/cpu_backward.py --steps 5 [--widths 32 64 128] [--threads 1]

--steps N instead times N training steps (after --warmup) of the CNN at each
width with ssprop_train.steptime (dense, ssprop at keep 1 and keep 0.2 in
alternation): the headline schedule (keep 0.2, interleave: every other epoch
dense, i.e. at keep 1) averages the keep-1 and keep-0.2 steps.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tools" / "bench"))

from ssprop_bench import geomean  # noqa: E402
from ssprop_train import bridge, data, models, steptime  # noqa: E402

KEEPS = (1.0, 0.8, 0.6, 0.4, 0.2)
# The goals: geometric mean of backward time / dense over all networks.
GOALS = {1.0: 1.00, 0.6: 0.70, 0.4: 0.50, 0.2: 0.30}
HEADLINE_KEEP = 0.2
GATHERED = "gathered-aten"
GENERATED = "generated:"

# name: (model, width, input channels and size, batch)
NETWORKS = {
    "cnn32": ("cnn", 32, (1, 28, 28), 128),
    "cnn64": ("cnn", 64, (1, 28, 28), 128),
    "cnn128": ("cnn", 128, (1, 28, 28), 128),
    "resnet18": ("resnet18", 64, (3, 32, 32), 32),
}
DEFAULT_NETWORKS = ("cnn32", "cnn128", "resnet18")


@dataclass(frozen=True)
class Conv:
    """One convolution's geometry; `first`: its input is the network's (no
    input gradient)."""
    cin: int
    cout: int
    size: Tuple[int, int]
    out: Tuple[int, int]
    kernel: Tuple[int, int]
    stride: Tuple[int, int]
    padding: Tuple[int, int]
    dilation: Tuple[int, int]
    groups: int
    bias: bool
    first: bool

    def flops(self, batch: int, kept: int) -> int:
        """Multiply-adds (x2) of the weight and input gradients on `kept`
        output channels."""
        per_gemm = (2 * batch * self.out[0] * self.out[1] * self.cin // self.groups
                    * self.kernel[0] * self.kernel[1] * kept)
        return per_gemm * (1 if self.first else 2)

    def describe(self) -> str:
        stride = f" s{self.stride[0]}" if self.stride[0] > 1 else ""
        return (f"{self.cin}->{self.cout} {self.kernel[0]}x{self.kernel[1]}{stride} "
                f"{self.size[0]}x{self.size[1]}")


def conv_layers(model: nn.Module, input_shape) -> List[Tuple[List[str], Conv]]:
    """The distinct convolutions of `model` on one input, each with the names
    of the modules that have its geometry."""
    x = torch.zeros(1, *input_shape)
    found: Dict[Conv, List[str]] = {}

    def recorder(name):
        def record(conv, inputs, output):
            key = Conv(conv.in_channels, conv.out_channels, tuple(inputs[0].shape[2:]),
                       tuple(output.shape[2:]), conv.kernel_size, conv.stride, conv.padding,
                       conv.dilation, conv.groups, conv.bias is not None, inputs[0] is x)
            found.setdefault(key, []).append(name)
        return record

    hooks = [m.register_forward_hook(recorder(n)) for n, m in model.named_modules()
             if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(x)
    for hook in hooks:
        hook.remove()
    return [(names, conv) for conv, names in found.items()]


# The FMA peak probe: CHAINS independent FMA chains (more than latency x
# pipes on current x86 cores), the widest vectors -march=native allows.
FMA_PROBE_C = r"""
#include <immintrin.h>
#if defined(__AVX512F__)
#define LANES 16
typedef __m512 vec;
#define FMADD _mm512_fmadd_ps
#define SPLAT _mm512_set1_ps
#define LANE0 _mm512_cvtss_f32
#elif defined(__FMA__)
#define LANES 8
typedef __m256 vec;
#define FMADD _mm256_fmadd_ps
#define SPLAT _mm256_set1_ps
#define LANE0 _mm256_cvtss_f32
#else
#error "no FMA instructions on this CPU"
#endif
#define CHAINS 12
long fma_flops_per_round(void) { return 2L * CHAINS * LANES; }
float fma_rounds(long rounds) {
  vec a[CHAINS], b = SPLAT(0.999999f), c = SPLAT(1e-7f);
  for (int i = 0; i < CHAINS; ++i) a[i] = SPLAT((float)i);
  for (long r = 0; r < rounds; ++r)
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; ++i) a[i] = FMADD(a[i], b, c);
  float sum = 0;
  for (int i = 0; i < CHAINS; ++i) sum += LANE0(a[i]);
  return sum;
}
"""
FMA_ROUNDS = 1_000_000  # 192 MFLOP per thread with AVX2: a few ms


def build_fma_probe() -> Optional[ctypes.CDLL]:
    """The probe compiled by $CC (default cc) into a temporary folder, or
    None (with the reason on stderr) where that fails."""
    with tempfile.TemporaryDirectory(prefix="ssprop-fma-") as folder:
        source, library = Path(folder, "fma_probe.c"), Path(folder, "libfmaprobe.so")
        source.write_text(FMA_PROBE_C)
        command = [os.environ.get("CC", "cc"), "-O2", "-march=native", "-shared", "-fPIC",
                   "-o", str(library), str(source)]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"warning: no FMA peak ({' '.join(command)} failed: "
                  f"{getattr(e, 'stderr', None) or e}); fractions of peak are left out",
                  file=sys.stderr)
            return None
        probe = ctypes.CDLL(str(library))  # stays mapped after the folder goes
    probe.fma_rounds.argtypes = [ctypes.c_long]
    probe.fma_rounds.restype = ctypes.c_float
    probe.fma_flops_per_round.restype = ctypes.c_long
    return probe


def run_fma_probe(probe: ctypes.CDLL, threads: int) -> None:
    """FMA_ROUNDS on each of `threads` threads at once (ctypes releases the
    GIL); one thread runs on the caller's, as the one-thread clock needs."""
    if threads == 1:
        probe.fma_rounds(FMA_ROUNDS)
        return
    workers = [threading.Thread(target=probe.fma_rounds, args=(FMA_ROUNDS,))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def alternate(candidates: Dict[str, Callable[[], object]], repeats: int,
              clock: Callable[[], float]) -> Dict[str, List[float]]:
    """Seconds of each candidate per round: one untimed round, then `repeats`
    rounds calling each candidate once, the order rotating by one per round
    so that none always runs first."""
    names = list(candidates)
    for name in names:
        candidates[name]()
    samples: Dict[str, List[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = clock()
            candidates[name]()
            samples[name].append(clock() - start)
    return samples


@dataclass
class LayerResult:
    network: str
    names: List[str]
    conv: Conv
    batch: int
    threads: int
    samples: Dict[str, List[float]]  # "dense", "peak", f"{keep} {tactic}"
    kept: Dict[float, int]
    tactics: Dict[float, List[str]]
    peak_flops_per_call: Optional[int]
    load: float = field(default_factory=lambda: os.getloadavg()[0])

    @property
    def name(self) -> str:
        return f"{self.network} {self.names[0]} {self.conv.describe()}"

    @property
    def count(self) -> int:
        return len(self.names)

    def seconds(self, key: str) -> float:
        return statistics.median(self.samples[key])

    def time(self, keep: float, tactic: str) -> float:
        """Median seconds of `tactic` ("dense" at keep 1) at `keep`."""
        return self.seconds("dense" if keep == 1.0 else f"{keep} {tactic}")

    def ratio(self, keep: float, tactic: str) -> float:
        return self.time(keep, tactic) / self.seconds("dense")

    def generated(self, keep: float) -> List[str]:
        return [t for t in self.tactics[keep] if t.startswith(GENERATED)]

    def best_generated(self, keep: float) -> Optional[str]:
        """The fastest generated tile; "dense" at keep 1 (the dense call)."""
        if keep == 1.0:
            return "dense"
        tiles = self.generated(keep)
        return min(tiles, key=lambda t: self.time(keep, t)) if tiles else None

    def gflops(self, keep: float, tactic: str) -> float:
        return self.conv.flops(self.batch, self.kept[keep]) / self.time(keep, tactic) / 1e9

    def peak_gflops(self) -> Optional[float]:
        if self.peak_flops_per_call is None:
            return None
        return self.peak_flops_per_call / self.seconds("peak") / 1e9


def dense_backward(conv: Conv, dy, x, w):
    return torch.ops.aten.convolution_backward(
        dy, x, w, [conv.cout] if conv.bias else None, conv.stride, conv.padding, conv.dilation,
        False, [0, 0], conv.groups, [not conv.first, True, conv.bias])


def ssprop_backward(conv: Conv, dy, x, w, keep: float, tactic: str):
    import ssprop
    ssprop.set_tactic(tactic)
    return torch.ops.ssprop._conv2d_backward(
        dy, x, w, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups, keep,
        "topk", False, [not conv.first, True, conv.bias])


def layer_tactics(conv: Conv, dy, x, w, keep: float) -> List[str]:
    return list(torch.ops.ssprop._conv2d_tactics(dy, x, w, conv.stride, conv.padding,
                                                 conv.dilation, conv.groups, keep, "topk",
                                                 False))


def bench_layer(network: str, names: List[str], conv: Conv, batch: int, keeps, repeats: int,
                probe: Optional[ctypes.CDLL]) -> LayerResult:
    """Times dense, the FMA probe and every tactic at every keep < 1 in
    alternation."""
    import ssprop
    torch.manual_seed(0)
    x = torch.randn(batch, conv.cin, *conv.size)
    w = torch.randn(conv.cout, conv.cin // conv.groups, *conv.kernel)
    dy = torch.randn(batch, conv.cout, *conv.out)
    threads = torch.get_num_threads()
    candidates = {"dense": lambda: dense_backward(conv, dy, x, w)}
    if probe is not None:
        candidates["peak"] = lambda: run_fma_probe(probe, threads)
    tactics = {keep: layer_tactics(conv, dy, x, w, keep) for keep in keeps if keep < 1.0}
    for keep, listed in tactics.items():
        for tactic in listed:
            candidates[f"{keep} {tactic}"] = (
                lambda keep=keep, tactic=tactic: ssprop_backward(conv, dy, x, w, keep, tactic))
    clock = time.thread_time if threads == 1 else time.perf_counter
    try:
        samples = alternate(candidates, repeats, clock)
    finally:
        ssprop.set_tactic(None)
    peak_flops = threads * FMA_ROUNDS * probe.fma_flops_per_round() if probe else None
    kept = {keep: ssprop.kept_channels(keep, conv.cout) for keep in keeps}
    return LayerResult(network, names, conv, batch, threads, samples, kept, tactics, peak_flops)


def fmt_fraction(gflops: float, peak: Optional[float]) -> str:
    return f"{gflops:.0f}" + (f", {gflops / peak:.0%}" if peak else "")


def layer_row(r: LayerResult, keeps) -> str:
    """Per keep: gathered / **best generated** (GFLOP/s, of peak), as times
    over dense."""
    peak = r.peak_gflops()
    cells = [r.name, str(r.count), f"{1e3 * r.seconds('dense'):.1f}",
             fmt_fraction(r.gflops(1.0, "dense"), peak)]
    for keep in keeps:
        best = r.best_generated(keep)
        if keep == 1.0:
            cells.append("1.00 (dense)")
        elif best is None:
            cells.append(f"{r.ratio(keep, GATHERED):.2f} / –")
        else:
            cells.append(f"{r.ratio(keep, GATHERED):.2f} / **{r.ratio(keep, best):.2f}** "
                         f"({fmt_fraction(r.gflops(keep, best), peak)})")
    return "| " + " | ".join(cells) + " |"


def print_layer_header(keeps) -> None:
    print("| layer | count | dense ms | dense GFLOP/s (of peak) | "
          + " | ".join(f"keep {keep}" for keep in keeps) + " |")
    print("|" + " --- |" * (4 + len(keeps)))


def print_tiles(results: List[LayerResult], keeps) -> None:
    """Every tactic's time over dense, per layer and keep < 1."""
    sparse = [keep for keep in keeps if keep < 1.0]
    tiles = list(dict.fromkeys(t for r in results for keep in sparse for t in r.generated(keep)))
    print("\n| layer | keep | k | gathered | "
          + " | ".join(t[len(GENERATED):] for t in tiles) + " | best / gathered |")
    print("|" + " --- |" * (5 + len(tiles)))
    for r in results:
        for keep in sparse:
            best = r.best_generated(keep)
            cells = [f"{r.ratio(keep, t):.2f}" if t in r.tactics[keep] else "–" for t in tiles]
            versus = f"{r.time(keep, best) / r.time(keep, GATHERED):.2f}" if best else "–"
            print(f"| {r.name} | {keep} | {r.kept[keep]} | {r.ratio(keep, GATHERED):.2f} | "
                  + " | ".join(cells) + f" | {versus} |")


def summary_rows(label: str, results: List[LayerResult], keeps) -> List[str]:
    """Per keep: geometric means over every convolution (a layer counts as
    often as it occurs) of gathered, best generated and the better of the two
    over dense, the total time of the best generated over dense, the worst
    layer's best generated over gathered, and the issue's goal (over "all")."""
    def mean(ratio):
        return geomean([ratio(r) for r in results for _ in range(r.count)])

    rows = []
    for keep in keeps:
        best = {id(r): r.best_generated(keep) or GATHERED for r in results}
        generated = mean(lambda r: r.ratio(keep, best[id(r)]))
        chosen = mean(lambda r: min(r.ratio(keep, best[id(r)]), r.ratio(keep, GATHERED)))
        total = (sum(r.count * r.time(keep, best[id(r)]) for r in results)
                 / sum(r.count * r.seconds("dense") for r in results))
        if keep == 1.0:
            gathered, worst = "1.000", "–"
        else:
            gathered = f"{mean(lambda r: r.ratio(keep, GATHERED)):.3f}"
            slowest = max(results, key=lambda r: r.time(keep, best[id(r)]) / r.time(keep, GATHERED))
            worst = (f"{slowest.time(keep, best[id(slowest)]) / slowest.time(keep, GATHERED):.2f}"
                     f" ({slowest.name})")
        goal = f"≤ {GOALS[keep]:.2f}" if label == "all" and keep in GOALS else ""
        rows.append(f"| {label} | {keep} | {gathered} | **{generated:.3f}** | {chosen:.3f} | "
                    f"{total:.3f} | {worst} | {goal} |")
    return rows


def print_summary(by_network: Dict[str, List[LayerResult]], keeps) -> None:
    print("\n| network | keep | gathered / dense | generated / dense | min(gathered, generated) "
          "/ dense | total generated / total dense | worst layer generated / gathered | goal |")
    print("|" + " --- |" * 8)
    everything = [r for results in by_network.values() for r in results]
    for network, results in by_network.items():
        print("\n".join(summary_rows(network, results, keeps)))
    if len(by_network) > 1:
        print("\n".join(summary_rows("all", everything, keeps)))


def csv_rows(r: LayerResult) -> List[list]:
    peak = r.peak_gflops()
    rows = []
    for keep in r.kept:
        for tactic in ["dense"] if keep == 1.0 else r.tactics[keep]:
            key = "dense" if keep == 1.0 else f"{keep} {tactic}"
            rows.append([r.threads, r.network, r.name, r.count, keep, r.kept[keep], tactic,
                         1e3 * r.seconds(key), 1e3 * min(r.samples[key]),
                         r.conv.flops(r.batch, r.kept[keep]), r.gflops(keep, tactic),
                         peak or "", f"{r.load:.2f}"])
    return rows


CSV_HEADER = ["threads", "network", "layer", "count", "keep", "kept", "tactic", "median_ms",
              "min_ms", "flops", "gflops", "peak_gflops", "load_average"]


def run_layers(networks, batch: Optional[int], keeps, repeats: int,
               probe: Optional[ctypes.CDLL]) -> List[LayerResult]:
    """The tables of one thread count; its results."""
    by_network: Dict[str, List[LayerResult]] = {}
    for network in networks:
        model, width, input_shape, default_batch = NETWORKS[network]
        n = batch or default_batch
        print(f"\n### {network} (batch {n}), {torch.get_num_threads()} thread(s)\n")
        print_layer_header(keeps)
        by_network[network] = []
        layers = conv_layers(models.build_model(model, in_channels=input_shape[0], width=width),
                             input_shape)
        for names, conv in layers:
            result = bench_layer(network, names, conv, n, keeps, repeats, probe)
            by_network[network].append(result)
            print(layer_row(result, keeps), flush=True)
        print_tiles(by_network[network], keeps)
    print_summary(by_network, keeps)
    return [r for results in by_network.values() for r in results]


def run_steps(widths, batch: Optional[int], steps: int, warmup: int) -> None:
    """The CNN's training step at each width: dense, ssprop at keep 1 and at
    HEADLINE_KEEP, in alternation (ssprop_train.steptime)."""
    print(f"\n### CNN training step (batch {batch or 128}), {torch.get_num_threads()} thread(s), "
          f"median of {steps} alternating steps\n")
    print(f"| width | dense step ms | keep 1 step / dense | keep {HEADLINE_KEEP} step / dense | "
          f"headline / dense | dense backward ms | keep {HEADLINE_KEEP} backward / dense |")
    print("|" + " --- |" * 7)
    for width in widths:
        t = steptime.measure("cnn", width, (HEADLINE_KEEP,), batch or 128, steps, warmup)
        headline = t.headline_ratio(HEADLINE_KEEP)
        print(f"| {width} | {t.dense_step:.0f} | {t.ratio(1.0):.3f} | "
              f"{t.ratio(HEADLINE_KEEP):.3f} | **{headline:.3f}** | {t.dense_backward:.0f} | "
              f"{t.ratio(HEADLINE_KEEP, 'backward'):.3f} |", flush=True)


def machine_line() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").open()
                  if line.startswith("model name")), "unknown CPU")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{model}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"load average {load}")


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def keep_value(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--networks", nargs="+", choices=sorted(NETWORKS), default=DEFAULT_NETWORKS)
    p.add_argument("--batch", type=at_least(1), help="for every network (default: 128 for the "
                   "CNNs, 32 for ResNet-18)")
    p.add_argument("--keeps", type=keep_value, nargs="+", default=KEEPS)
    p.add_argument("--repeats", type=at_least(1), default=5, help="timed rounds (median)")
    p.add_argument("--threads", type=at_least(1), nargs="+", default=[1, 2])
    p.add_argument("--csv", metavar="PATH", help="also write every median here")
    p.add_argument("--steps", type=at_least(1), help="time this many training steps of the CNN "
                   "instead of the layers")
    p.add_argument("--widths", type=at_least(1), nargs="+", default=[32, 64, 128],
                   help="the CNN's widths for --steps")
    p.add_argument("--warmup", type=at_least(0), default=2, help="untimed steps for --steps")
    a = p.parse_args(argv)
    try:
        bridge.require()
    except bridge.BridgeMissing as e:
        p.error(str(e))
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    keeps = sorted(set(a.keeps), reverse=True)
    import ssprop
    ssprop.set_jit_mode("blocking")  # the warm-up compiles what is timed, not a stand-in
    print(machine_line())
    probe = None if a.steps else build_fma_probe()
    results = []
    for threads in a.threads:
        torch.set_num_threads(threads)
        if a.steps:
            try:
                run_steps(a.widths, a.batch, a.steps, a.warmup)
            except (data.DatasetNotFoundError, data.IdxError) as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
        else:
            results += run_layers(a.networks, a.batch, keeps, a.repeats, probe)
        print(f"\nload average after {threads} thread(s): "
              + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_HEADER)
            writer.writerows(row for r in results for row in csv_rows(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
