#!/usr/bin/env bash
# The Dropout rate of the over-fitting experiment, chosen on a validation split
# (not the test set): the dense CNN (width 64) on 5000 training images with 5000
# others held out (drawn by the seed), 60 epochs, rates 0, 0.1, 0.2, 0.3, 0.5,
# seeds 42 and 43; the rate of the highest mean final validation accuracy is
# written to OUT/choice.json, which overfitting.sh reads. Resumable; JOBS=2
# runs two at a time; --smoke: a tiny version.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/python-env
source "$root/scripts/python-env"
exec "$(ssprop_python)" "$root/docs/results/experiments.py" select-dropout "$@"
