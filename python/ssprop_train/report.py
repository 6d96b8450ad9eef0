"""Per-epoch CSV logs, PNG plots and summary tables of training runs.

Generic on purpose (a classifier and a DDPM trainer both use it): a run is a
label and a list of rows (dicts); the plotting and summary functions take the
column to plot or summarise. The C++ trainer writes the same CSV, so a CSV file
is the interchange format; ``python -m ssprop_train.report`` plots and
summarises CSV files from the command line::

    python -m ssprop_train.report plot out/plot.png dense=out/dense.csv ssprop=out/ssprop.csv
    python -m ssprop_train.report summary dense=out/dense.csv ssprop=out/ssprop.csv
    python -m ssprop_train.report aggregate --plot out/mean.png dense=out/d1.csv,out/d2.csv ...
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence

#: The classifier trainers' columns, in file order (both trainers write these):
#: train_* are running means over the epoch's batches (training mode); val_* are
#: NaN without a validation split; seconds are the epoch's own training steps.
EPOCH_FIELDS = ("epoch", "keep", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                "test_loss", "test_accuracy", "dense_backward_flops", "actual_backward_flops",
                "seconds")

Row = Dict[str, float]


class CsvLog:
    """Appends one row per call to a CSV file, flushed at once (a run that dies
    keeps its finished epochs). ``rows``: those of a resumed run, written first."""

    def __init__(self, path, fields: Sequence[str] = EPOCH_FIELDS, rows: Iterable[Row] = ()):
        self.path = Path(path)
        self.fields = list(fields)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "w", newline="")
        self._w = csv.DictWriter(self._f, fieldnames=self.fields)
        self._w.writeheader()
        self._f.flush()
        self.rows: List[Row] = []
        for row in rows:
            self.write(row)

    def write(self, row: Mapping[str, object]) -> None:
        missing = [k for k in self.fields if k not in row]
        if missing:
            raise KeyError(f"{self.path}: row lacks {missing}")
        self._w.writerow({k: row[k] for k in self.fields})
        self._f.flush()
        self.rows.append({k: row[k] for k in self.fields})

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_csv(path) -> List[Row]:
    """Rows of a CSV log, numbers converted to float (int where integral columns
    such as ``epoch`` hold integers)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such CSV file")
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append({k: _num(v) for k, v in r.items()})
    return rows


def _num(v: str):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def cumulative(values: Iterable[float]) -> List[float]:
    out, s = [], 0.0
    for v in values:
        s += float(v)
        out.append(s)
    return out


# ---------------------------------------------------------------- plots

class Panel(NamedTuple):
    """One panel of :func:`plot_runs`: column ``y`` (cumulated over the epochs
    when ``y_cumulative``) against column ``x`` (the plot's ``x`` when None)."""
    y: str
    y_label: str
    y_cumulative: bool = False
    x: Optional[str] = None
    x_label: Optional[str] = None
    x_cumulative: bool = False


def plot_runs(runs: Mapping[str, Sequence[Row]], path, x: str = "epoch",
              panels: Sequence[tuple] = (("test_accuracy", "test accuracy", False),
                                         ("actual_backward_flops", "cumulative backward FLOPs",
                                          True)),
              title: Optional[str] = None, bands: Optional[Mapping[str, Sequence[float]]] = None
              ) -> Path:
    """One PNG with a panel per :class:`Panel` (or tuple of its fields) of
    ``panels``, one line per run. ``bands`` (optional, per run) draws ± a
    standard deviation around the lines of the panels of the first panel's
    column."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [Panel(*p) for p in panels]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        xcol = panel.x or x
        for name, rows in runs.items():
            rows = [r for r in rows if panel.y in r and xcol in r]
            if not rows:
                continue
            xs = [float(r[xcol]) for r in rows]
            ys = [float(r[panel.y]) for r in rows]
            xs = cumulative(xs) if panel.x_cumulative else xs
            ys = cumulative(ys) if panel.y_cumulative else ys
            (line,) = ax.plot(xs, ys, marker="o", markersize=3, label=name)
            if bands and name in bands and panel.y == panels[0].y:
                sd = bands[name]
                ax.fill_between(xs, [y - s for y, s in zip(ys, sd)],
                                [y + s for y, s in zip(ys, sd)], alpha=0.2,
                                color=line.get_color())
        ax.set_xlabel(panel.x_label or xcol)
        ax.set_ylabel(panel.y_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- tables

def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                 markdown: bool = False) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if markdown:
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
                 "| " + " | ".join("-" * w for w in widths) + " |"]
        lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
                  for r in cells[1:]]
        return "\n".join(lines)
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells[1:]]
    return "\n".join(lines)


def _cell(c) -> str:
    if isinstance(c, float):
        return f"{c:.4g}" if abs(c) < 1e4 else f"{c:.3e}"
    return str(c)


def run_summary(rows: Sequence[Row]) -> Dict[str, float]:
    """Totals of one run: final/best accuracy and loss (for a classifier's rows),
    FLOPs, seconds, mean keep."""
    if not rows:
        raise ValueError("a run with no epochs")
    dense = sum(float(r["dense_backward_flops"]) for r in rows)
    actual = sum(float(r["actual_backward_flops"]) for r in rows)
    accuracy = {}
    if "test_accuracy" in rows[-1]:
        accuracy = {"final_accuracy": float(rows[-1]["test_accuracy"]),
                    "best_accuracy": max(float(r["test_accuracy"]) for r in rows),
                    "final_loss": float(rows[-1]["train_loss"])}
    return {
        "epochs": len(rows),
        **accuracy,
        "mean_keep": statistics.fmean(float(r["keep"]) for r in rows),
        "dense_backward_flops": dense,
        "actual_backward_flops": actual,
        "flop_ratio": actual / dense if dense > 0 else float("nan"),
        "seconds": sum(float(r["seconds"]) for r in rows),
    }


def summary_table(runs: Mapping[str, Sequence[Row]], baseline: Optional[str] = None,
                  markdown: bool = False, timing: bool = True) -> str:
    """One line per run: accuracy, mean keep, backward GFLOPs and their ratio to
    the dense backward, and (``timing``) training seconds and their ratio to
    ``baseline`` (the first run when not given). Runs that did not have the
    machine to themselves make that ratio meaningless: ``timing=False`` leaves
    it out."""
    sums = {name: run_summary(rows) for name, rows in runs.items()}
    if not sums:
        return "(no runs)"
    base = baseline if baseline in sums else next(iter(sums))
    headers = ["run", "epochs", "final acc %", "best acc %", "mean keep", "bwd GFLOP",
               "bwd FLOP ratio"]
    if timing:
        headers += ["train s", f"time vs {base}"]
    rows = []
    for name, s in sums.items():
        t0 = sums[base]["seconds"]
        row = [name, s["epochs"], f"{100 * s['final_accuracy']:.2f}",
               f"{100 * s['best_accuracy']:.2f}", f"{s['mean_keep']:.3f}",
               f"{s['actual_backward_flops'] / 1e9:.2f}", f"{s['flop_ratio']:.3f}"]
        if timing:
            row += [f"{s['seconds']:.1f}", f"{s['seconds'] / t0:.3f}" if t0 > 0 else "-"]
        rows.append(row)
    return format_table(headers, rows, markdown)


def mean_std(values: Sequence[float]):
    values = [float(v) for v in values]
    m = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, sd


def aggregate(groups: Mapping[str, Sequence[Sequence[Row]]], baseline: Optional[str] = None,
              markdown: bool = False) -> str:
    """A table over repeated runs (seeds): mean ± std of the final and best test
    accuracy, the backward FLOP ratio, and the wall-clock ratio to ``baseline``
    (ratio of mean training seconds)."""
    if not groups:
        return "(no runs)"
    base = baseline if baseline in groups else next(iter(groups))
    base_secs = mean_std([run_summary(r)["seconds"] for r in groups[base]])[0]
    headers = ["run", "seeds", "final acc % (mean ± std)", "best acc % (mean ± std)",
               "mean keep", "bwd FLOP ratio", "train s (mean)", f"wall-clock vs {base}"]
    rows = []
    for name, runs in groups.items():
        sums = [run_summary(r) for r in runs]
        fa = mean_std([100 * s["final_accuracy"] for s in sums])
        ba = mean_std([100 * s["best_accuracy"] for s in sums])
        fr = mean_std([s["flop_ratio"] for s in sums])
        secs = mean_std([s["seconds"] for s in sums])
        rows.append([name, len(sums), f"{fa[0]:.2f} ± {fa[1]:.2f}", f"{ba[0]:.2f} ± {ba[1]:.2f}",
                     f"{mean_std([s['mean_keep'] for s in sums])[0]:.3f}", f"{fr[0]:.3f}",
                     f"{secs[0]:.1f} ± {secs[1]:.1f}",
                     f"{secs[0] / base_secs:.3f}" if base_secs > 0 else "-"])
    return format_table(headers, rows, markdown)


def mean_curves(groups: Mapping[str, Sequence[Sequence[Row]]], col: str = "test_accuracy"):
    """Per group: rows whose columns are the per-epoch means over the runs, and
    the per-epoch standard deviation of ``col`` (for plot bands)."""
    means, sds = {}, {}
    for name, runs in groups.items():
        n = min(len(r) for r in runs)
        rows, sd = [], []
        for e in range(n):
            row = {}
            for k in runs[0][e]:
                vals = [r[e][k] for r in runs]
                if all(isinstance(v, (int, float)) for v in vals):
                    row[k] = statistics.fmean(vals)
            rows.append(row)
            sd.append(mean_std([r[e][col] for r in runs])[1])
        means[name], sds[name] = rows, sd
    return means, sds


# ---------------------------------------------------------------- command line

def _parse_runs(specs: Sequence[str]) -> Dict[str, List[str]]:
    runs: Dict[str, List[str]] = {}
    for spec in specs:
        if "=" in spec:
            name, paths = spec.split("=", 1)
        else:
            name, paths = Path(spec).stem, spec
        runs.setdefault(name, []).extend(p for p in paths.split(",") if p)
    return runs


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ssprop_train.report",
                                description="Plot and summarise per-epoch CSV logs.")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("plot", help="accuracy and cumulative backward FLOPs per epoch")
    pp.add_argument("png")
    pp.add_argument("runs", nargs="+", help="NAME=FILE.csv (or FILE.csv: named by its stem)")
    pp.add_argument("--title")
    ps = sub.add_parser("summary", help="the summary table of single runs")
    ps.add_argument("runs", nargs="+", help="NAME=FILE.csv")
    ps.add_argument("--markdown", action="store_true")
    ps.add_argument("--no-time", action="store_true",
                    help="leave out the training seconds (runs that shared the machine)")
    pa = sub.add_parser("aggregate", help="mean ± std over repeated runs (seeds)")
    pa.add_argument("runs", nargs="+", help="NAME=A.csv,B.csv,C.csv (one group per NAME)")
    pa.add_argument("--markdown", action="store_true")
    pa.add_argument("--plot", help="also plot the per-epoch means (± std band) to this PNG")
    pa.add_argument("--title")
    a = p.parse_args(argv)
    try:
        files = _parse_runs(a.runs)
        if a.cmd in ("plot", "summary"):
            runs = {}
            for name, paths in files.items():
                if len(paths) != 1:
                    p.error(f"{name}: one CSV per run (use 'aggregate' for several)")
                runs[name] = read_csv(paths[0])
            if a.cmd == "plot":
                print(plot_runs(runs, a.png, title=a.title))
            else:
                print(summary_table(runs, markdown=a.markdown, timing=not a.no_time))
        else:
            groups = {name: [read_csv(f) for f in paths] for name, paths in files.items()}
            print(aggregate(groups, markdown=a.markdown))
            if a.plot:
                means, sds = mean_curves(groups)
                plot_runs(means, a.plot, title=a.title, bands=sds)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
