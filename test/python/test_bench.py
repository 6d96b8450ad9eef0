"""The benchmark tools. The GPU ones on a machine without a GPU: a clear
refusal, and ssprop-bench's plot from an earlier run's CSV. The CPU one
(tools/bench/cpu_backward.py): the convolutions it finds in the models, the
FLOPs it counts, its alternation, its summaries on made-up times, the FMA
probe, a run on a tiny network and its flag errors. No time is asserted."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from example_cli import expect_usage_error, needs_bridge

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench" / "ssprop_bench.py"
STEPS = ROOT / "tools" / "bench" / "step_bench.py"
CPU_BENCH = ROOT / "tools" / "bench" / "cpu_backward.py"


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the tools run")
@pytest.mark.parametrize("tool, name", [(BENCH, "ssprop-bench"), (STEPS, "ssprop-step-bench")])
def test_without_a_gpu_the_tools_refuse_clearly(tool, name):
    r = run(tool)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"{name}: no CUDA device (torch.cuda.is_available() is False); "
                                "the GPU benchmark needs one")


def test_plot_from_csv(tmp_path):
    csv = tmp_path / "run.csv"
    csv.write_text("network,layer,keep,dtype,dense_ms,gathered_ms,ssprop_ms,useful_flops\n"
                   "cnn,conv2,1.0,f32,2.0,2.2,2.1,1\ncnn,conv2,0.4,f32,2.0,1.2,0.9,1\n")
    png = tmp_path / "run.png"
    r = run(BENCH, "--plot-from", csv, "--plot", png)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run(BENCH, "--plot-from", csv)
    assert r.returncode == 2 and "--plot-from needs --plot PNG" in r.stderr


@pytest.fixture(scope="module")
def cpu_bench():
    """tools/bench/cpu_backward.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("cpu_backward", CPU_BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_cpu_bench_finds_each_distinct_convolution_with_its_count(cpu_bench):
    from ssprop_train import models
    layers = cpu_bench.conv_layers(models.build_model("resnet18", in_channels=3), (3, 32, 32))
    assert [len(names) for names, _ in layers] == [1, 4, 1, 3, 1, 1, 3, 1, 1, 3, 1]
    assert layers[1][0] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1",
                            "layer1.1.conv2"]
    assert [conv.describe() for _, conv in layers[2:5]] == [
        "64->128 3x3 s2 32x32", "128->128 3x3 16x16", "64->128 1x1 s2 32x32"]
    assert [conv.first for _, conv in layers] == [True] + [False] * 10
    assert not any(conv.bias for _, conv in layers)
    cnn = cpu_bench.conv_layers(models.build_model("cnn", width=32), (1, 28, 28))
    assert [(names, conv.describe(), conv.bias, conv.first) for names, conv in cnn] == [
        (["convs.0"], "1->32 3x3 28x28", True, True),
        (["convs.1", "convs.2"], "32->32 3x3 28x28", True, False)]


def test_cpu_bench_counts_the_kept_flops(cpu_bench):
    from ssprop_train import models
    (_, stem), _, (_, down), *_ = cpu_bench.conv_layers(
        models.build_model("resnet18", in_channels=3), (3, 32, 32))
    # wgrad + dgrad: 2 x 2*N*Ho*Wo*Cin*KH*KW*k; a first layer has no dgrad.
    assert down.flops(32, 25) == 2 * (2 * 32 * 16 * 16 * 64 * 9 * 25) == 471859200
    assert stem.flops(4, 6) == 2 * 4 * 32 * 32 * 3 * 9 * 6


def test_cpu_bench_alternates_with_a_rotating_order(cpu_bench):
    calls = []
    candidates = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    ticks = iter(range(100))
    samples = cpu_bench.alternate(candidates, 4, lambda: next(ticks))
    assert "".join(calls) == "abc" + "abc" + "bca" + "cab" + "abc"  # untimed round first
    assert samples == {name: [1, 1, 1, 1] for name in "abc"}


def made_up_result(cpu_bench, names, dense, gathered, tiles):
    """A layer timed at keep 0.2 only: dense, gathered and tile seconds."""
    conv = cpu_bench.Conv(8, 10, (4, 4), (4, 4), (3, 3), (1, 1), (1, 1), (1, 1), 1, False,
                          False)
    samples = {"dense": [dense], "0.2 gathered-aten": [gathered]}
    samples.update({f"0.2 generated:{tile}": [t] for tile, t in tiles.items()})
    tactics = [key.split(" ", 1)[1] for key in samples if key != "dense"]
    return cpu_bench.LayerResult("net", names, conv, 2, 1, samples, {1.0: 10, 0.2: 2},
                                 {0.2: tactics}, None)


def test_cpu_bench_summary_weights_layers_by_count(cpu_bench):
    a = made_up_result(cpu_bench, ["a"], 1.0, 0.5, {"t1": 0.2, "t2": 0.4})
    b = made_up_result(cpu_bench, ["b1", "b2", "b3"], 2.0, 1.0, {"t1": 1.6, "t2": 0.8})
    assert a.best_generated(0.2) == "generated:t1" and b.best_generated(0.2) == "generated:t2"
    rows = cpu_bench.summary_rows("all", [a, b], [1.0, 0.2])
    # keep 1 is the dense call itself.
    assert rows[0] == "| all | 1.0 | 1.000 | **1.000** | 1.000 | 1.000 | – | ≤ 1.00 |"
    # generated: (0.2 * 0.4^3)^(1/4) = 0.336; total: (0.2 + 3*0.8) / (1 + 3*2) = 0.371.
    assert rows[1] == ("| all | 0.2 | 0.500 | **0.336** | 0.336 | 0.371 | 0.80 (net b1 8->10 "
                       "3x3 4x4) | ≤ 0.30 |")
    assert cpu_bench.layer_row(a, [1.0, 0.2]) == (
        "| net a 8->10 3x3 4x4 | 1 | 1000.0 | 0 | 1.00 (dense) | 0.50 / **0.20** (0) |")


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v ${CC:-cc}"]).returncode != 0,
                    reason="no C compiler for the FMA probe")
def test_cpu_bench_fma_probe_counts_the_vector_width(cpu_bench):
    probe = cpu_bench.build_fma_probe()
    flags = Path("/proc/cpuinfo").read_text()
    lanes = 16 if " avx512f" in flags else 8
    assert probe.fma_flops_per_round() == 2 * 12 * lanes
    assert probe.fma_rounds(0) == sum(range(12))  # chain i starts at i
    cpu_bench.run_fma_probe(probe, 2)


@needs_bridge
def test_cpu_bench_times_every_tactic_of_a_tiny_network(cpu_bench, tmp_path, capsys,
                                                        monkeypatch):
    monkeypatch.setitem(cpu_bench.NETWORKS, "tiny", ("cnn", 4, (1, 8, 8), 2))
    out = tmp_path / "tiny.csv"
    threads = torch.get_num_threads()
    try:
        assert cpu_bench.main(["--networks", "tiny", "--keeps", "1", "0.5", "--repeats", "1",
                               "--threads", "1", "--csv", str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    import ssprop
    assert ssprop.get_tactic() is None
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("| tiny convs.")]
    assert [row.split(" | ")[:2] for row in rows[:2]] == [
        ["| tiny convs.0 1->4 3x3 8x8", "1"], ["| tiny convs.1 4->4 3x3 8x8", "2"]]
    assert all(row.split(" | ")[4] == "1.00 (dense)" for row in rows[:2])
    table = list(csv.DictReader(out.open()))
    for layer, cin, flops_per_channel in (("tiny convs.0 1->4 3x3 8x8", 1, 2 * 2 * 64 * 1 * 9),
                                          ("tiny convs.1 4->4 3x3 8x8", 4, 2 * 2 * 2 * 64 * 4 * 9)):
        x, w, dy = torch.zeros(2, cin, 8, 8), torch.zeros(4, cin, 3, 3), torch.zeros(2, 4, 8, 8)
        listed = list(torch.ops.ssprop._conv2d_tactics(dy, x, w, [1, 1], [1, 1], [1, 1], 1, 0.5,
                                                       "topk", False))
        assert "gathered-aten" in listed
        mine = [row for row in table if row["layer"] == layer]
        assert [(row["keep"], row["kept"], row["tactic"], int(row["flops"])) for row in mine] == (
            [("1.0", "4", "dense", 4 * flops_per_channel)]
            + [("0.5", "2", tactic, 2 * flops_per_channel) for tactic in listed])
        assert all(float(row["median_ms"]) > 0 for row in mine)


@pytest.mark.parametrize("argv, message", [
    (["--keeps", "0"], "argument --keeps: must be in (0, 1], got 0.0"),
    (["--repeats", "0"], "argument --repeats: must be >= 1, got 0"),
    (["--threads", "1", "0"], "argument --threads: must be >= 1, got 0"),
    (["--steps", "0"], "argument --steps: must be >= 1, got 0"),
    (["--warmup", "-1"], "argument --warmup: must be >= 0, got -1"),
    (["--networks", "vgg"], "invalid choice: 'vgg'"),
])
def test_cpu_bench_bad_flags(cpu_bench, capsys, argv, message):
    expect_usage_error(capsys, cpu_bench.main, argv, message)
