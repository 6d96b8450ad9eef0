#!/usr/bin/env python3
"""Train a DDPM on Fashion-MNIST, densely or with ssProp convolutions, sample it,
and measure the samples with a Fréchet distance.

    python3 examples/train.py --mode dense --width 32 --epochs 6 --subset 20000 \\
        --save-checkpoint out/classifier.pt                     # the feature network
    python3 examples/ddpm.py --mode dense --subset 2000 --epochs 4 --out out/ddpm-dense \\
        --classifier out/classifier.pt
    python3 examples/ddpm.py --mode ssprop --keep 0.2 --interleave --subset 2000 --epochs 4 \\
        --out out/ddpm-ssprop --classifier out/classifier.pt
    python3 examples/ddpm.py compare --out out/ddpm-compare dense=out/ddpm-dense \\
        ssprop=out/ddpm-ssprop

A small UNet (python/ssprop_train/unet.py) learns to predict the noise of the
cosine-schedule forward process (T = --timesteps steps, python/ssprop_train/
diffusion.py); --mode ssprop converts every one of its convolutions with
ssprop.convert and drives their keep with ssprop.DropScheduler, with the same
flags as examples/train.py. After training, --samples images are drawn by
ancestral sampling.

Writes DIR/metrics.csv (one row per epoch: epoch, keep, loss, val_loss (with
--val N: the loss on N held-out training images at fixed steps and noise; NaN
without), dense_backward_flops, actual_backward_flops, seconds), DIR/loss.png,
DIR/samples.png (a grid of the first 64 samples), DIR/samples.pt, DIR/model.pt
(the UNet's state_dict), DIR/summary.json and DIR/args.json. With
--classifier, DIR/summary.json holds the Fréchet distance between --samples
generated images and the first --fid-real test images on the classifier's
penultimate features (not the Inception FID: see python/ssprop_train/frechet.py).
--sample-epochs E1,E2 also samples (and measures) the model as it is at the end
of those epochs (DIR/samples-epochE.pt; summary.json's "by_epoch"), e.g. to see
whether ending on a sparse or a dense epoch matters.

Resumable as examples/train.py: DIR/checkpoint.pt after every epoch; the same
command continues a killed run, skips a complete one, and refuses a DIR holding
a run of other arguments.

``compare NAME=DIR[,DIR...] ...`` tabulates runs (mean ± std over the DIRs of a
NAME, e.g. seeds) and plots their loss curves into one PNG.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT / "python") not in sys.path:
    sys.path.insert(0, str(_ROOT / "python"))

import torch  # noqa: E402

from ssprop_train import checkpoint, cli, frechet, models, report, runstate  # noqa: E402
from ssprop_train import data as fmnist  # noqa: E402
from ssprop_train.diffusion import Diffusion  # noqa: E402
from ssprop_train.progress import Progress, Timer  # noqa: E402
from ssprop_train.unet import UNet  # noqa: E402

FIELDS = ("epoch", "keep", "loss", "val_loss", "dense_backward_flops", "actual_backward_flops",
          "seconds")
LOSS_PANELS = (("loss", "train loss (ε MSE)", False),
               ("actual_backward_flops", "cumulative backward FLOPs", True))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Train a DDPM (small UNet) on Fashion-MNIST, dense or with ssProp; "
                    "`compare` tabulates and plots finished runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_ssprop_args(p)
    t = cli.add_training_args(p, epochs=4, lr=1e-3, out="out/ddpm")
    t.add_argument("--width", type=int, default=32,
                   help="the UNet's base width (levels of width x 1, 2, 2 channels)")
    t.add_argument("--timesteps", type=int, default=200, help="T: diffusion steps")
    s = p.add_argument_group("sampling")
    s.add_argument("--samples", type=int, default=64, help="images to generate")
    s.add_argument("--sample-batch", type=int, default=256, help="images per sampling batch")
    s.add_argument("--classifier", metavar="PATH", default=None,
                   help="a checkpoint of examples/train.py --save-checkpoint: report the "
                        "Fréchet distance of the samples on its penultimate features")
    s.add_argument("--fid-real", type=int, default=1000,
                   help="test images the samples are compared with")
    s.add_argument("--sample-epochs", type=_epoch_list, default=(), metavar="E1,E2",
                   help="also sample after these epochs (1-based, before the last)")
    return p


def _epoch_list(text: str):
    try:
        return tuple(sorted({int(e) for e in text.split(",") if e}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 3,4, got {text!r}")


def check_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    cli.check_args(p, a, positive=("subset", "threads", "width", "timesteps", "samples",
                                   "sample_batch", "fid_real"))
    if a.classifier:
        if a.samples < 2 or a.fid_real < 2:
            p.error("--classifier needs --samples >= 2 and --fid-real >= 2 (a covariance)")
        try:
            a.classifier_model = checkpoint.load_classifier(a.classifier)
        except ValueError as e:
            p.error(f"--classifier: {e}")
    late = [e for e in a.sample_epochs if not 1 <= e < a.epochs]
    if late:
        p.error(f"--sample-epochs: {late[0]} is not an epoch before the last (1..{a.epochs - 1}); "
                f"the last is always sampled")
    cli.check_outputs(p, a)


# ---------------------------------------------------------------- training

def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] pixels to the DDPM's [-1, 1]."""
    return x * 2 - 1


def train(a: argparse.Namespace):
    """One run: trains, samples, measures; returns (model, rows, samples) (model
    and samples None when the run was complete already)."""
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    label = a.label or a.mode
    out = Path(a.out)
    run = runstate.RunDir(out, runstate.run_arguments(a))
    saved = cli.load_saved(run)
    if saved is not None and saved.complete:
        print(f"{label}: complete already in {out} ({saved.epochs} epochs), skipped", flush=True)
        return None, saved.rows, None
    (images, _), val = cli.load_train_val(a, normalize=False)
    images = to_unit_range(images)

    torch.manual_seed(a.seed)
    unet = UNet(a.width, dropout=a.dropout)
    if a.zero_bias:
        models.zero_conv_biases(unet)
    model, sched = cli.apply_ssprop(unet, a)
    model.to(device)
    diffusion = Diffusion(a.timesteps, device)
    flops = cli.FlopMeter(model, sched)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    batches = fmnist.Batches(images, torch.zeros(len(images)), a.batch_size, seed=a.seed)

    rows, step, sampled = [], 0, {}
    if saved is not None:
        saved.restore(model, opt)
        rows, step, batches.epoch = list(saved.rows), saved.step, saved.epochs
        sampled = dict(saved.extra["sampled"])
        print(f"{label}: resuming {out} after epoch {saved.epochs}/{a.epochs}", flush=True)
    log = report.CsvLog(out / "metrics.csv", FIELDS, rows=rows)
    for epoch in range(len(rows), a.epochs):
        cli.start_epoch(sched, epoch)
        flops.start()
        timer = Timer(cuda_sync=device.type == "cuda")
        keeps, loss_sum = [], 0.0
        with Progress(len(batches), f"{label} epoch {epoch + 1}/{a.epochs}",
                      enabled=not a.no_progress) as bar:
            for x0, _ in batches:
                keeps.append(cli.keep_before_step(sched, step))
                with timer:
                    opt.zero_grad(set_to_none=True)
                    loss = diffusion.loss(model, x0.to(device))
                    loss.backward()
                    opt.step()
                step += 1
                loss_sum += loss.item() * x0.shape[0]
                bar.step(x0.shape[0], loss=loss.item(), keep=keeps[-1])
        dense, actual = flops.take()
        row = {"epoch": epoch, "keep": sum(keeps) / len(keeps), "loss": loss_sum / len(images),
               "val_loss": validation_loss(model, diffusion, val, a.seed, device),
               "dense_backward_flops": dense, "actual_backward_flops": actual,
               "seconds": timer.seconds}
        rows.append(row)
        if epoch + 1 in a.sample_epochs:
            samples, measured = sample_and_measure(a, model, diffusion, device)
            torch.save(samples, out / f"samples-epoch{epoch + 1}.pt")
            sampled[str(epoch + 1)] = measured
        run.save(rows, step, model, opt, extra={"sampled": sampled})
        log.write(row)
        val_text = "" if val is None else f"  val loss {row['val_loss']:.4f}"
        print(f"{label} epoch {epoch + 1}/{a.epochs}: keep {row['keep']:.3f}  loss "
              f"{row['loss']:.4f}{val_text}  bwd FLOPs {actual / 1e9:.2f}G of {dense / 1e9:.2f}G  "
              f"{timer.seconds:.1f}s", flush=True)
    log.close()
    flops.remove()

    samples, measured = sample_and_measure(a, model, diffusion, device)
    sampled[str(a.epochs)] = measured
    finish(a, label, model, rows, samples, sampled, len(batches))
    run.save(rows, step, model, None, extra={"sampled": sampled}, complete=True)
    return model, rows, samples


def validation_loss(model, diffusion, val, seed, device, batch=500) -> float:
    """The ε-MSE on the held-out images at steps and noise drawn by ``seed``
    (the same every epoch), in eval mode; NaN without --val."""
    if val is None:
        return math.nan
    images = to_unit_range(val[0])
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, diffusion.timesteps, (len(images),), generator=g)
    noise = torch.randn(images.shape, generator=g)
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            sl = slice(i, i + batch)
            total += diffusion.loss(model, images[sl].to(device), t[sl].to(device),
                                    noise[sl].to(device)).item() * len(images[sl])
    model.train()
    return total / len(images)


def sample_and_measure(a, model, diffusion, device):
    """--samples images from the model as it is (a generator of their own, so
    training's random numbers are untouched), and what they measure:
    ``{"sample_seconds", "frechet"?}``."""
    timer = Timer(cuda_sync=device.type == "cuda")
    with timer:
        samples = diffusion.sample(model, a.samples, device=device,
                                   generator=torch.Generator().manual_seed(a.seed),
                                   progress=not a.no_progress, batch=a.sample_batch).cpu()
    measured = {"sample_seconds": timer.seconds}
    if a.classifier:
        real = to_unit_range(cli.load_images(a, "test", a.fid_real, normalize=False)[0])
        measured["frechet"] = frechet.image_distance(a.classifier_model, real, samples)
        measured["frechet_real"], measured["frechet_samples"] = len(real), len(samples)
    return samples, measured


def finish(a, label, model, rows, samples, sampled, steps_per_epoch) -> None:
    out = Path(a.out)
    torch.save(samples, out / "samples.pt")
    torch.save(model.state_dict(), out / "model.pt")
    last = sampled[str(a.epochs)]
    summary = {"label": label, "mode": a.mode, "seed": a.seed, "steps_per_epoch": steps_per_epoch,
               "final_loss": rows[-1]["loss"], "final_val_loss": rows[-1]["val_loss"],
               **last, **report.run_summary(rows)}
    if len(sampled) > 1:
        summary["by_epoch"] = sampled
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "args.json").write_text(json.dumps(
        {k: v for k, v in vars(a).items() if k != "classifier_model"}, indent=2,
        sort_keys=True) + "\n")
    if not a.no_plot:
        save_grid(samples[:64], out / "samples.png")
        report.plot_runs({label: rows}, out / "loss.png", panels=LOSS_PANELS,
                         title=f"DDPM on Fashion-MNIST: {label}")
    print(json.dumps(summary, indent=2))


def save_grid(images: torch.Tensor, path, columns: int = 8) -> Path:
    """A PNG of images [N, 1, H, W] in [-1, 1], ``columns`` a row, 2-pixel gaps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, _, h, w = images.shape
    rows = (n + columns - 1) // columns
    grid = torch.ones(rows * (h + 2) + 2, columns * (w + 2) + 2)
    for i, img in enumerate((images[:, 0] + 1) / 2):
        r, c = divmod(i, columns)
        grid[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w] = img
    path = Path(path)
    plt.imsave(path, grid.clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
    return path


# ---------------------------------------------------------------- compare

def compare(argv) -> int:
    p = argparse.ArgumentParser(prog="ddpm.py compare",
                                description="Mean ± std over runs and their loss curves.")
    p.add_argument("runs", nargs="+", help="NAME=DIR[,DIR...]: one group per NAME (e.g. seeds)")
    p.add_argument("--out", required=True, help="writes compare.md and loss.png here")
    p.add_argument("--title", default="DDPM on Fashion-MNIST")
    a = p.parse_args(argv)
    groups = {}
    for spec in a.runs:
        name, sep, dirs = spec.partition("=")
        if not sep or not dirs:
            p.error(f"expected NAME=DIR[,DIR...], got {spec!r}")
        groups[name] = [Path(d) for d in dirs.split(",") if d]
    try:
        curves = {n: [report.read_csv(d / "metrics.csv") for d in ds] for n, ds in groups.items()}
        sums = {n: [json.loads((d / "summary.json").read_text()) for d in ds]
                for n, ds in groups.items()}
    except (OSError, ValueError) as e:
        p.error(str(e))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    table = compare_table(sums)
    (out / "compare.md").write_text(table + "\n")
    means, sds = report.mean_curves(curves, col="loss")
    report.plot_runs(means, out / "loss.png", panels=LOSS_PANELS, title=a.title, bands=sds)
    print(table)
    return 0


def compare_table(sums) -> str:
    """Markdown: per group, mean ± std of the final loss, the Fréchet distance and
    the training seconds; the FLOP ratio; wall-clock ratio to the first group."""
    def ms(vals, fmt="{:.4f}"):
        m, sd = report.mean_std(vals)
        return f"{fmt.format(m)} ± {fmt.format(sd)}"

    base = report.mean_std([s["seconds"] for s in next(iter(sums.values()))])[0]
    rows = []
    for name, runs in sums.items():
        fd = [s["frechet"] for s in runs if "frechet" in s]
        secs = [s["seconds"] for s in runs]
        rows.append([name, len(runs), ms([s["final_loss"] for s in runs]),
                     ms(fd, "{:.2f}") if len(fd) == len(runs) else "-",
                     f"{report.mean_std([s['mean_keep'] for s in runs])[0]:.3f}",
                     f"{report.mean_std([s['flop_ratio'] for s in runs])[0]:.3f}",
                     ms(secs, "{:.1f}"), f"{report.mean_std(secs)[0] / base:.3f}"])
    return report.format_table(["run", "seeds", "final loss", "Fréchet distance", "mean keep",
                                "bwd FLOP ratio", "train s", "wall-clock vs first"],
                               rows, markdown=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["compare"]:
        return compare(argv[1:])
    p = build_parser()
    a = p.parse_args(argv)
    check_args(p, a)
    train(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
