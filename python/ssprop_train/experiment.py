"""Experiments of many training runs (the scripts of ``docs/results/``): run them
and aggregate their tables and curves.

:func:`run_all` runs every :class:`Run` of an experiment with the trainers
(``examples/train.py``, ``examples/ddpm.py``), ``jobs`` at a time with
``threads`` torch threads each, under one progress bar over all their epochs,
and prints one summary line per finished run. The trainers resume a killed run
from its last finished epoch and skip a complete one, so re-running an
experiment continues it. Each run's output goes to ``OUT/<run name>/`` (the
trainer's files, ``log.txt``, and ``sessions.jsonl``: one line per session of
the runner with its parallelism and the machine's load average, so that the
report can say which wall-clock figures are unreliable).

The aggregation reads the complete runs back (:func:`load`), adds the
step-time model's seconds per epoch (:func:`model_seconds`: training seconds of
runs that shared the machine measure the load, not ssProp), and formats the
tables: mean ± standard deviation over seeds, differences to the dense baseline
paired by seed, time to reach a target accuracy, train-test gap.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ssprop_train import report
from ssprop_train.steptime import StepTimes

ROOT = Path(__file__).resolve().parents[2]
TRAINERS = {"train": ROOT / "examples" / "train.py", "ddpm": ROOT / "examples" / "ddpm.py"}
SESSIONS = "sessions.jsonl"


@dataclass(frozen=True)
class Run:
    """One training run: ``group`` names the runs that differ only in ``seed``
    (a row of a table); ``args`` are the trainer's flags without --seed, --out,
    --threads, --label and --no-progress, which the runner adds."""
    name: str
    group: str
    seed: int
    trainer: str
    args: Tuple[str, ...]
    epochs: int

    def command(self, out: Path, threads: int, python: str = sys.executable) -> List[str]:
        return [python, str(TRAINERS[self.trainer]), *self.args, "--seed", str(self.seed),
                "--out", str(out / self.name), "--threads", str(threads), "--label", self.name,
                "--no-progress"]


# ---------------------------------------------------------------- running

def finished_epochs(run_dir: Path) -> int:
    """Rows in the run's CSV (0 when there is none)."""
    try:
        with open(run_dir / "metrics.csv") as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0


def is_complete(run_dir: Path) -> bool:
    return (run_dir / "summary.json").is_file() and (run_dir / "checkpoint.pt").is_file() and \
        _checkpoint_complete(run_dir)


def _checkpoint_complete(run_dir: Path) -> bool:
    import torch
    try:
        return bool(torch.load(run_dir / "checkpoint.pt", map_location="cpu",
                               weights_only=True)["complete"])
    except Exception:  # a partial or foreign file: the trainer will say what is wrong
        return False


@dataclass
class _Active:
    run: Run
    proc: subprocess.Popen
    log: object
    session: Dict[str, object]
    shown: int = 0


def run_all(runs: Sequence[Run], out, jobs: int = 1, threads: int = 1,
            python: str = sys.executable, describe: Optional[Callable[[Path], str]] = None,
            progress: bool = True, poll: float = 1.0) -> int:
    """Runs every run not complete yet, ``jobs`` at a time; returns the number
    that failed (their log's last lines are printed)."""
    from tqdm import tqdm

    out = Path(out)
    describe = describe or describe_run
    total = sum(r.epochs for r in runs)
    pending = list(runs)
    active: List[_Active] = []
    failed = 0
    with tqdm(total=total, desc=f"{len(runs)} runs", unit="epoch", disable=not progress,
              file=sys.stderr, dynamic_ncols=True) as bar:
        def say(line: str) -> None:
            bar.write(line, file=sys.stdout)
            sys.stdout.flush()

        try:
            while pending or active:
                while pending and len(active) < jobs:
                    run = pending.pop(0)
                    if is_complete(out / run.name):
                        bar.update(run.epochs)
                        say(f"{run.name}: complete already ({describe(out / run.name)})")
                        continue
                    active.append(_start(run, out, jobs, threads, python))
                    active[-1].shown = finished_epochs(out / run.name)
                    bar.update(active[-1].shown)
                time.sleep(poll if active else 0)
                for a in list(active):
                    done = finished_epochs(out / a.run.name)
                    bar.update(done - a.shown)
                    a.shown = done
                    if a.proc.poll() is None:
                        continue
                    active.remove(a)
                    _finish(a, out)
                    if a.proc.returncode == 0:
                        bar.update(a.run.epochs - a.shown)
                        say(f"{a.run.name}: {describe(out / a.run.name)}")
                    else:
                        failed += 1
                        log = out / a.run.name / "log.txt"
                        say(f"{a.run.name}: FAILED (exit {a.proc.returncode}); the end of "
                            f"{log}:\n{_tail(log)}")
        except BaseException:
            for a in active:  # the runs started here; they resume next time
                a.proc.terminate()
                a.proc.wait()
                _finish(a, out)
            raise
    return failed


def _start(run: Run, out: Path, jobs: int, threads: int, python: str) -> _Active:
    run_dir = out / run.name
    run_dir.mkdir(parents=True, exist_ok=True)
    session = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "jobs": jobs, "threads": threads, "epochs_before": finished_epochs(run_dir),
               "load_average_start": os.getloadavg()[0]}
    log = open(run_dir / "log.txt", "a")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.Popen(run.command(out, threads, python), stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    return _Active(run, proc, log, session)


def _finish(a: _Active, out: Path) -> None:
    a.log.close()
    a.session.update(epochs_after=finished_epochs(out / a.run.name),
                     load_average_end=os.getloadavg()[0], exit=a.proc.returncode)
    with open(out / a.run.name / SESSIONS, "a") as f:
        f.write(json.dumps(a.session) + "\n")


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


def describe_run(run_dir: Path) -> str:
    """A run's one-line summary from its files."""
    rows = report.read_csv(run_dir / "metrics.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    parts = [f"{len(rows)} epochs"]
    if "test_accuracy" in rows[-1]:
        best = max(range(len(rows)), key=lambda e: rows[e]["test_accuracy"])
        parts.append(f"test acc final {100 * rows[-1]['test_accuracy']:.2f}% best "
                     f"{100 * rows[best]['test_accuracy']:.2f}% (epoch {best + 1})")
        if _finite(rows[-1]["val_accuracy"]):
            parts.append(f"val acc {100 * rows[-1]['val_accuracy']:.2f}%")
    else:
        parts.append(f"loss {rows[-1]['loss']:.4f}")
        if _finite(rows[-1]["val_loss"]):
            parts.append(f"val loss {rows[-1]['val_loss']:.4f}")
        if "frechet" in summary:
            parts.append(f"Fréchet {summary['frechet']:.2f}")
    parts.append(f"bwd FLOP ratio {summary['flop_ratio']:.3f}")
    parts.append(f"train {summary['seconds']:.0f} s")
    return ", ".join(parts)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


# ---------------------------------------------------------------- results

@dataclass
class Result:
    """A complete run read back: its CSV rows, summary.json and sessions."""
    run: Run
    rows: List[Dict[str, float]]
    summary: Dict[str, object]
    sessions: List[Dict[str, object]] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        """Whether any session ran it beside other runs of the runner."""
        return any(s.get("jobs", 1) > 1 for s in self.sessions)


def load(runs: Sequence[Run], out) -> Tuple[Dict[str, List[Result]], List[Run]]:
    """The complete runs by group (in the order of ``runs``), and the runs that
    are not complete."""
    out = Path(out)
    groups: Dict[str, List[Result]] = {}
    missing = []
    for run in runs:
        d = out / run.name
        if not is_complete(d):
            missing.append(run)
            continue
        sessions = []
        if (d / SESSIONS).is_file():
            sessions = [json.loads(line) for line in (d / SESSIONS).read_text().splitlines()
                        if line.strip()]
        groups.setdefault(run.group, []).append(Result(
            run, report.read_csv(d / "metrics.csv"), json.loads((d / "summary.json").read_text()),
            sessions))
    return groups, missing


def model_seconds(results: Sequence[Result], times: StepTimes) -> None:
    """Adds ``model_seconds`` to every row: the epoch's steps at the median step
    time the alternating-step measurement gives for its keep (the plain model's
    for a dense run)."""
    for r in results:
        steps = int(r.summary["steps_per_epoch"])
        ssprop = r.summary["mode"] == "ssprop"
        for row in r.rows:
            row["model_seconds"] = times.epoch_seconds(float(row["keep"]), steps, ssprop)


def mean_sd(values: Sequence[float], digits: int = 2, scale: float = 1.0) -> str:
    """``mean ± sd`` (sample standard deviation; ``± 0`` for one value)."""
    m, sd = report.mean_std([scale * v for v in values])
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def paired_difference(results: Sequence[Result], baseline: Sequence[Result],
                      value: Callable[[Result], float]) -> Optional[List[float]]:
    """``value(run) - value(baseline run of the same seed)`` per seed; None
    when a seed has no baseline run."""
    base = {b.run.seed: value(b) for b in baseline}
    if any(r.run.seed not in base for r in results):
        return None
    return [value(r) - base[r.run.seed] for r in results]


def reach(rows: Sequence[Mapping[str, float]], target: float, column: str = "test_accuracy",
          costs: Sequence[str] = ("actual_backward_flops", "model_seconds")
          ) -> Optional[Dict[str, float]]:
    """The first epoch at which ``column`` reaches ``target``: ``{"epochs": n,
    cost: cumulated cost through it}``; None when it never does."""
    totals = {c: 0.0 for c in costs}
    for e, row in enumerate(rows):
        for c in costs:
            totals[c] += float(row.get(c, math.nan))
        if float(row[column]) >= target:
            return {"epochs": e + 1, **totals}
    return None


def reach_text(results: Sequence[Result], target: float, key: str, digits: int = 1,
               scale: float = 1.0) -> str:
    """Mean ± sd of ``key`` of :func:`reach` over the runs that reach the
    target; "never" when none does, "(k of n)" when some do not."""
    hits = [reach(r.rows, target) for r in results]
    got = [h[key] for h in hits if h is not None]
    if not got:
        return "never"
    text = mean_sd(got, digits, scale)
    return text if len(got) == len(hits) else f"{text} ({len(got)} of {len(hits)})"


def peak(rows: Sequence[Mapping[str, float]], column: str = "test_accuracy") -> Tuple[float, int]:
    """(the highest value of ``column``, its 1-based epoch)."""
    e = max(range(len(rows)), key=lambda i: rows[i][column])
    return float(rows[e][column]), e + 1


def curves(groups: Mapping[str, Sequence[Result]], column: str):
    """report.mean_curves over the runs' rows: per-epoch means and the
    standard deviation of ``column``."""
    return report.mean_curves({g: [r.rows for r in rs] for g, rs in groups.items()}, col=column)


def wall_clock_note(groups: Mapping[str, Sequence[Result]], times_files: Sequence[str]) -> str:
    """What the seconds of the tables and curves are, and whether the runs'
    own training seconds can be trusted."""
    results = [r for rs in groups.values() for r in rs]
    shared = sum(r.shared for r in results)
    loads = [s[k] for r in results for s in r.sessions
             for k in ("load_average_start", "load_average_end") if k in s]
    load_text = f"; load average {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    note = (f"Seconds are epochs times the median step time of alternating steps "
            f"({', '.join(times_files)}), not the runs' own wall-clock. ")
    if shared:
        note += (f"{shared} of {len(results)} runs ran beside other runs of the experiment"
                 f"{load_text}: their own training seconds (metrics.csv) are unreliable.")
    else:
        note += (f"Every run had the runner to itself{load_text} (other processes may still "
                 f"have shared the machine).")
    return note


def write(path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
