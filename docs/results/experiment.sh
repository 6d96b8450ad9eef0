#!/usr/bin/env bash
# The CPU experiment of docs/results.md: dense vs ssProp (constant keep 0.2 +
# interleave, the paper's headline) vs ssProp (linear keep 0.8 -> 0.2), the
# paper's 3-layer CNN at width 32 on the first 8000 Fashion-MNIST training
# images (first 4000 test images), 10 epochs, Adam 1e-3, batch 128, seeds
# 42, 43, 44. Runs interleaved by seed so that load on the machine spreads over
# the three settings. Writes out/experiment/<run>-<seed>/ and, at the end, the
# tables and plot of docs/results.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${OUT:-$root/out/experiment}
python=${PYTHON:-python3}
common=(--model cnn --width 32 --epochs 10 --subset 8000 --test-subset 4000 --no-progress --no-plot)

for seed in 42 43 44; do
  "$python" "$root/examples/train.py" --mode dense --seed $seed --label dense \
    --out "$out/dense-$seed" "${common[@]}"
  "$python" "$root/examples/train.py" --mode ssprop --schedule constant --keep 0.2 --interleave \
    --seed $seed --label "ssprop-0.2-interleave" --out "$out/headline-$seed" "${common[@]}"
  "$python" "$root/examples/train.py" --mode ssprop --schedule linear --keep 0.8 --min-keep 0.2 \
    --seed $seed --label "ssprop-linear-0.8-0.2" --out "$out/linear-$seed" "${common[@]}"
done

csvs() { local p=$1; echo "$out/$p-42/metrics.csv,$out/$p-43/metrics.csv,$out/$p-44/metrics.csv"; }
PYTHONPATH="$root/python" "$python" -m ssprop_train.report aggregate --markdown \
  --plot "$root/docs/results/fashion-mnist-cnn32.png" \
  --title "Fashion-MNIST, CNN width 32, 8k images, mean of 3 seeds" \
  "dense=$(csvs dense)" "ssprop-0.2-interleave=$(csvs headline)" \
  "ssprop-linear-0.8-0.2=$(csvs linear)" | tee "$out/aggregate.md"
