#!/usr/bin/env python3
"""Sums the GEMM work in lowered ssprop IR (the output of --ssprop-lower-to-gemm).

    gemm_flops.py SPARSE.mlir DENSE.mlir

prints the GEMM FLOPs (2 * batch * m * n * k) of every ssprop.dgrad and
ssprop.wgrad in each file, and the ratio sparse / dense. These are the sizes as
lowered: a strided dgrad's implicit GEMM also counts the zero taps that a
strided-dgrad kernel skips.
"""
import re
import sys

GEMM = re.compile(r"ssprop\.(dgrad|wgrad)\b.*?gemm = <([^>]*)>")
FIELD = re.compile(r"(\w+) = (\d+)")


def gemm_flops(text):
    """FLOPs per op kind, and the number of ops of each kind."""
    flops, counts = {"dgrad": 0, "wgrad": 0}, {"dgrad": 0, "wgrad": 0}
    for kind, fields in GEMM.findall(text):
        size = {name: int(value) for name, value in FIELD.findall(fields)}
        flops[kind] += 2 * size.get("batch", 1) * size["m"] * size["n"] * size["k"]
        counts[kind] += 1
    return flops, counts


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    (sparse, sparse_n), (dense, _) = (gemm_flops(open(path).read()) for path in argv)
    print("GEMM GFLOP = 2 * batch * m * n * k of each gemm attribute")
    print(f"{'gradient':<10}{'GEMMs':>7}{'dense GFLOP':>14}{'ssprop GFLOP':>14}{'ratio':>8}")
    for kind in ("dgrad", "wgrad"):
        print(f"{kind:<10}{sparse_n[kind]:>7}{dense[kind] / 1e9:>14.1f}"
              f"{sparse[kind] / 1e9:>14.1f}{sparse[kind] / dense[kind]:>8.3f}")
    total_sparse, total_dense = sum(sparse.values()), sum(dense.values())
    print(f"{'total':<10}{'':>7}{total_dense / 1e9:>14.1f}{total_sparse / 1e9:>14.1f}"
          f"{total_sparse / total_dense:>8.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
