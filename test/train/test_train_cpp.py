"""The C++ trainer (tools/ssprop-train): short runs on a tiny Fashion-MNIST subset
(loss falls, CSV and summary written, keep and FLOP columns right), flag and data
errors. The binary comes from $SSPROP_TRAIN_BIN (set by CTest), else
build/bin/ssprop-train; without it every test is skipped, saying why."""

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import data, report  # noqa: E402

BIN = Path(os.environ.get("SSPROP_TRAIN_BIN") or ROOT / "build" / "bin" / "ssprop-train")

if not BIN.is_file() or not os.access(BIN, os.X_OK):
    reason = (f"no ssprop-train binary at {BIN} (build it with `cmake --build build --target "
              f"ssprop-train`, or set SSPROP_TRAIN_BIN)")
    print(f"SKIP: {reason}", file=sys.stderr)
    pytest.skip(reason, allow_module_level=True)

try:
    data.find_root()
    HAVE_DATA = True
except data.DatasetNotFoundError:
    HAVE_DATA = False
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="Fashion-MNIST is not installed "
                                "(Debian package dataset-fashion-mnist)")

TINY = ["--subset", "384", "--test-subset", "200", "--batch-size", "64", "--threads", "1",
        "--no-progress"]


def run(*args, check=True):
    r = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cpp") / "dense"
    r = run("--mode", "dense", "--epochs", "2", "--width", "8", "--lr", "3e-3", "--out", str(out),
            *TINY)
    return out, r, report.read_csv(out / "metrics.csv")


@needs_data
def test_dense_run_loss_falls_and_files_written(dense_run):
    out, r, rows = dense_run
    assert [row["epoch"] for row in rows] == [0, 1]
    assert rows[1]["train_loss"] < rows[0]["train_loss"] < math.log(10) + 0.1
    assert all(row["keep"] == 1 for row in rows)
    # The dense baseline counts its FLOPs itself, as ssprop.stats() would:
    # conv1 (1 -> 8 channels) dW only; conv2, conv3 (8 -> 8) dW and dx.
    per_image = 2 * 28 * 28 * 9 * 8 * (1 + 2 * 8 * 2)
    assert all(row["dense_backward_flops"] == row["actual_backward_flops"] == 384 * per_image
               for row in rows)
    assert rows[-1]["test_accuracy"] * 200 == pytest.approx(round(rows[-1]["test_accuracy"] * 200))
    with open(out / "metrics.csv") as f:
        assert next(csv.reader(f)) == list(report.EPOCH_FIELDS)
    assert "bwd FLOP ratio" in r.stdout and (out / "summary.txt").is_file()
    assert "no PNG" in r.stdout and not (out / "plot.png").exists()


@needs_data
def test_ssprop_headline_schedule_and_plot(tmp_path, dense_run):
    out = tmp_path / "ssprop"
    run("--mode", "ssprop", "--schedule", "constant", "--keep", "0.5", "--interleave",
        "--epochs", "3", "--width", "8", "--lr", "3e-3", "--out", str(out), "--plot", *TINY)
    rows = report.read_csv(out / "metrics.csv")
    assert [row["keep"] for row in rows] == [1, 0.5, 1]
    assert rows[2]["train_loss"] < rows[0]["train_loss"]
    dense_rows = dense_run[2]
    for row in rows:  # 8 channels per convolution: FLOPs scale with keep exactly
        # ssprop.stats()'s dense figure equals the dense baseline's own count.
        assert row["dense_backward_flops"] == dense_rows[0]["dense_backward_flops"]
        assert row["actual_backward_flops"] == pytest.approx(row["keep"] * row["dense_backward_flops"])
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_data
def test_by_iteration_keep_is_the_mean_over_the_epoch(tmp_path):
    out = tmp_path / "iter"
    run("--mode", "ssprop", "--schedule", "bar", "--by", "iteration", "--keep", "0.6",
        "--min-keep", "0.2", "--period", "4", "--epochs", "2", "--width", "4", "--out", str(out),
        "--subset", "160", "--test-subset", "16", "--batch-size", "32", "--no-progress",
        "--threads", "1")
    rows = report.read_csv(out / "metrics.csv")
    # 5 steps per epoch; bar: keep while i % 4 < 2, else min.
    ref = [0.6 if i % 4 < 2 else 0.2 for i in range(10)]
    assert rows[0]["keep"] == pytest.approx(sum(ref[:5]) / 5)
    assert rows[1]["keep"] == pytest.approx(sum(ref[5:]) / 5)


@pytest.mark.parametrize("argv,message", [
    (["--keep", "1.5"], "--keep must be in (0, 1]"),
    (["--min-keep", "0.5", "--keep", "0.2"], "--min-keep (0.500000) must not exceed --keep"),
    (["--schedule", "warp"], "invalid choice: 'warp'"),
    (["--by", "iteration"], "--schedule constant has no by-iteration form"),
    (["--schedule", "linear", "--epochs", "1"], "needs --epochs >= 2"),
    (["--epochs", "x"], "--epochs: invalid integer: 'x'"),
    (["--lr"], "--lr: expected one argument"),
    (["--frobnicate"], "unrecognized argument: --frobnicate"),
    (["--dropout", "1"], "--dropout must be in [0, 1), got 1.000000"),
    (["--dropout", "-0.5"], "--dropout must be in [0, 1), got -0.500000"),
    (["--val", "-1"], "--val must be >= 0, got -1"),
    (["--seed", "-5"], "--seed must be >= 0, got -5"),
    (["--seed", str(2 ** 64)], f"argument --seed: invalid integer: '{2 ** 64}'"),
    (["--model", "resnet18", "--zero-bias"],
     "--zero-bias: resnet18's convolutions have no bias (batch norm follows them)"),
])
def test_bad_flags(argv, message):
    r = run(*argv, check=False)
    assert r.returncode == 2
    assert message in r.stderr and "usage: ssprop-train" in r.stderr


def test_missing_data(tmp_path):
    r = run("--mode", "dense", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o"),
            check=False)
    assert r.returncode == 1
    assert "Fashion-MNIST not found" in r.stderr and "dataset-fashion-mnist" in r.stderr


def test_corrupted_data(tmp_path):
    import gzip
    import struct
    d = tmp_path / "bad"
    d.mkdir()
    hdr = lambda magic, *dims: struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)
    (d / "train-images-idx3-ubyte").write_bytes(hdr(0x803, 4, 28, 28) + bytes(4 * 784 - 1))
    (d / "train-labels-idx1-ubyte").write_bytes(hdr(0x801, 4) + bytes(4))
    with gzip.open(d / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(hdr(0x803, 2, 28, 28) + bytes(2 * 784))
    (d / "t10k-labels-idx1-ubyte").write_bytes(b"\x12\x34\x56\x78" + bytes(8))
    r = run("--mode", "dense", "--data", str(d), "--out", str(tmp_path / "o"), check=False)
    assert r.returncode == 1
    assert "train-images-idx3-ubyte: truncated" in r.stderr
    (d / "train-images-idx3-ubyte").write_bytes(hdr(0x803, 4, 28, 28) + bytes(4 * 784))
    r = run("--mode", "dense", "--data", str(d), "--out", str(tmp_path / "o"), check=False)
    assert r.returncode == 1 and "t10k-labels-idx1-ubyte: bad magic number 0x12345678" in r.stderr


@needs_data
def test_resnet18_ssprop_with_dropout_runs(tmp_path):
    out = tmp_path / "resnet"
    run("--mode", "ssprop", "--model", "resnet18", "--width", "4", "--keep", "0.5",
        "--dropout", "0.1", "--epochs", "1", "--subset", "64", "--test-subset", "16",
        "--batch-size", "32", "--no-progress", "--threads", "1", "--out", str(out))
    row = report.read_csv(out / "metrics.csv")[0]
    # ResNet-18 at width 4: channels 4, 8, 16, 32 (keep 0.5: exactly half each).
    assert row["actual_backward_flops"] == pytest.approx(0.5 * row["dense_backward_flops"])
    assert math.isfinite(row["train_loss"])


@needs_data
def test_dropout_is_on_in_training_and_off_at_eval(tmp_path):
    # At a learning rate too small to move a float32 weight, the test accuracy
    # is that of the initial model: equal with and without Dropout when it is off
    # at eval; the training loss differs as Dropout is on in training.
    def final_row(p):
        out = tmp_path / f"p{p}"
        run("--mode", "dense", "--dropout", p, "--lr", "1e-30", "--epochs", "1", "--width", "8",
            "--out", str(out), *TINY)
        return report.read_csv(out / "metrics.csv")[0]

    plain, dropped = final_row("0"), final_row("0.5")
    assert dropped["test_accuracy"] == plain["test_accuracy"]
    assert dropped["train_loss"] != plain["train_loss"]


@needs_data
def test_validation_split_is_the_python_trainers(tmp_path, dense_run):
    # The same images held out as examples/train.py's (data.train_val_indices:
    # their index sum), loss and accuracy per epoch in the CSV.
    out = tmp_path / "val"
    r = run("--mode", "dense", "--epochs", "1", "--width", "4", "--val", "300", "--out", str(out),
            *TINY)
    _, val_idx = data.train_val_indices(60000, 384, 300, seed=42)
    assert (f"validation: 300 of 60000 training images held out by seed 42 (index sum "
            f"{int(val_idx.sum())}); training on 384") in r.stdout
    row = report.read_csv(out / "metrics.csv")[0]
    assert row["val_accuracy"] * 300 == pytest.approx(round(row["val_accuracy"] * 300))
    assert 0 < row["val_loss"] < 5 and 0 < row["test_loss"] < 5
    assert row["train_accuracy"] * 384 == pytest.approx(round(row["train_accuracy"] * 384))
    plain = dense_run[2][0]  # no --val
    assert math.isnan(plain["val_loss"]) and math.isnan(plain["val_accuracy"])


@needs_data
def test_validation_split_too_large(tmp_path):
    r = run("--mode", "dense", "--val", "59800", "--subset", "384", "--out", str(tmp_path / "o"),
            check=False)
    assert r.returncode == 1 and r.stderr == (
        "ssprop-train: error: 384 training and 59800 validation images exceed the 60000 "
        "training images\n")


@needs_data
def test_zero_bias_changes_the_initial_model_only_in_its_biases(tmp_path):
    # At a learning rate too small to move the weights, the loss is the initial
    # model's: zeroing the biases changes it, the run is otherwise the same.
    def first_row(*flags):
        out = tmp_path / f"z{len(flags)}"
        run("--mode", "dense", "--epochs", "1", "--width", "8", "--lr", "1e-30", "--out",
            str(out), *TINY, *flags)
        return report.read_csv(out / "metrics.csv")[0]

    stock, zero = first_row(), first_row("--zero-bias")
    assert zero["train_loss"] != stock["train_loss"]
    assert zero["dense_backward_flops"] == stock["dense_backward_flops"]
