#!/usr/bin/env python3
"""Train a classifier on Fashion-MNIST, densely or with ssProp.

    python3 examples/train.py --mode dense  --epochs 2 --subset 6000 --width 32 --out out/dense
    python3 examples/train.py --mode ssprop --keep 0.2 --interleave --epochs 2 --subset 6000 \
        --width 32 --out out/ssprop
    PYTHONPATH=python python3 -m ssprop_train.report summary dense=out/dense/metrics.csv \
        ssprop=out/ssprop/metrics.csv

Writes DIR/metrics.csv (one row per epoch: epoch, keep, train_loss and
train_accuracy (running means over the epoch's batches, in training mode),
val_loss, val_accuracy (with --val N: N training images held out, drawn by the
seed; NaN without), test_loss, test_accuracy, dense_backward_flops,
actual_backward_flops, seconds (the epoch's own training steps)),
DIR/plot.png (test accuracy and cumulative backward FLOPs per epoch),
DIR/summary.txt, DIR/summary.json (with the final model's loss and accuracy on
all its training images, in eval mode) and DIR/args.json, and prints the
summary table. --save-checkpoint PATH also saves the trained model, the feature
network of examples/ddpm.py's Fréchet distance (python/ssprop_train/checkpoint.py).

Resumable: DIR/checkpoint.pt is written after every epoch
(python/ssprop_train/runstate.py); the same command run again continues a
killed run from its last finished epoch (same result as an uninterrupted run),
skips a complete one, and refuses a DIR holding a run of other arguments.
(--distributed runs are not checkpointed: they start over.)

ssProp (--mode ssprop) converts every convolution with ssprop.convert and drives
their keep fraction with ssprop.DropScheduler (the paper's schedules: constant,
linear, cosine, bar; --interleave, --warmup; by epoch or by iteration). The
dense baseline (--mode dense) trains the plain PyTorch model; its backward FLOPs
are counted the way ssprop.stats() counts them.

--distributed trains with DistributedDataParallel over --nproc processes (gloo
on the CPU, NCCL on CUDA; or under torchrun); --batch-size is the global batch,
split evenly over the processes. With --sync-scores (the default) every process
selects the same channels from the channel scores all-reduced over the global
batch, so a step equals the single-process step on the concatenated batch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
from pathlib import Path
from typing import Tuple

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT / "python") not in sys.path:
    sys.path.insert(0, str(_ROOT / "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ssprop_train import data as fmnist  # noqa: E402
from ssprop_train import bridge, checkpoint, cli, models, report, runstate  # noqa: E402
from ssprop_train.progress import Progress, Timer  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Train a CNN / ResNet-18 on Fashion-MNIST, dense or with ssProp.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_ssprop_args(p)
    t = cli.add_training_args(p, epochs=10, lr=1e-3, out="out/train")
    t.add_argument("--model", choices=sorted(models.DEFAULT_WIDTH), default="cnn")
    t.add_argument("--width", type=int, default=None,
                   help="channels of the CNN's convolutions (128) / ResNet-18's first stage (64)")
    t.add_argument("--test-subset", type=int, default=None,
                   help="test on the first N test images (default: the fraction --subset takes "
                        "of the training set)")
    t.add_argument("--save-checkpoint", metavar="PATH", default=None,
                   help="save the trained model (the feature network of examples/ddpm.py "
                        "--classifier)")
    d = p.add_argument_group("multi-process")
    d.add_argument("--distributed", action="store_true",
                   help="DistributedDataParallel over --nproc processes (or under torchrun)")
    d.add_argument("--nproc", type=int, default=2)
    d.add_argument("--sync-scores", dest="sync_scores", action="store_true", default=True,
                   help="all-reduce channel scores so every process keeps the same channels")
    d.add_argument("--no-sync-scores", dest="sync_scores", action="store_false")
    return p


def check_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Every flag error, reported by argparse (usage + message, exit status 2)."""
    cli.check_args(p, a, positive=("subset", "test_subset", "width", "threads"))
    if a.zero_bias and a.model == "resnet18":
        p.error("--zero-bias: resnet18's convolutions have no bias (batch norm follows them)")
    if a.distributed:
        if a.nproc < 1:
            p.error(f"--nproc must be >= 1, got {a.nproc}")
        world = int(os.environ.get("WORLD_SIZE", a.nproc))
        if a.batch_size % world:
            p.error(f"--batch-size {a.batch_size} must be divisible by the {world} processes")
    saved = a.save_checkpoint and str(Path(a.save_checkpoint).resolve().parent)
    cli.check_outputs(p, a, (("--save-checkpoint", saved or None),))


# ---------------------------------------------------------------- training

def evaluate(model, x, y, device, batch=1000) -> Tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model in eval mode on (x, y)."""
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch].to(device))
            yb = y[i:i + batch].to(device)
            loss += F.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
    model.train()
    n = max(1, x.shape[0])
    return loss / n, correct / n


def evaluate_split(model, split, device) -> Tuple[float, float]:
    """evaluate() on a (x, y) pair; NaNs when there is none (no --val)."""
    return evaluate(model, *split, device) if split is not None else (math.nan, math.nan)


def train(a: argparse.Namespace, rank: int = 0, world: int = 1) -> list:
    """One run; returns the per-epoch rows (rank 0 writes the files)."""
    device = torch.device(a.device if a.device == "cpu" else f"cuda:{rank % torch.cuda.device_count()}")
    if a.threads:
        torch.set_num_threads(a.threads)
    lead = rank == 0
    out = Path(a.out)
    label = a.label or a.mode
    # One process resumes; --distributed runs start over (ranks hold their own RNG states).
    run = runstate.RunDir(out, runstate.run_arguments(a)) if world == 1 else None
    saved = cli.load_saved(run) if run is not None else None
    if saved is not None and saved.complete:
        print(f"{label}: complete already in {out} ({saved.epochs} epochs), skipped", flush=True)
        return saved.rows

    (train_x, train_y), val = cli.load_train_val(a, verbose=lead)
    test = cli.load_images(a, "test", a.test_subset or fmnist.matching_test_subset(a.subset))

    torch.manual_seed(a.seed)
    model = models.build_model(a.model, 10, 1, a.width, a.dropout)
    if a.zero_bias:
        models.zero_conv_biases(model)
    model.to(device)

    layers = bridge.ssprop_layer_types()  # the layer kinds ssProp converts
    model, sched = cli.apply_ssprop(model, a, layers)
    flops = cli.FlopMeter(model, sched, layers)

    net = model
    if world > 1:
        if a.mode == "ssprop" and a.sync_scores:
            bridge.require().distributed(model)
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    per_rank = a.batch_size // world
    batches = fmnist.Batches(train_x, train_y, per_rank, shuffle=True, seed=a.seed,
                             rank=rank, world_size=world)
    if len(batches) == 0:
        raise SystemExit(f"error: {train_x.shape[0]} training images make no batch of "
                         f"{a.batch_size}")

    rows, step = [], 0
    if saved is not None:
        saved.restore(model, opt)
        rows, step, batches.epoch = list(saved.rows), saved.step, saved.epochs
        print(f"{label}: resuming {out} after epoch {saved.epochs}/{a.epochs}", flush=True)
    log = report.CsvLog(out / "metrics.csv", rows=rows) if lead else None
    for epoch in range(len(rows), a.epochs):
        cli.start_epoch(sched, epoch)
        keeps = []
        flops.start()
        total_loss = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.float64)
        seen = 0
        timer = Timer(cuda_sync=device.type == "cuda")
        with Progress(len(batches), f"{label} epoch {epoch + 1}/{a.epochs}",
                      enabled=lead and not a.no_progress) as bar:
            for xb, yb in batches:
                keep = cli.keep_before_step(sched, step)
                keeps.append(keep)
                with timer:
                    xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                    opt.zero_grad(set_to_none=True)
                    logits = net(xb)
                    loss = F.cross_entropy(logits, yb)
                    loss.backward()
                    opt.step()
                step += 1
                lv = loss.item()
                hits = (logits.argmax(1) == yb).sum().item()
                total_loss += lv * xb.shape[0]
                correct += hits
                seen += xb.shape[0]
                bar.step(xb.shape[0], loss=lv, acc=hits / xb.shape[0], keep=keep)
        dense, actual = flops.take()
        seconds = timer.seconds
        train_loss, train_acc = total_loss.item() / max(1, seen), correct.item() / max(1, seen)
        if world > 1:
            import torch.distributed as dist
            t = torch.tensor([dense, actual, total_loss.item(), correct.item(), float(seen),
                              seconds], dtype=torch.float64)
            mx = t[5:6].clone()
            dist.all_reduce(t)
            dist.all_reduce(mx, op=dist.ReduceOp.MAX)
            dense, actual = t[0].item(), t[1].item()
            train_loss, train_acc = t[2].item() / t[4].item(), t[3].item() / t[4].item()
            seconds = mx.item()
        nan = (math.nan, math.nan)
        val_loss, val_acc = evaluate_split(model, val, device) if lead else nan
        test_loss, test_acc = evaluate_split(model, test, device) if lead else nan
        row = {"epoch": epoch, "keep": sum(keeps) / len(keeps), "train_loss": train_loss,
               "train_accuracy": train_acc, "val_loss": val_loss, "val_accuracy": val_acc,
               "test_loss": test_loss, "test_accuracy": test_acc,
               "dense_backward_flops": dense, "actual_backward_flops": actual, "seconds": seconds}
        rows.append(row)
        if lead:
            if run is not None:
                run.save(rows, step, model, opt)
            log.write(row)
            val_text = "" if val is None else f"  val acc {100 * val_acc:.2f}%"
            print(f"{label} epoch {epoch + 1}/{a.epochs}: keep {row['keep']:.3f}  "
                  f"loss {train_loss:.4f}{val_text}  test acc {100 * test_acc:.2f}%  "
                  f"bwd FLOPs {actual / 1e9:.2f}G of {dense / 1e9:.2f}G  {seconds:.1f}s",
                  flush=True)
        if world > 1:
            import torch.distributed as dist
            dist.barrier()
    flops.remove()
    if lead:
        log.close()
        if a.save_checkpoint:
            checkpoint.save_classifier(model, a.model, a.width, a.save_checkpoint)
        fit = evaluate(model, train_x, train_y, device)
        finish(a, rows, label, fit, len(batches))
        if run is not None:
            run.save(rows, step, model, None, complete=True)
    return rows


def finish(a, rows, label, fit, steps_per_epoch):
    """The run's summary files; ``fit``: (loss, accuracy) of the final model on
    its training images in eval mode (the train-test gap's train side)."""
    out = Path(a.out)
    table = report.summary_table({label: rows})
    (out / "summary.txt").write_text(table + "\n")
    summary = {"label": label, "mode": a.mode, "seed": a.seed, "steps_per_epoch": steps_per_epoch,
               "train_fit_loss": fit[0], "train_fit_accuracy": fit[1],
               **report.run_summary(rows)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "args.json").write_text(json.dumps(vars(a), indent=2, sort_keys=True) + "\n")
    if not a.no_plot:
        report.plot_runs({label: rows}, out / "plot.png",
                         title=f"Fashion-MNIST {a.model}: {label}")
    print()
    print(table)
    print(f"\nwrote {out / 'metrics.csv'}" + ("" if a.no_plot else f", {out / 'plot.png'}"))


# ---------------------------------------------------------------- processes

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, a: argparse.Namespace) -> None:
    import torch.distributed as dist
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = str(port)
    backend = "nccl" if a.device == "cuda" else "gloo"
    dist.init_process_group(backend, rank=rank, world_size=world)
    try:
        train(a, rank, world)
    finally:
        dist.destroy_process_group()


def main(argv=None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    check_args(p, a)
    if not a.distributed:
        train(a)
        return 0
    if "WORLD_SIZE" in os.environ and "RANK" in os.environ:  # under torchrun
        import torch.distributed as dist
        dist.init_process_group("nccl" if a.device == "cuda" else "gloo")
        try:
            train(a, dist.get_rank(), dist.get_world_size())
        finally:
            dist.destroy_process_group()
        return 0
    if a.threads is None:
        a.threads = max(1, (os.cpu_count() or 1) // a.nproc)
    import torch.multiprocessing as mp
    mp.spawn(_worker, args=(a.nproc, _free_port(), a), nprocs=a.nproc, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
