#!/usr/bin/env python3
"""ssprop-bench: convolution backward time on the GPU, ours against cuDNN.

For the distinct conv layers of ResNet-50 (ImageNet shapes), CIFAR ResNet-18
and the paper's CNN (the models of python/ssprop_train/models.py, as
tools/examples/export_network_ir.py builds them, their layers recorded by
ssprop.export.conv_calls on the meta device), at several keep values, times
in one run:
  (a) the dense backward (cuDNN, through autograd),
  (b) the gathered-cuDNN reference: score, top-k, gather dy and W, cuDNN
      backward on the gathered tensors, scatter into zeroed gradients,
  (c) ssprop's backward (torch.ops.ssprop.conv2d: the tactic its first use
      chose among the generated kernels, gathered cuDNN and cuBLAS),
and prints per-layer ratios b/a, c/a, c/b, their geometric means, the
achieved TFLOP/s and the fraction of the GPU's peak. CUDA events after
warm-up, synchronised, median of repeats. ssprop's first call on a layer times
its tactics (runtime/Tactics.h); that happens in the warm-up.

    tools/bench/ssprop_bench.py --network resnet50 cnn --dtype f32 bf16 --csv out.csv --plot out.png
    tools/bench/ssprop_bench.py --plot-from out.csv --plot out.png    # no GPU needed
"""
import argparse
import csv
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "examples"))
sys.path.insert(0, os.path.join(ROOT, "python"))

from export_network_ir import DTYPES, NETWORKS, meta_model  # noqa: E402  (the example networks)


def time_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def gathered_cudnn_backward(dy, x, w, call, keep):
    """The reference ssProp backward (gathered cuDNN), as ssprop runs it when
    that tactic is forced."""
    import ssprop
    with ssprop.tactic("gathered-cudnn"):
        return torch.ops.ssprop._conv2d_backward(
            dy, x, w, True, *geometry(call), keep, "topk", False, [True, True, True])


def geometry(call):
    """stride, padding, dilation, groups as the operators take them."""
    return list(call.stride), list(call.padding), list(call.dilation), call.groups


def conv_layers(network, batch):
    """The distinct convolutions of the network's forward on `batch` images,
    each once (the first layer of its shape names it)."""
    from ssprop.export import conv_calls
    unique = {}
    for _, call in conv_calls(*meta_model(network, batch)):
        unique.setdefault((call.input_shape, call.weight_shape, call.stride, call.padding,
                           call.dilation, call.groups), call)
    return list(unique.values())


def bench_layer(call, keep, dtype, args):
    options = dict(device="cuda", dtype=dtype)
    x = torch.randn(call.input_shape, **options, requires_grad=True)
    w = torch.randn(call.weight_shape, **options, requires_grad=True)
    b = torch.zeros(call.weight_shape[0], **options, requires_grad=True)
    dy = torch.randn(call.output_shape, **options)
    dense_out = F.conv2d(x, w, b, call.stride, call.padding, call.dilation, call.groups)
    ours_out = torch.ops.ssprop.conv2d(x, w, b, *geometry(call), keep, "topk", False)
    dense = time_ms(lambda: torch.autograd.grad(dense_out, (x, w, b), dy, retain_graph=True),
                    args.warmup, args.repeats)
    gathered = time_ms(lambda: gathered_cudnn_backward(dy, x.detach(), w.detach(), call, keep),
                       args.warmup, args.repeats)
    ours = time_ms(lambda: torch.autograd.grad(ours_out, (x, w, b), dy, retain_graph=True),
                   args.warmup, args.repeats)
    batch, cout, ho, wo = call.output_shape
    k = torch.ops.ssprop.kept_channels(keep, cout)
    flops = 2 * 2 * batch * ho * wo * k * math.prod(call.weight_shape[1:])  # dgrad + wgrad
    return dense, gathered, ours, flops


# Dense tensor-core peak TFLOP/s by dtype (TF32 for f32, as cuDNN runs it by
# default), from NVIDIA's data sheets (SXM parts).
PEAK_TFLOPS = {"H100": {"f32": 494.7, "bf16": 989.4, "f16": 989.4},
               "H200": {"f32": 494.7, "bf16": 989.4, "f16": 989.4},
               "A100": {"f32": 156.0, "bf16": 312.0, "f16": 312.0}}


def peak_tflops(device_name, dtype):
    for part, peaks in PEAK_TFLOPS.items():
        if part in device_name:
            return peaks[dtype]
    return float("nan")


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def run_network(network, dtype, args, peak):
    """Times every unique layer of `network` at each keep; returns CSV rows."""
    rows = []
    layers = conv_layers(network, args.batch)
    for keep in args.keep:
        ratios = {"b/a": [], "c/a": [], "c/b": []}
        print(f"\n{network} {dtype} keep {keep}")
        print(f"{'layer':<28}{'dense ms':>10}{'gathered':>10}{'ssprop':>10}"
              f"{'b/a':>7}{'c/a':>7}{'c/b':>7}{'TFLOP/s':>9}{'of peak':>9}")
        for call in layers:
            a, b, c, flops = bench_layer(call, keep, DTYPES[dtype], args)
            ratios["b/a"].append(b / a)
            ratios["c/a"].append(c / a)
            ratios["c/b"].append(c / b)
            tflops = flops / c / 1e9
            cout, _, kernel, _ = call.weight_shape
            name = f"{call.name} {call.input_shape[1]}->{cout} k{kernel}s{call.stride[0]}"
            print(f"{name:<28}{a:>10.3f}{b:>10.3f}{c:>10.3f}{b / a:>7.2f}{c / a:>7.2f}"
                  f"{c / b:>7.2f}{tflops:>9.1f}{tflops / peak:>9.1%}")
            rows.append([network, call.name, keep, dtype, a, b, c, flops])
        print("geometric means: " + ", ".join(f"{key} {geomean(v):.3f}" for key, v in ratios.items()))
    return rows


CSV_HEADER = ["network", "layer", "keep", "dtype", "dense_ms", "gathered_ms", "ssprop_ms",
              "useful_flops"]


def plot(rows, path):
    """Geometric-mean c/a and b/a against keep, one line per network and dtype."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    series = {}
    for network, _, keep, dtype, a, b, c, _ in rows:
        series.setdefault((network, dtype), {}).setdefault(float(keep), []).append(
            (float(b) / float(a), float(c) / float(a)))
    fig, ax = plt.subplots(figsize=(6, 4))
    for (network, dtype), by_keep in sorted(series.items()):
        keeps = sorted(by_keep)
        for index, (label, style) in enumerate((("gathered cuDNN", "--"), ("ssprop", "-"))):
            ax.plot(keeps, [geomean([r[index] for r in by_keep[k]]) for k in keeps], style,
                    marker="o", label=f"{network} {dtype} {label}")
    ax.plot([0, 1], [0, 1], ":", color="gray", label="ideal (= keep)")
    ax.set_xlabel("keep")
    ax.set_ylabel("backward time / dense cuDNN (geomean)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), nargs="+", default=["resnet50"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--keep", type=float, nargs="+", default=[1.0, 0.8, 0.6, 0.4, 0.2])
    parser.add_argument("--dtype", choices=sorted(DTYPES), nargs="+", default=["f32"])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--csv", help="write every measurement here")
    parser.add_argument("--plot", help="write a PNG of the ratios against keep here")
    parser.add_argument("--plot-from", metavar="CSV", help="only plot an earlier run's CSV")
    args = parser.parse_args(argv)
    if args.plot_from:
        if not args.plot:
            parser.error("--plot-from needs --plot PNG")
        with open(args.plot_from, newline="") as f:
            plot(list(csv.reader(f))[1:], args.plot)
        return 0
    if not torch.cuda.is_available():
        print("ssprop-bench: no CUDA device (torch.cuda.is_available() is False); "
              "the GPU benchmark needs one", file=sys.stderr)
        return 2
    import ssprop
    ssprop.set_jit_mode("blocking")  # the warm-up compiles what is timed, not a stand-in
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default for convolutions
    torch.backends.cudnn.benchmark = True
    device = torch.cuda.get_device_name()
    print(f"ssprop-bench on {device}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}, batch {args.batch}")
    rows = []
    for dtype in args.dtype:
        for network in args.network:
            rows += run_network(network, dtype, args, peak_tflops(device, dtype))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_HEADER)
            writer.writerows(rows)
    if args.plot:
        try:
            plot(rows, args.plot)
        except ImportError:
            print("no matplotlib here: plot the CSV elsewhere with --plot-from", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
