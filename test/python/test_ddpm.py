"""examples/ddpm.py and its modules (unet.py, diffusion.py): tiny runs of both
modes (loss falls, CSV/PNG written, samples of the right shape and range), the
cosine schedule against its formula, ssprop.convert on the UNet (every Conv2d,
keep = 1 gives the dense gradients exactly in f64), Dropout wiring, flag errors."""

import copy
import csv
import json
import math

import pytest
import torch

from example_cli import (expect_usage_error, load_example, needs_bridge,  # noqa: E402
                         needs_data)
from ssprop_train import report  # noqa: E402
from ssprop_train.diffusion import Diffusion, cosine_betas  # noqa: E402
from ssprop_train.unet import UNet  # noqa: E402


ddpm = load_example("ddpm")

TINY = ["--width", "4", "--timesteps", "10", "--subset", "128", "--batch-size", "32",
        "--samples", "6", "--lr", "3e-3", "--threads", "1", "--no-progress"]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(out, *args):
    """Parses, checks and trains as main() does; returns (model, rows, samples)."""
    p = ddpm.build_parser()
    a = p.parse_args([*TINY, "--out", str(out), *args])
    ddpm.check_args(p, a)
    return ddpm.train(a)


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm") / "dense"
    return (out, *run(out, "--mode", "dense", "--epochs", "3", "--val", "48",
                      "--sample-epochs", "2"))


@needs_data
def test_dense_run_loss_falls_files_and_samples(dense_run):
    out, model, rows, samples = dense_run
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert all(r["keep"] == 1 and r["dense_backward_flops"] == r["actual_backward_flops"] > 0
               for r in rows)
    with open(out / "metrics.csv") as f:
        assert next(csv.reader(f)) == list(ddpm.FIELDS)
    assert report.read_csv(out / "metrics.csv") == rows
    # --val 48: the loss on held-out images at fixed steps and noise falls too.
    assert rows[-1]["val_loss"] < rows[0]["val_loss"]
    for png in ("samples.png", "loss.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert samples.shape == (6, 1, 28, 28) and samples.dtype == torch.float32
    assert samples.min() >= -1 and samples.max() <= 1 and samples.std() > 0
    assert torch.equal(torch.load(out / "samples.pt"), samples)
    assert torch.load(out / "model.pt").keys() == model.state_dict().keys()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_loss"] == rows[-1]["loss"] and summary["flop_ratio"] == 1
    assert summary["final_val_loss"] == rows[-1]["val_loss"]
    assert summary["steps_per_epoch"] == 4  # 128 images, batches of 32
    assert "frechet" not in summary
    # --sample-epochs 2: the model after epoch 2 sampled too, with the same noise.
    assert sorted(summary["by_epoch"]) == ["2", "3"]
    early = torch.load(out / "samples-epoch2.pt")
    assert early.shape == samples.shape and not torch.equal(early, samples)


@needs_data
@needs_bridge
def test_ssprop_headline_run(tmp_path, dense_run):
    _, _, dense_rows, _ = dense_run
    model, rows, samples = run(tmp_path, "--mode", "ssprop", "--keep", "0.5", "--interleave",
                                "--epochs", "3")
    assert [r["keep"] for r in rows] == [1, 0.5, 1]
    assert rows[-1]["loss"] < rows[0]["loss"]
    # Same shapes, so the bridge's dense figure equals the dense run's own count.
    assert [r["dense_backward_flops"] for r in rows] == [r["dense_backward_flops"] for r in dense_rows]
    assert rows[0]["actual_backward_flops"] == rows[0]["dense_backward_flops"]
    # keep 0.5 halves every convolution's backward but the output one's (1 channel).
    assert 0.5 < rows[1]["actual_backward_flops"] / rows[1]["dense_backward_flops"] < 0.55
    assert samples.shape == (6, 1, 28, 28) and samples.abs().max() <= 1


def test_cosine_schedule_matches_formula():
    T, s = 200, 0.008
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    d = Diffusion(T)
    for t in (0, 1, 50, 100, 150, 190):
        assert d.alpha_bar[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-12)
    betas = cosine_betas(T)
    assert betas.max().item() == 0.999 and betas[0].item() == pytest.approx(1 - f(1) / f(0))
    x0, noise = torch.full((2, 1, 2, 2), 0.5), torch.full((2, 1, 2, 2), -1.0)
    xt = d.q_sample(x0, torch.tensor([0, 100]), noise)
    ab = f(101) / f(0)
    assert xt[1, 0, 0, 0].item() == pytest.approx(0.5 * math.sqrt(ab) - math.sqrt(1 - ab), rel=1e-6)
    with pytest.raises(ValueError, match="timesteps must be >= 1, got 0"):
        cosine_betas(0)


class OracleDenoiser(torch.nn.Module):
    """The exact ε of a data set that is one image: (x_t - sqrt(ab) x*) / sqrt(1 - ab)."""

    def __init__(self, diffusion, target):
        super().__init__()
        self.d, self.target = diffusion, target

    def forward(self, x, t):
        ab = self.d.alpha_bar[t].to(x.dtype)[:, None, None, None]
        return (x - ab.sqrt() * self.target) / (1 - ab).sqrt()


def test_sampler_recovers_a_one_image_data_set():
    d = Diffusion(50)
    target = torch.linspace(-0.9, 0.9, 28 * 28).reshape(1, 1, 28, 28)
    oracle = OracleDenoiser(d, target)
    assert d.loss(oracle, target.expand(4, 1, 28, 28)).item() == pytest.approx(0, abs=1e-10)
    samples = d.sample(oracle, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(samples, target.expand(4, 1, 28, 28), atol=1e-5)


def test_sampling_shape_range_and_eval_mode():
    torch.manual_seed(0)
    model = UNet(4, dropout=0.5).train()
    d = Diffusion(5)
    a = d.sample(model, 3, generator=torch.Generator().manual_seed(1), batch=2)
    b = d.sample(model, 3, generator=torch.Generator().manual_seed(1), batch=2)
    assert a.shape == (3, 1, 28, 28) and a.abs().max() <= 1
    # Dropout (p = 0.5, drawing from the global generator) is off while sampling:
    # the same noise gives the same images; the model is back in training mode.
    assert torch.equal(a, b) and model.training
    c = d.sample(model, 3, generator=torch.Generator().manual_seed(2), batch=2)
    assert not torch.equal(a, c)


# The UNet of mults (1, 2, 2): stem, 3 down blocks (2 convs; a 1x1 skip where
# the width changes: 1 of them), 2 downsamples, mid (2 blocks, attention's qkv and
# proj), 2 upsamples, 3 up blocks (2 convs + a 1x1 skip each), the output conv.
UNET_CONVS = 1 + (3 * 2 + 1) + 2 + (2 * 2 + 2) + 2 + 3 * 3 + 1


@needs_bridge
def test_convert_replaces_every_conv_and_keep_1_is_dense():
    import ssprop
    torch.manual_seed(0)
    dense = UNet(4).double()
    assert sum(type(m) is torch.nn.Conv2d for m in dense.modules()) == UNET_CONVS
    sparse = ssprop.convert(copy.deepcopy(dense), keep=1.0, linear=False)
    assert sum(isinstance(m, ssprop.nn.Conv2d) for m in sparse.modules()) == UNET_CONVS
    assert not any(type(m) is torch.nn.Conv2d for m in sparse.modules())
    assert sum(type(m) is torch.nn.Linear for m in sparse.modules()) == 2 + 8  # time MLP + one per block
    x0 = torch.rand(3, 1, 28, 28, dtype=torch.float64) * 2 - 1
    t, noise = torch.tensor([0, 4, 9]), torch.randn(3, 1, 28, 28, dtype=torch.float64)
    d = Diffusion(10)
    d.loss(dense, x0, t, noise).backward()
    d.loss(sparse, x0, t, noise).backward()
    for (name, p), q in zip(dense.named_parameters(), sparse.parameters()):
        assert torch.equal(p.grad, q.grad), name


def test_unet_dropout_layers_and_eval():
    torch.manual_seed(0)
    model = UNet(4, dropout=0.3)
    drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(drops) == 8 and all(m.p == 0.3 for m in drops)  # one per residual block
    assert not any(isinstance(m, torch.nn.Dropout) for m in UNet(4).modules())
    plain = UNet(4)
    plain.load_state_dict(model.state_dict())
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([1, 7])
    model.eval(), plain.eval()
    assert torch.equal(model(x, t), plain(x, t))
    model.train()
    assert not torch.allclose(model(x, t), plain(x, t))


@needs_data
def test_dropout_flag_reaches_the_unet(tmp_path):
    model, _, _ = run(tmp_path, "--mode", "dense", "--epochs", "1", "--dropout", "0.25",
                      "--subset", "32", "--no-plot")
    assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.25}


@pytest.mark.parametrize("argv,message", [
    (["--dropout", "1"], "--dropout must be in [0, 1), got 1.0"),
    (["--dropout", "-0.1"], "--dropout must be in [0, 1), got -0.1"),
    (["--keep", "1.5"], "--keep must be in (0, 1], got 1.5"),
    (["--timesteps", "0"], "--timesteps must be >= 1, got 0"),
    (["--width", "0"], "--width must be >= 1, got 0"),
    (["--samples", "0"], "--samples must be >= 1, got 0"),
    (["--by", "iteration", "--schedule", "bar", "--interleave"], "--interleave applies by epoch only"),
    (["--schedule", "warp"], "invalid choice: 'warp'"),
    (["--samples", "1", "--classifier", "x.pt"], "--classifier needs --samples >= 2"),
    (["--epochs", "4", "--sample-epochs", "2,4"],
     "--sample-epochs: 4 is not an epoch before the last (1..3); the last is always sampled"),
    (["--sample-epochs", "x"], "argument --sample-epochs: expected epochs like 3,4, got 'x'"),
    (["--val", "-2"], "--val must be >= 0, got -2"),
])
def test_bad_flags(capsys, argv, message):
    expect_usage_error(capsys, ddpm.main, argv, message)


def test_bad_classifier_checkpoint(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"weights": 1}, bad)
    expect_usage_error(capsys, ddpm.main, ["--classifier", str(bad)],
                       f"--classifier: {bad}: not a classifier checkpoint of examples/train.py "
                       "--save-checkpoint")
    expect_usage_error(capsys, ddpm.main, ["--classifier", str(tmp_path / "none.pt")],
                       f"--classifier: {tmp_path / 'none.pt'}: cannot load a classifier checkpoint")


def test_compare_table_and_plot(tmp_path):
    def fake_run(name, loss, fd, secs, ratio):
        d = tmp_path / name
        with report.CsvLog(d / "metrics.csv", ddpm.FIELDS) as log:
            for e in range(2):
                log.write({"epoch": e, "keep": 1, "loss": loss + 1 - e, "val_loss": 0.5,
                           "dense_backward_flops": 10, "actual_backward_flops": 10 * ratio,
                           "seconds": secs / 2})
        (d / "summary.json").write_text(json.dumps({
            "final_loss": loss, "frechet": fd, "seconds": secs, "mean_keep": ratio,
            "flop_ratio": ratio}))
        return str(d)

    runs = [f"dense={fake_run('d1', 0.1, 10, 4, 1)},{fake_run('d2', 0.3, 14, 6, 1)}",
            f"sparse={fake_run('s1', 0.2, 20, 2, 0.6)},{fake_run('s2', 0.2, 20, 2, 0.6)}"]
    assert ddpm.main(["compare", "--out", str(tmp_path / "cmp"), *runs]) == 0
    lines = (tmp_path / "cmp" / "compare.md").read_text().splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    # mean ± sample std over the 2 runs; wall-clock: mean seconds over dense's 5.
    assert cells[0] == ["dense", "2", "0.2000 ± 0.1414", "12.00 ± 2.83", "1.000", "1.000",
                        "5.0 ± 1.4", "1.000"]
    assert cells[1] == ["sparse", "2", "0.2000 ± 0.0000", "20.00 ± 0.00", "0.600", "0.600",
                        "2.0 ± 0.0", "0.400"]
    assert (tmp_path / "cmp" / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_bad_spec(capsys, tmp_path):
    expect_usage_error(capsys, ddpm.main, ["compare", "--out", str(tmp_path), "dense"],
                       "expected NAME=DIR[,DIR...], got 'dense'")
    expect_usage_error(capsys, ddpm.main,
                       ["compare", "--out", str(tmp_path), f"d={tmp_path / 'no'}"],
                       f"{tmp_path / 'no' / 'metrics.csv'}: no such CSV file")


class Killed(Exception):
    """Stands for a kill right after an epoch's checkpoint."""


@needs_data
def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    # The DDPM's steps and noise come from the global generator: the resumed
    # run matches only if the checkpoint restores it.
    args = ("--mode", "dense", "--epochs", "3", "--dropout", "0.1", "--val", "32", "--no-plot")
    _, whole, whole_samples = run(tmp_path / "whole", *args)
    save = ddpm.runstate.RunDir.save

    def save_then_die(self, rows, *a, **k):
        save(self, rows, *a, **k)
        raise Killed

    monkeypatch.setattr(ddpm.runstate.RunDir, "save", save_then_die)
    with pytest.raises(Killed):
        run(tmp_path / "killed", *args)
    monkeypatch.undo()
    model, rows, samples = run(tmp_path / "killed", *args)
    drop = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    assert drop(rows) == drop(whole) and torch.equal(samples, whole_samples)
    assert drop(report.read_csv(tmp_path / "killed" / "metrics.csv")) == drop(whole)
    a, b = (torch.load(tmp_path / d / "model.pt") for d in ("whole", "killed"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert run(tmp_path / "killed", *args)[0] is None  # complete: skipped
