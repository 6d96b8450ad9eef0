#!/usr/bin/env python3
"""The experiments behind docs/results.md's tables, dense vs ssProp on the CPU,
each run by its script in docs/results/ (which calls this file):

    convergence.sh     the paper's CNN, widths 32 and 64, all 60000 training images,
                       30 epochs, 3 seeds: dense (stock and zero-initialised biases),
                       the headline (keep 0.2 + interleave), linear and cosine 0.8 -> 0.2
    select-dropout.sh  the Dropout rate for the over-fitting regime, on a validation
                       split (dense CNN, 5000 training images, 5000 held out)
    overfitting.sh     5000 training images, 60 epochs, 3 seeds: dense, headline,
                       Dropout, headline + Dropout (CNN), dense and headline (ResNet-18)
    ddpm.sh            the DDPM on all training images but 1000 held out, 40 epochs
                       (ending on a sparse epoch; also sampled after epoch 39, a dense
                       one), 2 seeds, dense vs headline, Fréchet distance on the
                       project's own classifier

Every run is resumable (a killed experiment continues where it stopped when
started again), ``--jobs 2`` runs two at a time with one thread each (their
wall-clock is then unreliable: the tables' seconds come from alternating-step
timing, python/ssprop_train/steptime.py, measured once per model before the
runs), ``--smoke`` runs a tiny version (2 epochs of a few hundred images) to
check the pipeline. The tables (report.md) and curves (PNG) go to
``--report`` (default OUT/report).

    docs/results/convergence.sh [--smoke] [--jobs N] [--out DIR] [--report DIR]
                                [--epochs N] [--seeds 42,43,44] [--only GLOB,...]
                                [--aggregate-only] [--list]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import experiment as ex  # noqa: E402
from ssprop_train import report, steptime  # noqa: E402
from ssprop_train.experiment import Result, Run  # noqa: E402

HEADLINE = ("--mode", "ssprop", "--schedule", "constant", "--keep", "0.2", "--interleave")
DENSE = ("--mode", "dense")
LINEAR = ("--mode", "ssprop", "--schedule", "linear", "--keep", "0.8", "--min-keep", "0.2")
COSINE = ("--mode", "ssprop", "--schedule", "cosine", "--keep", "0.8", "--min-keep", "0.2")
#: The keeps the step-time model measures (linear and cosine pass through all of them).
TIMED_KEEPS = (0.2, 0.35, 0.5, 0.65, 0.8)


@dataclass
class Options:
    smoke: bool
    out: Path
    report: Path
    jobs: int
    threads: int
    seeds: Sequence[int]
    epochs: Optional[int]
    dropout: Optional[float]
    cnn_width: Optional[int] = None
    resnet_width: Optional[int] = None
    val: Optional[int] = None


def seeds(o: Options, full=(42, 43, 44)) -> Sequence[int]:
    return o.seeds or ((42, 43) if o.smoke else full)


def epochs(o: Options, full: int) -> int:
    return o.epochs or (2 if o.smoke else full)


def runs_of(o: Options, trainer: str, prefix: str, configs: Dict[str, Sequence[str]],
            common: Sequence[str], n_epochs: int, seed_list: Sequence[int]) -> List[Run]:
    """Every config at every seed: runs named PREFIX/CONFIG-SEED, grouped by
    PREFIX/CONFIG."""
    return [Run(f"{prefix}/{name}-{seed}", f"{prefix}/{name}", seed, trainer,
                (*args, *common, "--epochs", str(n_epochs)), n_epochs)
            for seed in seed_list for name, args in configs.items()]


def measure_steps(o: Options, model: str, width: int, keeps: Sequence[float],
                  batch: int = 128) -> Path:
    """The alternating-step medians of a model (once: kept in OUT)."""
    path = o.out / f"steptime-{model}{width}.json"
    if not path.is_file():
        print(f"== step time of {model} width {width} (alternating steps, "
              f"{o.threads} thread(s))", flush=True)
        import torch
        torch.set_num_threads(o.threads)
        steps, warmup = (2, 0) if o.smoke else (20, 3)
        t = steptime.measure(model, width, keeps, batch, steps, warmup)
        print(steptime.format_times(t), flush=True)
        t.save(path)
    return path


def provenance(command: str, runs: Sequence[Run], groups: Dict[str, List[Result]]) -> str:
    """Command, machine, versions, seeds, and how the runs were run (from their
    sessions)."""
    import torch
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    sessions = [s for rs in groups.values() for r in rs for s in r.sessions]
    used = lambda key: "/".join(str(v) for v in sorted({s[key] for s in sessions}))  # noqa: E731
    return "\n".join([
        f"- command: `{command}`",
        f"- machine: {cpu}, {os.cpu_count()} cores"
        + (f"; runs at a time: {used('jobs')}, torch threads each: {used('threads')}"
           if sessions else ""),
        f"- software: Python {platform.python_version()}, torch {torch.__version__}, "
        f"ssprop {git}",
        f"- seeds: {', '.join(map(str, sorted({r.seed for r in runs})))}",
    ])


def missing_note(missing: Sequence[Run]) -> str:
    if not missing:
        return ""
    return (f"\n**Incomplete**: {len(missing)} run(s) not finished, left out: "
            f"{', '.join(r.name for r in missing)}.\n")


def table(headers, rows) -> str:
    return report.format_table(headers, rows, markdown=True)


def pct(v: float) -> float:
    return 100 * v


class Experiment:
    """One table: its runs, what to do before them, and its aggregation."""
    name = title = ""

    def runs(self, o: Options) -> List[Run]:
        raise NotImplementedError

    def prepare(self, o: Options) -> None:
        """Before the runs (e.g. measuring step times)."""

    def aggregate(self, o: Options, groups: Dict[str, List[Result]], missing) -> str:
        raise NotImplementedError


# ---------------------------------------------------------------- convergence

class Convergence(Experiment):
    name = "convergence"
    title = "Convergence: the paper's CNN on all of Fashion-MNIST"

    def widths(self, o):
        return (4,) if o.smoke else (32, 64)

    def common(self, o, width):
        data = ("--subset", "256", "--test-subset", "200", "--val", "64") if o.smoke else ()
        return ("--model", "cnn", "--width", str(width), "--batch-size", "128", "--lr", "1e-3",
                "--no-plot", *data)

    def configs(self):
        return {"dense": DENSE, "dense-zero-bias": (*DENSE, "--zero-bias"),
                "headline": HEADLINE, "linear": LINEAR, "cosine": COSINE}

    def runs(self, o):
        return [r for w in self.widths(o)
                for r in runs_of(o, "train", f"cnn{w}", self.configs(), self.common(o, w),
                                 epochs(o, 30), seeds(o))]

    def prepare(self, o):
        for w in self.widths(o):
            measure_steps(o, "cnn", w, TIMED_KEEPS)

    def aggregate(self, o, groups, missing) -> str:
        parts = []
        for w in self.widths(o):
            times = o.out / f"steptime-cnn{w}.json"
            mine = {g.split("/", 1)[1]: rs for g, rs in groups.items() if g.startswith(f"cnn{w}/")}
            if "dense" not in mine:
                parts.append(f"## CNN width {w}\n\n(no complete dense run yet)\n")
                continue
            for rs in mine.values():
                ex.model_seconds(rs, steptime.StepTimes.load(times))
            parts.append(self.width_section(o, w, mine, times))
        return "\n".join(parts)

    def width_section(self, o, width, groups, times) -> str:
        dense = groups["dense"]
        target = report.mean_std([r.rows[-1]["test_accuracy"] for r in dense])[0] - 0.005
        dense_flops = report.mean_std([sum(row["actual_backward_flops"] for row in r.rows)
                                       for r in dense])[0]
        has_val = any(math.isfinite(r.rows[-1]["val_accuracy"]) for rs in groups.values()
                      for r in rs)
        headers = ["run", "seeds", "final test %", "best test %", "Δ final vs dense (paired)"]
        headers += ["final val %"] if has_val else []
        headers += ["mean keep", "bwd FLOP ratio", f"epochs to {100 * target:.2f}%",
                    "bwd FLOPs to it (x dense total)", "seconds to it (step-time model)"]
        rows = []
        for name, rs in groups.items():
            delta = ex.paired_difference(rs, dense, lambda r: r.rows[-1]["test_accuracy"])
            row = [name, len(rs), ex.mean_sd([pct(r.rows[-1]["test_accuracy"]) for r in rs]),
                   ex.mean_sd([pct(ex.peak(r.rows)[0]) for r in rs]),
                   ex.mean_sd(delta, scale=100) if delta else "-"]
            if has_val:
                row.append(ex.mean_sd([pct(r.rows[-1]["val_accuracy"]) for r in rs]))
            row += [f"{report.mean_std([r.summary['mean_keep'] for r in rs])[0]:.3f}",
                    ex.mean_sd([r.summary["flop_ratio"] for r in rs], 3),
                    ex.reach_text(rs, target, "epochs"),
                    ex.reach_text(rs, target, "actual_backward_flops", 3, 1 / dense_flops),
                    ex.reach_text(rs, target, "model_seconds", 0)]
            rows.append(row)
        png = o.report / f"convergence-cnn{width}.png"
        means, sds = ex.curves(groups, "test_accuracy")
        report.plot_runs(means, png, title=f"CNN width {width}: test accuracy, mean of "
                         f"{len(dense)} seeds (band: ± sd)", bands=sds, panels=[
                             ("test_accuracy", "test accuracy", False, "epoch", "epoch"),
                             ("test_accuracy", "test accuracy", False, "actual_backward_flops",
                              "cumulative backward FLOPs", True),
                             ("test_accuracy", "test accuracy", False, "model_seconds",
                              "seconds (step-time model)", True)])
        return (f"## CNN width {width}\n\nTarget: dense's mean final test accuracy minus 0.5 "
                f"points = {100 * target:.2f}%.\n\n{table(headers, rows)}\n\n"
                f"{ex.wall_clock_note(groups, [times.name])}\n\n![curves]({png.name})\n")


# ---------------------------------------------------------------- over-fitting

def overfit_sizes(o):
    """(training images, validation images, test images)."""
    subset, val, test = (256, 128, 200) if o.smoke else (5000, 5000, 10000)
    return subset, o.val or val, test


def overfit_common(o, model, width):
    subset, val, test = overfit_sizes(o)
    return ("--model", model, "--width", str(width), "--batch-size", "128", "--lr", "1e-3",
            "--no-plot", "--subset", str(subset), "--val", str(val), "--test-subset", str(test))


def cnn_width(o):
    return o.cnn_width or (4 if o.smoke else 64)


def resnet_width(o):
    return o.resnet_width or (4 if o.smoke else 64)


class SelectDropout(Experiment):
    name = "select-dropout"
    title = "Dropout rate for the over-fitting regime, chosen on the validation split"
    rates = (0.0, 0.1, 0.2, 0.3, 0.5)

    def runs(self, o):
        configs = {f"dropout-{r:g}": (*DENSE, "--dropout", str(r)) for r in self.rates}
        return runs_of(o, "train", f"cnn{cnn_width(o)}", configs,
                       overfit_common(o, "cnn", cnn_width(o)), epochs(o, 60),
                       seeds(o, (42, 43)))

    def aggregate(self, o, groups, missing) -> str:
        rows, score = [], {}
        for name, rs in groups.items():
            rate = float(name.rsplit("-", 1)[1])
            score[rate] = report.mean_std([r.rows[-1]["val_accuracy"] for r in rs])[0]
            rows.append([f"{rate:g}", len(rs),
                         ex.mean_sd([pct(r.rows[-1]["val_accuracy"]) for r in rs]),
                         ex.mean_sd([pct(ex.peak(r.rows, "val_accuracy")[0]) for r in rs]),
                         ex.mean_sd([pct(r.summary["train_fit_accuracy"]) for r in rs])])
        if not score:
            return "(no complete run yet)\n"
        best = max(score, key=score.get)
        choice = o.out / "choice.json"
        if not missing:
            choice.write_text(json.dumps({"dropout": best, "criterion": "mean final validation "
                                          "accuracy", "val_accuracy": score}, indent=2) + "\n")
        text = table(["Dropout", "seeds", "final val %", "best val %", "train fit % (eval)"], rows)
        subset, val, _ = overfit_sizes(o)
        return (f"Dense CNN width {cnn_width(o)}, {subset} training images, {val} held out for "
                f"validation (drawn by the seed), {epochs(o, 60)} epochs. Test accuracy is not "
                f"looked at.\n\n{text}\n\nChosen: Dropout {best:g} (highest mean final "
                f"validation accuracy)" + (f", written to {choice}" if not missing else
                                           " (not written: runs missing)") + ".\n")


class Overfitting(Experiment):
    name = "overfitting"
    title = "Over-fitting regime: a small training set"

    def dropout(self, o):
        if o.dropout is not None:
            return o.dropout
        choice = o.out.parent / "select-dropout" / "choice.json"
        if o.smoke:
            return 0.2
        if not choice.is_file():
            raise SystemExit(f"error: no Dropout rate: run docs/results/select-dropout.sh "
                             f"first (it writes {choice}), or pass --dropout P")
        return json.loads(choice.read_text())["dropout"]

    def runs(self, o):
        p = str(self.dropout(o))
        cnn = {"dense": DENSE, "dense-zero-bias": (*DENSE, "--zero-bias"), "headline": HEADLINE,
               "dropout": (*DENSE, "--dropout", p), "headline+dropout": (*HEADLINE, "--dropout", p)}
        resnet = {"dense": DENSE, "headline": HEADLINE}
        rw = resnet_width(o)
        return (runs_of(o, "train", f"cnn{cnn_width(o)}", cnn,
                        overfit_common(o, "cnn", cnn_width(o)), epochs(o, 60), seeds(o)) +
                runs_of(o, "train", f"resnet18-{rw}", resnet, overfit_common(o, "resnet18", rw),
                        epochs(o, 60), seeds(o)))

    def aggregate(self, o, groups, missing) -> str:
        parts = [f"Dropout rate: {self.dropout(o):g} (chosen on the validation split by "
                 f"select-dropout.sh). Train fit: the final model's accuracy on its own "
                 f"training images in eval mode (Dropout off); gap = train fit - final test.\n"]
        for prefix in sorted({g.split("/", 1)[0] for g in groups}):
            mine = {g.split("/", 1)[1]: rs for g, rs in groups.items()
                    if g.startswith(prefix + "/")}
            parts.append(self.section(o, prefix, mine))
        return "\n".join(parts)

    def section(self, o, prefix, groups) -> str:
        dense = groups.get("dense", [])
        headers = ["run", "seeds", "peak test % (epoch)", "final test %",
                   "Δ final vs dense (paired)", "peak val %", "final val %",
                   "train fit % (eval)", "gap (points)", "final train loss"]
        rows = []
        for name, rs in groups.items():
            delta = ex.paired_difference(rs, dense, lambda r: r.rows[-1]["test_accuracy"])
            peaks = [ex.peak(r.rows) for r in rs]
            rows.append([
                name, len(rs),
                f"{ex.mean_sd([pct(p[0]) for p in peaks])} "
                f"({'/'.join(str(p[1]) for p in peaks)})",
                ex.mean_sd([pct(r.rows[-1]["test_accuracy"]) for r in rs]),
                ex.mean_sd(delta, scale=100) if delta else "-",
                ex.mean_sd([pct(ex.peak(r.rows, "val_accuracy")[0]) for r in rs]),
                ex.mean_sd([pct(r.rows[-1]["val_accuracy"]) for r in rs]),
                ex.mean_sd([pct(r.summary["train_fit_accuracy"]) for r in rs]),
                ex.mean_sd([pct(r.summary["train_fit_accuracy"] - r.rows[-1]["test_accuracy"])
                            for r in rs]),
                ex.mean_sd([r.rows[-1]["train_loss"] for r in rs], 4)])
        png = o.report / f"overfitting-{prefix}.png"
        means, sds = ex.curves(groups, "test_accuracy")
        report.plot_runs(means, png, bands=sds, title=f"{prefix}: {overfit_sizes(o)[0]} "
                         f"training images, "
                         f"mean over seeds (band: ± sd of test accuracy)", panels=[
                             ("test_accuracy", "test accuracy"), ("val_accuracy", "val accuracy"),
                             ("train_loss", "train loss (running, training mode)")])
        return f"## {prefix}\n\n{table(headers, rows)}\n\n![curves]({png.name})\n"


# ---------------------------------------------------------------- DDPM

class Ddpm(Experiment):
    name = "ddpm"
    title = "Generation: the DDPM trained to convergence on the CPU"

    def settings(self, o):
        if o.smoke:
            return dict(width=4, epochs=epochs(o, 2), data=("--subset", "128", "--val", "32"),
                        extra=("--timesteps", "10", "--samples", "16", "--fid-real", "64"))
        return dict(width=16, epochs=epochs(o, 40), data=("--val", "1000"),
                    extra=("--timesteps", "200", "--samples", "1000", "--fid-real", "10000"))

    def classifier(self, o) -> Run:
        width, n, data = (4, 1, ("--subset", "256", "--test-subset", "200")) if o.smoke else (
            64, 10, ())
        return Run("classifier", "classifier", 42, "train",
                   ("--mode", "dense", "--model", "cnn", "--width", str(width), "--lr", "1e-3",
                    "--epochs", str(n), "--no-plot", *data, "--save-checkpoint",
                    str(o.out / "classifier.pt")), n)

    def runs(self, o):
        s = self.settings(o)
        common = ("--width", str(s["width"]), "--batch-size", "128", "--lr", "1e-3", *s["data"],
                  *s["extra"], "--sample-epochs", str(s["epochs"] - 1), "--classifier",
                  str(o.out / "classifier.pt"))
        return runs_of(o, "ddpm", "unet", {"dense": DENSE, "headline": HEADLINE}, common,
                       s["epochs"], seeds(o, (42, 43)))

    def prepare(self, o):
        """The classifier first: every DDPM run measures its samples with it."""
        if ex.run_all([self.classifier(o)], o.out, 1, o.threads, progress=sys.stderr.isatty()):
            raise SystemExit("error: the feature classifier failed; see "
                             f"{o.out / 'classifier' / 'log.txt'}")
        if not (o.out / "classifier.pt").is_file():
            raise SystemExit(f"error: {o.out / 'classifier.pt'} is missing though its run is "
                             f"complete: delete {o.out / 'classifier'} to train it again")
        measure_steps(o, "unet", self.settings(o)["width"], (0.2,))

    def aggregate(self, o, groups, missing) -> str:
        groups = {g.split("/", 1)[1]: rs for g, rs in groups.items() if g.startswith("unet/")}
        if "dense" not in groups:
            return "(no complete dense run yet)\n"
        times = o.out / f"steptime-unet{self.settings(o)['width']}.json"
        for rs in groups.values():
            ex.model_seconds(rs, steptime.StepTimes.load(times))
        last = self.settings(o)["epochs"]
        fd = lambda e: (lambda r: r.summary["by_epoch"][str(e)]["frechet"])  # noqa: E731
        headers = ["run", "seeds", "final loss", "final val loss", f"Fréchet, epoch {last}",
                   f"Fréchet, epoch {last - 1}", f"Fréchet {last} - {last - 1} (paired)",
                   "Δ Fréchet vs dense (paired)", "last epoch", "bwd FLOP ratio",
                   "seconds (step-time model)"]
        rows = []
        for name, rs in groups.items():
            delta = ex.paired_difference(rs, groups["dense"], fd(last))
            rows.append([
                name, len(rs), ex.mean_sd([r.rows[-1]["loss"] for r in rs], 4),
                ex.mean_sd([r.rows[-1]["val_loss"] for r in rs], 4),
                ex.mean_sd([fd(last)(r) for r in rs]), ex.mean_sd([fd(last - 1)(r) for r in rs]),
                ex.mean_sd([fd(last)(r) - fd(last - 1)(r) for r in rs]),
                ex.mean_sd(delta) if delta else "-",
                "sparse" if rs[0].rows[-1]["keep"] < 1 else "dense",
                ex.mean_sd([r.summary["flop_ratio"] for r in rs], 3),
                ex.mean_sd([sum(row["model_seconds"] for row in r.rows) for r in rs], 0)])
        png = o.report / "ddpm-loss.png"
        means, sds = ex.curves(groups, "loss")
        report.plot_runs(means, png, bands=sds, title="DDPM: mean over seeds (band: ± sd)",
                         panels=[("loss", "train loss (ε MSE)"), ("val_loss", "val loss"),
                                 ("val_loss", "val loss", False, "model_seconds",
                                  "seconds (step-time model)", True)])
        grids = []
        for name, rs in groups.items():
            src = o.out / rs[0].run.name / "samples.png"
            if src.is_file():
                dst = o.report / f"ddpm-samples-{name}.png"
                shutil.copyfile(src, dst)
                grids.append(f"![{name} samples, seed {rs[0].run.seed}]({dst.name})")
        return (f"Fréchet distance of {self.settings(o)['extra'][3]} samples to "
                f"{self.settings(o)['extra'][5]} test images on the penultimate features of "
                f"the project's CNN (classifier.pt; not the Inception FID). The headline "
                f"schedule alternates dense and sparse epochs, starting dense: its distance "
                f"after epoch {last} and after epoch {last - 1}, with dense's as the control, "
                f"tells whether ending on a sparse epoch matters.\n\n{table(headers, rows)}\n\n"
                f"{ex.wall_clock_note(groups, [times.name])}\n\n![loss]({png.name})\n\n"
                + " ".join(grids) + "\n")


EXPERIMENTS = {e.name: e for e in (Convergence(), SelectDropout(), Overfitting(), Ddpm())}


# ---------------------------------------------------------------- command line

def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p.add_argument("--smoke", action="store_true", help="a tiny version (pipeline check)")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", 1)),
                   help="runs at a time ($JOBS; their wall-clock is then unreliable)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 1)),
                   help="torch threads per run ($THREADS)")
    p.add_argument("--out", type=Path, default=None,
                   help="the runs' directory (default out/experiments[-smoke]/EXPERIMENT)")
    p.add_argument("--report", type=Path, default=None,
                   help="where report.md and the PNGs go (default OUT/report)")
    p.add_argument("--epochs", type=int, default=None, help="override the epochs")
    p.add_argument("--seeds", default=None, help="override the seeds, e.g. 42,43")
    p.add_argument("--dropout", type=float, default=None,
                   help="overfitting: the Dropout rate (default: select-dropout's choice)")
    p.add_argument("--cnn-width", type=int, default=None,
                   help="overfitting, select-dropout: the CNN's width (default 64)")
    p.add_argument("--resnet-width", type=int, default=None,
                   help="overfitting: ResNet-18's base width (default 64)")
    p.add_argument("--val", type=int, default=None,
                   help="overfitting, select-dropout: validation images (default 5000; each "
                        "epoch evaluates them and the 10000 test images)")
    p.add_argument("--only", default=None, metavar="GLOB,...",
                   help="only the runs whose group matches one of these patterns, e.g. "
                        "'cnn32/*,cnn64/dense,cnn64/headline' (see --list)")
    p.add_argument("--aggregate-only", action="store_true",
                   help="only aggregate the runs that are complete")
    p.add_argument("--list", action="store_true", help="print the runs' commands and exit")
    a = p.parse_args(argv)
    for name in ("jobs", "threads", "epochs", "cnn_width", "resnet_width", "val"):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    try:
        seed_list = [int(s) for s in a.seeds.split(",")] if a.seeds else []
    except ValueError:
        p.error(f"--seeds: expected integers like 42,43, got {a.seeds!r}")
    out = a.out or ROOT / "out" / ("experiments-smoke" if a.smoke else "experiments") / a.experiment
    return a, Options(a.smoke, out, a.report or out / "report", a.jobs, a.threads, seed_list,
                      a.epochs, a.dropout, a.cnn_width, a.resnet_width, a.val)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    a, o = parse(argv)
    exp = EXPERIMENTS[a.experiment]
    runs = exp.runs(o)
    if a.only:
        patterns = a.only.split(",")
        runs = [r for r in runs if any(fnmatch.fnmatchcase(r.group, p) for p in patterns)]
        if not runs:
            raise SystemExit(f"error: --only {a.only}: no run's group matches (see --list)")
    if a.list:
        for r in runs:
            print(shlex.join(r.command(o.out, o.threads)))
        return 0
    o.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    if not a.aggregate_only:
        exp.prepare(o)
        print(f"== {exp.title}: {len(runs)} runs, {o.jobs} at a time, {o.threads} thread(s) "
              f"each; output in {o.out}", flush=True)
        failed = ex.run_all(runs, o.out, o.jobs, o.threads, progress=sys.stderr.isatty())
    groups, missing = ex.load(runs, o.out)
    o.report.mkdir(parents=True, exist_ok=True)
    command = "docs/results/" + exp.name + ".sh " + shlex.join(argv[1:])
    text = (f"# {exp.title}\n\n{provenance(command.strip(), runs, groups)}\n"
            f"{missing_note(missing)}\n"
            f"{exp.aggregate(o, groups, missing)}")
    path = ex.write(o.report / "report.md", text)
    print(f"\n{text}\nwrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
