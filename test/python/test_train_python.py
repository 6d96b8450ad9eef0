"""examples/train.py: short runs on a tiny Fashion-MNIST subset (loss falls, CSV,
PNG and summary written), the keep schedule in the CSV against the formulas of
SSPROP.md, the FLOP columns against the kept channel counts, flag errors."""

import csv
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import torch  # noqa: E402

from example_cli import (expect_usage_error, load_example, needs_bridge,  # noqa: E402
                         needs_data)
from ssprop_train import checkpoint, data, report  # noqa: E402


train = load_example("train")

TINY = ["--subset", "384", "--test-subset", "200", "--batch-size", "64", "--no-progress",
        "--threads", "1"]


def run(tmp_path, *args):
    out = tmp_path / "run"
    assert train.main([*TINY, "--out", str(out), *args]) == 0
    return out, report.read_csv(out / "metrics.csv")


def ref_keep(mode, keep, mn, total, epoch, it, interleave=False, warmup=0, by="epoch", period=10):
    """SSPROP.md's schedules, written out independently of ssprop.DropScheduler."""
    if epoch < warmup:
        return 1.0
    if by == "epoch":
        if interleave and (epoch - warmup) % 2 == 0:
            return 1.0
        if mode == "constant":
            return keep
        if mode == "linear":
            return max(mn, keep - (keep - mn) * epoch / (total - 1))
        if mode == "cosine":
            return mn + 0.5 * (keep - mn) * (1 + math.cos(math.pi * epoch / (total - 1)))
        return keep if epoch < total // 2 else mn
    if mode == "linear":
        return max(mn, keep - (keep - mn) * (it % period) / period)
    if mode == "cosine":
        return mn + 0.5 * (keep - mn) * (1 + math.cos(math.pi * it / period))
    return keep if it % period < period // 2 else mn


@needs_data
def test_dense_run_loss_falls_and_files_written(tmp_path):
    out, rows = run(tmp_path, "--mode", "dense", "--epochs", "2", "--width", "8", "--lr", "3e-3")
    assert [r["epoch"] for r in rows] == [0, 1]
    assert rows[1]["train_loss"] < rows[0]["train_loss"] < math.log(10) + 0.1
    assert all(r["keep"] == 1.0 for r in rows)
    assert all(r["dense_backward_flops"] == r["actual_backward_flops"] > 0 for r in rows)
    assert 0.0 <= rows[-1]["test_accuracy"] <= 1.0 and rows[-1]["seconds"] > 0
    # --test-subset 200: the accuracy is a multiple of 1/200.
    assert rows[-1]["test_accuracy"] * 200 == pytest.approx(round(rows[-1]["test_accuracy"] * 200))
    with open(out / "metrics.csv") as f:
        assert next(csv.reader(f)) == list(report.EPOCH_FIELDS)
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "dense" in (out / "summary.txt").read_text()


@needs_data
@needs_bridge
def test_ssprop_run_loss_falls_and_flops_drop(tmp_path):
    out, rows = run(tmp_path, "--mode", "ssprop", "--keep", "0.5", "--epochs", "2",
                    "--width", "8", "--lr", "3e-3")
    assert rows[1]["train_loss"] < rows[0]["train_loss"]
    # keep 0.5 of 8 channels in every convolution: exactly half the backward FLOPs.
    for r in rows:
        assert r["keep"] == 0.5
        assert r["actual_backward_flops"] == pytest.approx(0.5 * r["dense_backward_flops"])
    assert (out / "plot.png").is_file()


@needs_data
@needs_bridge
def test_dense_flop_count_matches_the_bridge(tmp_path):
    # The dense baseline counts FLOPs itself (plain torch.nn layers); ssprop at
    # keep 1 is counted by ssprop.stats(): the dense figures must agree.
    _, dense = run(tmp_path / "d", "--mode", "dense", "--epochs", "1", "--width", "6")
    _, ss = run(tmp_path / "s", "--mode", "ssprop", "--keep", "1", "--min-keep", "1",
                "--epochs", "1", "--width", "6")
    assert dense[0]["dense_backward_flops"] == ss[0]["dense_backward_flops"] == ss[0]["actual_backward_flops"]


EPOCH_CASES = [
    # schedule, keep, min, epochs, interleave, warmup
    ("constant", 0.2, 0.2, 4, True, 0),       # the headline: dense, 0.2, dense, 0.2
    ("constant", 0.5, 0.5, 5, True, 1),
    ("linear", 0.8, 0.2, 4, False, 0),
    ("cosine", 0.9, 0.3, 4, False, 1),
    ("bar", 0.7, 0.3, 5, False, 0),
]


@needs_data
@needs_bridge
@pytest.mark.parametrize("schedule,keep,mn,epochs,interleave,warmup", EPOCH_CASES)
def test_keep_per_epoch_matches_formula(tmp_path, schedule, keep, mn, epochs, interleave, warmup):
    args = ["--mode", "ssprop", "--schedule", schedule, "--keep", str(keep), "--min-keep", str(mn),
            "--epochs", str(epochs), "--warmup", str(warmup), "--width", "10",
            "--subset", "64", "--test-subset", "16", "--no-plot"]
    if interleave:
        args.append("--interleave")
    _, rows = run(tmp_path, *args)
    assert len(rows) == epochs
    for e, r in enumerate(rows):
        assert r["keep"] == pytest.approx(ref_keep(schedule, keep, mn, epochs, e, 0, interleave,
                                                   warmup), abs=1e-12), f"epoch {e}"
        # Every convolution has 10 output channels: FLOPs scale with k / 10.
        k = min(max(int(r["keep"] * 10), 1), 10)
        assert r["actual_backward_flops"] == pytest.approx(k / 10 * r["dense_backward_flops"])
    if schedule == "constant" and interleave and warmup == 0 and epochs % 2 == 0:
        assert sum(r["keep"] for r in rows) / epochs == pytest.approx((1 + keep) / 2)


ITER_CASES = [
    # schedule, keep, min, period, warmup
    ("linear", 0.8, 0.2, 3, 0),
    ("cosine", 0.9, 0.1, 4, 0),
    ("bar", 0.6, 0.2, 4, 1),
]


@needs_data
@needs_bridge
@pytest.mark.parametrize("schedule,keep,mn,period,warmup", ITER_CASES)
def test_keep_by_iteration_matches_formula(tmp_path, schedule, keep, mn, period, warmup):
    # 160 images, batches of 32: 5 steps per epoch; the CSV holds each epoch's mean keep.
    _, rows = run(tmp_path, "--mode", "ssprop", "--schedule", schedule, "--by", "iteration",
                  "--keep", str(keep), "--min-keep", str(mn), "--period", str(period),
                  "--warmup", str(warmup), "--epochs", "3", "--width", "4", "--subset", "160",
                  "--test-subset", "16", "--batch-size", "32", "--no-plot")
    steps = 5
    for e, r in enumerate(rows):
        expect = sum(ref_keep(schedule, keep, mn, 3, e, e * steps + s, by="iteration",
                              warmup=warmup, period=period) for s in range(steps)) / steps
        assert r["keep"] == pytest.approx(expect, abs=1e-12), f"epoch {e}"


@needs_data
def test_dropout_is_on_in_training_and_off_at_eval(tmp_path):
    # At a learning rate too small to move a float32 weight, the test accuracy
    # is that of the initial model: equal with and without Dropout when it is off
    # at eval; the training loss differs as Dropout is on in training.
    def final_row(p):
        return run(tmp_path / p, "--mode", "dense", "--dropout", p, "--lr", "1e-30",
                   "--epochs", "1", "--width", "8", "--no-plot")[1][0]

    plain, dropped = final_row("0"), final_row("0.5")
    assert dropped["test_accuracy"] == plain["test_accuracy"]
    assert dropped["train_loss"] != plain["train_loss"]


@needs_data
@needs_bridge
def test_save_checkpoint_loads_as_the_trained_model(tmp_path):
    ckpt = tmp_path / "c.pt"
    _, rows = run(tmp_path, "--mode", "ssprop", "--keep", "0.5", "--epochs", "1", "--width", "6",
                  "--dropout", "0.1", "--no-plot", "--save-checkpoint", str(ckpt))
    model = checkpoint.load_classifier(ckpt)
    assert type(model.convs[0]) is torch.nn.Conv2d  # dense again
    x, y = data.load_split("test", subset=200)
    assert train.evaluate(model, x, y, torch.device("cpu"))[1] == rows[0]["test_accuracy"]


@pytest.mark.parametrize("argv,message", [
    (["--keep", "1.5"], "--keep must be in (0, 1], got 1.5"),
    (["--keep", "0"], "--keep must be in (0, 1], got 0.0"),
    (["--min-keep", "0.5", "--keep", "0.2"], "--min-keep (0.5) must not exceed --keep (0.2)"),
    (["--schedule", "warp"], "invalid choice: 'warp'"),
    (["--by", "iteration"], "--schedule constant has no by-iteration form"),
    (["--by", "iteration", "--schedule", "linear", "--interleave"], "--interleave applies by epoch only"),
    (["--schedule", "cosine", "--epochs", "1"], "needs --epochs >= 2"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--dropout", "1"], "--dropout must be in [0, 1), got 1.0"),
    (["--dropout", "-0.2"], "--dropout must be in [0, 1), got -0.2"),
    (["--subset", "0"], "--subset must be >= 1"),
    (["--model", "vgg"], "invalid choice: 'vgg'"),
    (["--period", "0"], "--period must be >= 1"),
    (["--distributed", "--nproc", "2", "--batch-size", "127"], "must be divisible by the 2 processes"),
    (["--val", "-1"], "--val must be >= 0, got -1"),
    (["--seed", "-5"], "--seed must be in [0, 2^63), got -5"),
    (["--seed", str(2 ** 64)], f"--seed must be in [0, 2^63), got {2 ** 64}"),
    (["--model", "resnet18", "--zero-bias"],
     "--zero-bias: resnet18's convolutions have no bias (batch norm follows them)"),
])
def test_bad_flags(capsys, argv, message):
    expect_usage_error(capsys, train.main, argv, message)


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--mode", "dense", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o"),
                    "--no-progress"])
    assert "Fashion-MNIST not found" in str(exc.value.code)
    assert "dataset-fashion-mnist" in str(exc.value.code)


def test_cli_exit_status_and_help():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "train.py"), "--keep", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "error: --keep must be in (0, 1]" in r.stderr


@needs_data
def test_validation_and_test_columns_are_the_final_models(tmp_path, capsys):
    # The CSV's validation and test loss/accuracy are the saved model's on the
    # held-out images (drawn by the seed, out of all 60000) and the test images.
    ckpt = tmp_path / "c.pt"
    _, rows = run(tmp_path, "--mode", "dense", "--epochs", "1", "--width", "8", "--val", "300",
                  "--no-plot", "--save-checkpoint", str(ckpt))
    train_idx, val_idx = data.train_val_indices(60000, 384, 300, seed=42)
    assert (f"validation: 300 of 60000 training images held out by seed 42 (index sum "
            f"{int(val_idx.sum())}); training on 384") in capsys.readouterr().out
    x, y = data.load_split("train")
    model, cpu = checkpoint.load_classifier(ckpt), torch.device("cpu")
    r = rows[0]
    assert train.evaluate(model, x[val_idx], y[val_idx], cpu) == (r["val_loss"],
                                                                   r["val_accuracy"])
    assert train.evaluate(model, *data.load_split("test", subset=200), cpu) == (
        r["test_loss"], r["test_accuracy"])
    assert 0 <= r["train_accuracy"] <= 1
    assert r["train_accuracy"] * 384 == round(r["train_accuracy"] * 384)
    # summary.json: the final model on its own training images, in eval mode.
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["train_fit_loss"], summary["train_fit_accuracy"]) == train.evaluate(
        model, x[train_idx], y[train_idx], cpu)
    assert summary["steps_per_epoch"] == 6  # 384 images, batches of 64


@needs_data
def test_without_validation_the_val_columns_are_nan(tmp_path):
    _, rows = run(tmp_path, "--mode", "dense", "--epochs", "1", "--width", "4", "--no-plot")
    assert math.isnan(rows[0]["val_loss"]) and math.isnan(rows[0]["val_accuracy"])
    assert math.isfinite(rows[0]["test_loss"])


@needs_data
def test_validation_split_too_large(tmp_path):
    with pytest.raises(SystemExit) as exc:
        run(tmp_path, "--mode", "dense", "--val", "59800", "--subset", "384")
    assert str(exc.value.code) == ("error: --subset/--val: 384 training and 59800 validation "
                                   "images exceed the 60000 training images")


@needs_data
def test_zero_bias_zeroes_only_the_convolution_biases(tmp_path):
    # At a learning rate too small to move the weights, the trained model is the
    # initial one: zero conv biases, every other parameter the stock model's.
    def trained(*flags):
        ckpt = tmp_path / f"{len(flags)}.pt"
        run(tmp_path / str(len(flags)), "--mode", "dense", "--epochs", "1", "--width", "6",
            "--lr", "1e-30", "--no-plot", "--save-checkpoint", str(ckpt), *flags)
        return checkpoint.load_classifier(ckpt).state_dict()

    stock, zero = trained(), trained("--zero-bias")
    for name, p in zero.items():
        if name.startswith("convs.") and name.endswith(".bias"):
            assert p.abs().max() < 1e-20 and stock[name].abs().max() > 1e-3, name
        else:
            assert torch.allclose(p, stock[name], atol=1e-20, rtol=0), name


RESUMABLE = ["--mode", "ssprop", "--keep", "0.5", "--interleave", "--select", "random",
             "--dropout", "0.1", "--epochs", "3", "--width", "8", "--subset", "1024",
             "--test-subset", "200", "--val", "100", "--batch-size", "64", "--threads", "1",
             "--no-progress", "--no-plot"]


def train_cli(out, *args):
    return [sys.executable, str(ROOT / "examples" / "train.py"), *RESUMABLE, "--out", str(out),
            *args]


def csv_without_seconds(out):
    return [{k: v for k, v in r.items() if k != "seconds"}
            for r in report.read_csv(out / "metrics.csv")]


@needs_data
@needs_bridge
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    # Random channel selection and Dropout draw from the global generator: the
    # resumed run matches only if the checkpoint restores it with the weights,
    # the optimizer and the shuffling.
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(train_cli(whole), check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen(train_cli(killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoint.pt").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    # The checkpoint is written before the CSV row: count its epochs.
    done = len(torch.load(killed / "checkpoint.pt", weights_only=True)["rows"])
    assert 1 <= done < 3
    r = subprocess.run(train_cli(killed), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"ssprop: resuming {killed} after epoch {done}/3" in r.stdout
    assert csv_without_seconds(killed) == csv_without_seconds(whole)
    a = torch.load(whole / "checkpoint.pt", weights_only=True)
    b = torch.load(killed / "checkpoint.pt", weights_only=True)
    assert a["complete"] and b["complete"] and a["model"].keys() == b["model"].keys()
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    # Complete: the same command again only says so.
    r = subprocess.run(train_cli(killed), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout == (f"ssprop: complete already in {killed} (3 epochs), "
                                              f"skipped\n")


@needs_data
def test_resume_refuses_other_arguments_and_foreign_files(tmp_path):
    out, _ = run(tmp_path, "--mode", "dense", "--epochs", "1", "--width", "4", "--no-plot")
    with pytest.raises(SystemExit) as exc:
        run(tmp_path, "--mode", "dense", "--epochs", "2", "--width", "4", "--lr", "0.01",
            "--no-plot")
    assert str(exc.value.code) == (
        f"error: {out} holds a run with other arguments (--epochs 1 there, 2 here; --lr 0.001 "
        f"there, 0.01 here): run the same command to continue it, pass another --out, or "
        f"delete {out / 'checkpoint.pt'} to start over")
    # Other threads, label or progress flags are the same run.
    assert run(tmp_path, "--mode", "dense", "--epochs", "1", "--width", "4", "--no-plot",
               "--label", "x", "--threads", "2")[1][0]["epoch"] == 0
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as exc:
        run(tmp_path, "--mode", "dense", "--epochs", "1", "--width", "4", "--no-plot")
    assert str(exc.value.code).startswith(
        f"error: {out / 'checkpoint.pt'}: cannot read the run's checkpoint: ")


def test_unwritable_outputs_are_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    expect_usage_error(capsys, train.main, ["--mode", "dense", "--out", str(blocker / "run")],
                       f"--out: {blocker / 'run'}: cannot write there: Not a directory")
    expect_usage_error(capsys, train.main,
                       ["--mode", "dense", "--out", str(tmp_path / "ok"), "--save-checkpoint",
                        str(blocker / "c.pt")],
                       f"--save-checkpoint: {blocker}: cannot write there: ")
