#!/usr/bin/env bash
# The DDPM experiment of docs/results.md: a small UNet (base width 16, T = 200,
# cosine schedule) on the first 6000 Fashion-MNIST training images for 8 epochs,
# dense vs ssProp with the paper's headline schedule (constant keep 0.2 +
# interleave), seeds 42 and 43; 256 samples per run, measured with a Fréchet
# distance against the first 1000 test images on the penultimate features of
# the project's own CNN classifier (trained first and saved as a checkpoint;
# reused when $out/classifier.pt exists). Writes out/ddpm-experiment/<run>-<seed>/
# and, at the end, the table, loss plot and sample grids of docs/results.md
# (docs/results/ddpm-*).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${OUT:-$root/out/ddpm-experiment}
python=${PYTHON:-python3}
threads=${THREADS:-1}  # one thread: spinning OpenMP workers crawl on a shared machine

if [ ! -f "$out/classifier.pt" ]; then
  "$python" "$root/examples/train.py" --mode dense --model cnn --width 32 --epochs 6 \
    --subset 20000 --test-subset 2000 --lr 3e-3 --seed 42 --threads "$threads" \
    --no-progress --no-plot --label classifier --out "$out/classifier" \
    --save-checkpoint "$out/classifier.pt"
fi

common=(--width 16 --timesteps 200 --subset 6000 --epochs 8 --batch-size 128 --lr 1e-3
        --samples 256 --fid-real 1000 --threads "$threads" --no-progress
        --classifier "$out/classifier.pt")
for seed in 42 43; do
  "$python" "$root/examples/ddpm.py" --mode dense --seed $seed --label dense \
    --out "$out/dense-$seed" "${common[@]}"
  "$python" "$root/examples/ddpm.py" --mode ssprop --schedule constant --keep 0.2 --interleave \
    --seed $seed --label ssprop-0.2-interleave --out "$out/headline-$seed" "${common[@]}"
done

"$python" "$root/examples/ddpm.py" compare --out "$out/compare" \
  --title "DDPM, UNet width 16, 6k images, mean of 2 seeds" \
  "dense=$out/dense-42,$out/dense-43" "ssprop-0.2-interleave=$out/headline-42,$out/headline-43"
cp "$out/compare/compare.md" "$root/docs/results/ddpm-compare.md"
cp "$out/compare/loss.png" "$root/docs/results/ddpm-loss.png"
cp "$out/dense-42/samples.png" "$root/docs/results/ddpm-samples-dense.png"
cp "$out/headline-42/samples.png" "$root/docs/results/ddpm-samples-ssprop.png"
