#!/usr/bin/env python3
"""ssprop-bench: convolution backward time on the GPU, ours against cuDNN.

For the conv layers of ResNet-50 (ImageNet shapes), CIFAR ResNet-18 and the
paper's CNN, at several keep values, times in one run:
  (a) the dense backward (cuDNN, through autograd),
  (b) the gathered-cuDNN reference: score, top-k, gather dy and W, cuDNN
      backward on the gathered tensors, scatter into zeroed gradients,
  (c) ssprop's backward (torch.ops.ssprop.conv2d: the generated kernels),
and prints per-layer ratios b/a, c/a, c/b, their geometric means and the
achieved TFLOP/s. CUDA events after warm-up, synchronised, median of repeats.

    tools/bench/ssprop_bench.py --network resnet50 --dtype f32 --csv out.csv
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

from gen_network_ir import NETWORKS, Conv  # noqa: E402  (the example IR's layer lists)


def paper_cnn(width=128, size=28):
    """The ssProp paper's CNN: three 3x3 convolutions of `width` channels."""
    return [Conv("conv1", 1, width, 3, 1, 1, size), Conv("conv2", width, width, 3, 1, 1, size),
            Conv("conv3", width, width, 3, 1, 1, size)]


LAYERS = {"resnet50": NETWORKS["resnet50"], "resnet18": NETWORKS["resnet18"], "cnn": paper_cnn}
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


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


def gathered_cudnn_backward(dy, x, w, conv, keep):
    """The reference ssProp backward built from ATen/cuDNN calls."""
    cout = w.shape[0]
    k = max(int(math.floor(keep * cout)), 1)
    scores = dy.abs().mean(dim=(0, 2, 3))
    idx = torch.topk(scores, k).indices.sort().values
    dy_k, w_k = dy.index_select(1, idx), w.index_select(0, idx)
    gx, gw_k, gb_k = torch.ops.aten.convolution_backward(
        dy_k, x, w_k, [k], [conv.stride] * 2, [conv.padding] * 2, [1, 1], False, [0, 0], 1,
        [True, True, True])
    gw = torch.zeros_like(w).index_copy_(0, idx, gw_k)
    gb = torch.zeros(cout, device=dy.device, dtype=dy.dtype).index_copy_(0, idx, gb_k)
    return gx, gw, gb


def bench_layer(conv, batch, keep, dtype, args):
    device = "cuda"
    x = torch.randn(batch, conv.cin, conv.height, conv.height, device=device, dtype=dtype,
                    requires_grad=True)
    w = torch.randn(conv.cout, conv.cin, conv.kernel, conv.kernel, device=device, dtype=dtype,
                    requires_grad=True)
    b = torch.zeros(conv.cout, device=device, dtype=dtype, requires_grad=True)
    ho = conv.out_height
    dy = torch.randn(batch, conv.cout, ho, ho, device=device, dtype=dtype)
    dense_out = F.conv2d(x, w, b, conv.stride, conv.padding)
    ours_out = torch.ops.ssprop.conv2d(x, w, b, [conv.stride] * 2, [conv.padding] * 2, [1, 1], 1,
                                       keep, "topk", False)
    dense = time_ms(lambda: torch.autograd.grad(dense_out, (x, w, b), dy, retain_graph=True),
                    args.warmup, args.repeats)
    gathered = time_ms(lambda: gathered_cudnn_backward(dy, x.detach(), w.detach(), conv, keep),
                       args.warmup, args.repeats)
    ours = time_ms(lambda: torch.autograd.grad(ours_out, (x, w, b), dy, retain_graph=True),
                   args.warmup, args.repeats)
    k = max(int(math.floor(keep * conv.cout)), 1)
    flops = 2 * 2 * batch * ho * ho * k * conv.cin * conv.kernel ** 2  # dgrad + wgrad
    return dense, gathered, ours, flops


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=sorted(LAYERS), default="resnet50")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--keep", type=float, nargs="+", default=[1.0, 0.8, 0.6, 0.4, 0.2])
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--csv", help="write every measurement here")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("ssprop-bench: no CUDA device (torch.cuda.is_available() is False); "
              "the GPU benchmark needs one", file=sys.stderr)
        return 2
    import ssprop  # noqa: F401  (loads torch.ops.ssprop)
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default for convolutions
    torch.backends.cudnn.benchmark = True
    device = torch.cuda.get_device_name()
    print(f"ssprop-bench on {device}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}, {args.network}, batch {args.batch}, "
          f"{args.dtype}")
    rows = []
    layers = LAYERS[args.network]()
    unique = {(c.cin, c.cout, c.kernel, c.stride, c.padding, c.height): c for c in layers}
    for keep in args.keep:
        ratios = {"b/a": [], "c/a": [], "c/b": []}
        print(f"\nkeep {keep}")
        print(f"{'layer':<28}{'dense ms':>10}{'gathered':>10}{'ssprop':>10}"
              f"{'b/a':>7}{'c/a':>7}{'c/b':>7}{'TFLOP/s':>9}")
        for conv in unique.values():
            a, b, c, flops = bench_layer(conv, args.batch, keep, DTYPES[args.dtype], args)
            ratios["b/a"].append(b / a)
            ratios["c/a"].append(c / a)
            ratios["c/b"].append(c / b)
            name = f"{conv.name} {conv.cin}->{conv.cout} k{conv.kernel}s{conv.stride}"
            print(f"{name:<28}{a:>10.3f}{b:>10.3f}{c:>10.3f}{b / a:>7.2f}{c / a:>7.2f}"
                  f"{c / b:>7.2f}{flops / c / 1e9:>9.1f}")
            rows.append([args.network, conv.name, keep, args.dtype, a, b, c, flops])
        print("geometric means: " + ", ".join(f"{key} {geomean(v):.3f}" for key, v in ratios.items()))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["network", "layer", "keep", "dtype", "dense_ms", "gathered_ms",
                             "ssprop_ms", "useful_flops"])
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
