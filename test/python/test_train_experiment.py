"""The experiment scripts (docs/results/experiments.py over
python/ssprop_train/experiment.py): the table arithmetic on made-up runs with
known answers (time to target, paired differences, peaks, train-test gap,
Fréchet at the last two epochs), the runner (parallel runs, a summary line per
run, failures reported, complete runs skipped), the runs each script defines,
and one smoke run of a whole experiment."""

import importlib.util
import json
import re
import sys

import pytest
import torch

from example_cli import ROOT, needs_data  # noqa: E402
from ssprop_train import experiment as ex  # noqa: E402
from ssprop_train import report  # noqa: E402
from ssprop_train.steptime import StepTimes  # noqa: E402

_spec = importlib.util.spec_from_file_location("ssprop_experiments",
                                               ROOT / "docs" / "results" / "experiments.py")
experiments = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = experiments  # dataclasses look their module up
_spec.loader.exec_module(experiments)


def rows(accs, keeps=None, flops=10.0, **more):
    keeps = keeps or [1.0] * len(accs)
    return [{"epoch": e, "keep": k, "train_loss": 1.0 / (e + 1), "train_accuracy": 0.9,
             "val_loss": 0.5, "val_accuracy": a - 0.01, "test_loss": 0.6, "test_accuracy": a,
             "dense_backward_flops": flops, "actual_backward_flops": flops * k, "seconds": 1.0,
             **{c: v[e] for c, v in more.items()}}
            for e, (a, k) in enumerate(zip(accs, keeps))]


def result(group, seed, rs, **summary):
    return ex.Result(ex.Run(f"{group}-{seed}", group, seed, "train", (), len(rs)), rs, summary)


def test_reach_counts_epochs_and_cumulated_costs():
    rs = rows([0.5, 0.7, 0.8], model_seconds=[1.0, 2.0, 4.0])
    assert ex.reach(rs, 0.7) == {"epochs": 2, "actual_backward_flops": 20.0, "model_seconds": 3.0}
    assert ex.reach(rs, 0.81) is None
    results = [result("a", 1, rs), result("a", 2, rows([0.5, 0.6, 0.75], model_seconds=[1] * 3))]
    assert ex.reach_text(results, 0.7, "epochs") == "2.5 ± 0.7"
    assert ex.reach_text(results, 0.78, "epochs") == "3.0 ± 0.0 (1 of 2)"
    assert ex.reach_text(results, 0.9, "epochs") == "never"


def test_paired_difference_matches_seeds():
    base = [result("d", 1, rows([0.5])), result("d", 2, rows([0.7]))]
    other = [result("s", 2, rows([0.6])), result("s", 1, rows([0.55]))]
    final = lambda r: r.rows[-1]["test_accuracy"]  # noqa: E731
    assert ex.paired_difference(other, base, final) == pytest.approx([-0.1, 0.05])
    assert ex.paired_difference([result("s", 3, rows([0.6]))], base, final) is None


def test_peak_and_model_seconds():
    rs = rows([0.5, 0.8, 0.7], keeps=[1.0, 0.2, 0.5])
    assert ex.peak(rs) == (0.8, 2)
    times = StepTimes("cnn", 8, 128, 1, 10, 90.0, 1.0, step={1.0: 100.0, 0.2: 60.0}, backward={})
    ex.model_seconds([result("a", 1, rs, steps_per_epoch=10, mode="ssprop")], times)
    assert [r["model_seconds"] for r in rs] == pytest.approx([1.0, 0.6, 0.75])
    ex.model_seconds([result("a", 1, rs, steps_per_epoch=10, mode="dense")], times)
    assert [r["model_seconds"] for r in rs] == pytest.approx([0.9] * 3)  # the plain model


def fabricate(out, name, rs, **summary):
    """A complete run's files, as the trainers leave them."""
    d = out / name
    d.mkdir(parents=True)
    with report.CsvLog(d / "metrics.csv", fields=list(rs[0])) as log:
        for r in rs:
            log.write(r)
    (d / "summary.json").write_text(json.dumps({**report.run_summary(rs), **summary}))
    torch.save({"complete": True}, d / "checkpoint.pt")
    session = {"jobs": 2, "threads": 1, "load_average_start": 1.5, "load_average_end": 2.5}
    (d / ex.SESSIONS).write_text(json.dumps(session) + "\n")


def table_rows(text, title):
    """The cells of the markdown table after ``title``, by run name."""
    lines = text.split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| run"))
    body = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        body.append([c.strip() for c in line.strip("|").split("|")])
    return {cells[0]: cells for cells in body}


def test_overfitting_table_from_known_runs(tmp_path, capsys):
    # Two seeds; dense peaks at epoch 2 then falls; the headline does not fall.
    accs = {("dense", 42): [0.6, 0.8, 0.7], ("dense", 43): [0.6, 0.7, 0.6],
            ("headline", 42): [0.6, 0.7, 0.75], ("headline", 43): [0.5, 0.7, 0.7]}
    for (name, seed), a in accs.items():
        fabricate(tmp_path, f"cnn64/{name}-{seed}", rows(a), train_fit_accuracy=0.95,
                  steps_per_epoch=40)
    assert experiments.main(["overfitting", "--aggregate-only", "--out", str(tmp_path),
                              "--dropout", "0.3", "--epochs", "3"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "Dropout rate: 0.3" in text and "**Incomplete**: 17 run(s)" in text
    assert "cores; runs at a time: 2, torch threads each: 1\n" in text
    assert "- seeds: 42, 43, 44\n" in text  # of the experiment's runs
    t = table_rows(text, "## cnn64")
    # run, seeds, peak (epochs), final, Δ vs dense, peak val, final val, fit, gap, loss
    assert t["dense"][1:] == ["2", "75.00 ± 7.07 (2/2)", "65.00 ± 7.07", "0.00 ± 0.00",
                              "74.00 ± 7.07", "64.00 ± 7.07", "95.00 ± 0.00", "30.00 ± 7.07",
                              "0.3333 ± 0.0000"]
    assert t["headline"][1:5] == ["2", "72.50 ± 3.54 (3/2)", "72.50 ± 3.54", "7.50 ± 3.54"]
    assert t["headline"][8] == "22.50 ± 3.54"
    assert (tmp_path / "report" / "overfitting-cnn64.png").read_bytes()[:4] == b"\x89PNG"


def test_ddpm_table_says_how_the_last_two_epochs_compare(tmp_path):
    def ddpm_rows(keeps, loss):
        return [{"epoch": e, "keep": k, "loss": loss, "val_loss": loss + 0.01,
                 "dense_backward_flops": 10.0, "actual_backward_flops": 10.0 * k, "seconds": 1.0}
                for e, k in enumerate(keeps)]

    for seed, (fd_dense, fd_sparse) in ((42, (20.0, 30.0)), (43, (24.0, 26.0))):
        fabricate(tmp_path, f"unet/dense-{seed}", ddpm_rows([1, 1, 1, 1], 0.1), mode="dense",
                  steps_per_epoch=3, by_epoch={"3": {"frechet": fd_dense + 1},
                                               "4": {"frechet": fd_dense}})
        fabricate(tmp_path, f"unet/headline-{seed}", ddpm_rows([1, 0.2, 1, 0.2], 0.12),
                  mode="ssprop", steps_per_epoch=3, by_epoch={"3": {"frechet": fd_sparse - 4},
                                               "4": {"frechet": fd_sparse}})
    StepTimes("unet", 16, 128, 1, 8, 1000.0, 1.0, step={1.0: 1100.0, 0.2: 500.0},
              backward={1.0: 1.0, 0.2: 1.0}).save(tmp_path / "steptime-unet16.json")
    assert experiments.main(["ddpm", "--aggregate-only", "--out", str(tmp_path),
                             "--epochs", "4"]) == 0
    t = table_rows((tmp_path / "report" / "report.md").read_text(), "not the Inception FID")
    # final loss, val loss, Fréchet @4, @3, 4 - 3, Δ vs dense, last epoch, FLOPs, seconds
    assert t["dense"][2:] == ["0.1000 ± 0.0000", "0.1100 ± 0.0000", "22.00 ± 2.83",
                              "23.00 ± 2.83", "-1.00 ± 0.00", "0.00 ± 0.00", "dense",
                              "1.000 ± 0.000", "12 ± 0"]
    assert t["headline"][4:10] == ["28.00 ± 2.83", "24.00 ± 2.83", "4.00 ± 0.00",
                                   "6.00 ± 5.66", "sparse", "0.600 ± 0.000"]
    assert t["headline"][10] == "10 ± 0"  # 2 epochs at keep 1 of 3.3 s, 2 at 0.2 of 1.5 s


@needs_data
def test_runner_runs_in_parallel_reports_and_skips(tmp_path, capsys):
    tiny = ("--mode", "dense", "--width", "4", "--subset", "128", "--test-subset", "50",
            "--no-plot")
    runs = [ex.Run("a", "g", 42, "train", tiny + ("--epochs", "1"), 1),
            ex.Run("b", "g", 43, "train", tiny + ("--epochs", "1"), 1),
            ex.Run("bad", "g", 42, "train", tiny + ("--epochs", "1", "--keep", "2"), 1)]
    assert ex.run_all(runs, tmp_path, jobs=2, progress=False, poll=0.1) == 1
    out = capsys.readouterr().out
    assert re.search(r"^a: 1 epochs, test acc final [0-9.]+% best [0-9.]+% \(epoch 1\), "
                     r"bwd FLOP ratio 1\.000, train \d+ s$", out, re.M)
    assert re.search(r"^bad: FAILED \(exit 2\); the end of .*bad/log\.txt:\n.*"
                     r"--keep must be in \(0, 1\], got 2\.0$", out, re.M | re.S)
    session = json.loads((tmp_path / "a" / ex.SESSIONS).read_text())
    assert session["jobs"] == 2 and session["epochs_after"] == 1 and session["exit"] == 0
    groups, missing = ex.load(runs, tmp_path)
    assert [r.run.name for r in groups["g"]] == ["a", "b"] and missing == [runs[2]]
    assert groups["g"][0].shared
    assert ex.run_all(runs[:2], tmp_path, jobs=2, progress=False, poll=0.1) == 0
    assert capsys.readouterr().out.startswith("a: complete already (1 epochs, ")


def test_the_scripts_runs(capsys):
    def listed(*argv):
        assert experiments.main([*argv, "--list"]) == 0
        return capsys.readouterr().out.splitlines()

    conv = listed("convergence")
    assert len(conv) == 2 * 5 * 3
    assert sum("--width 64" in c and "--zero-bias" in c for c in conv) == 3
    assert not any("--subset" in c for c in conv)  # all 60000 training images
    over = listed("overfitting", "--dropout", "0.3")
    assert sum("--model resnet18" in c for c in over) == 2 * 3
    assert all("--subset 5000 --val 5000 --test-subset 10000" in c and "--epochs 60" in c
               for c in over)
    assert sum("--dropout 0.3" in c for c in over) == 2 * 3
    ddpm = listed("ddpm")
    assert len(ddpm) == 4 and all("--sample-epochs 39" in c and "--epochs 40" in c for c in ddpm)
    assert len(listed("select-dropout")) == 5 * 2
    # Cut down: some groups only; other widths.
    assert len(listed("convergence", "--only", "cnn32/*,cnn64/headline")) == 15 + 3
    small = listed("overfitting", "--dropout", "0.3", "--cnn-width", "32", "--resnet-width", "16",
                   "--val", "2000")
    assert all("--subset 5000 --val 2000 --test-subset 10000" in c for c in small)
    assert sum("--out" in c and "/resnet18-16/" in c and "--width 16" in c for c in small) == 6
    assert sum("/cnn32/" in c and "--width 32" in c for c in small) == 15
    with pytest.raises(SystemExit) as exc:
        experiments.main(["convergence", "--only", "cnn8/*", "--list"])
    assert exc.value.code == "error: --only cnn8/*: no run's group matches (see --list)"


def test_overfitting_needs_a_dropout_rate(tmp_path):
    with pytest.raises(SystemExit) as exc:
        experiments.main(["overfitting", "--out", str(tmp_path / "overfitting"), "--list"])
    assert exc.value.code == (
        f"error: no Dropout rate: run docs/results/select-dropout.sh first (it writes "
        f"{tmp_path / 'select-dropout' / 'choice.json'}), or pass --dropout P")

