#!/usr/bin/env bash
# Table 2 of issue 22, the regularisation claim: 5000 training images (5000
# others held out for validation), 60 epochs, seeds 42-44. The CNN (width 64):
# dense (stock and zero-initialised biases), headline (keep 0.2 + interleave),
# Dropout (the rate select-dropout.sh chose on the validation split) and
# headline + Dropout; ResNet-18 (width 64): dense and headline. Peak and final
# test accuracy, validation accuracy, train-test gap, curves per epoch.
# Resumable; JOBS=2 runs two at a time; --smoke: a tiny version.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/python-env
source "$root/scripts/python-env"
exec "$(ssprop_python)" "$root/docs/results/experiments.py" overfitting "$@"
