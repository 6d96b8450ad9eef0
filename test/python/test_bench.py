"""The GPU benchmark tools on a machine without a GPU: a clear refusal, and
ssprop-bench's plot from an earlier run's CSV."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench" / "ssprop_bench.py"
STEPS = ROOT / "tools" / "bench" / "step_bench.py"


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
