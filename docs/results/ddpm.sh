#!/usr/bin/env bash
# Table 3 of issue 22: the DDPM (UNet width 16, T = 200) trained towards
# convergence on the CPU: all training images but 1000 held out for a
# validation loss, 40 epochs, seeds 42 and 43, dense vs headline (keep 0.2 +
# interleave). 1000 samples per run measured with a Fréchet distance to the 10000
# test images on the penultimate features of the project's CNN (width 64,
# trained first, 10 epochs); sampled after epoch 40 (sparse for the headline)
# and 39 (dense), to tell whether ending on a sparse epoch matters.
# Resumable; JOBS=2 runs two at a time; --smoke: a tiny version.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/python-env
source "$root/scripts/python-env"
exec "$(ssprop_python)" "$root/docs/results/experiments.py" ddpm "$@"
