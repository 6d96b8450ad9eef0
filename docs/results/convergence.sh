#!/usr/bin/env bash
# Table 1 of issue 22: convergence of the paper's CNN (widths 32 and 64) on all
# 60000 Fashion-MNIST training images, tested on all 10000 test images, 30
# epochs, seeds 42-44: dense with stock layers and with zero-initialised conv
# biases (the paper's baseline), the headline schedule (keep 0.2 + interleave),
# linear and cosine 0.8 -> 0.2. Final and best test accuracy, time to reach
# dense's final accuracy minus 0.5 points (epochs, backward FLOPs, seconds of
# the alternating-step time model), curves against epochs, FLOPs and seconds.
# Resumable; JOBS=2 (or --jobs 2) runs two at a time, one thread each;
# --smoke: a tiny version. See docs/results/experiments.py for every flag.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/python-env
source "$root/scripts/python-env"
exec "$(ssprop_python)" "$root/docs/results/experiments.py" convergence "$@"
