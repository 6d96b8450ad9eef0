"""The experiment scripts of docs/results/ end to end, in their --smoke mode (a
few hundred images, 2 epochs): convergence.sh (two runs at a time, step-time
model, report and curves; started again, it skips every complete run) and
ddpm.sh (the feature classifier first, samples after the last two epochs).
Minutes on a small machine: a CTest entry of its own (train:experiments)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import bridge, data  # noqa: E402

try:
    data.find_root()
    bridge.require()
except (data.DatasetNotFoundError, bridge.BridgeMissing) as e:
    print(f"SKIP: {e}", file=sys.stderr)
    pytest.skip(str(e), allow_module_level=True)


def script(name, out, *args):
    r = subprocess.run([str(ROOT / "docs" / "results" / f"{name}.sh"), "--smoke", "--jobs", "2",
                        "--out", str(out), *args], capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def table(report, title):
    """{run: cells} of the markdown table after ``title``."""
    lines = report.split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| run"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells
    return rows


def test_convergence_smoke_runs_and_resumes(tmp_path):
    out = script("convergence", tmp_path, "--seeds", "42")
    assert sorted(re.findall(r"^(cnn4/[a-z-]+-42): 2 epochs, ", out, re.M)) == [
        "cnn4/cosine-42", "cnn4/dense-42", "cnn4/dense-zero-bias-42", "cnn4/headline-42",
        "cnn4/linear-42"]
    report = (tmp_path / "report" / "report.md").read_text()
    t = table(report, "## CNN width 4")
    assert list(t) == ["dense", "dense-zero-bias", "headline", "linear", "cosine"]
    # Width 4: a sparse epoch keeps 1 channel of 4, so the headline does (1 + 1/4) / 2.
    assert t["headline"][7] == "0.625 ± 0.000" and t["dense"][4] == "0.00 ± 0.00"
    assert "5 of 5 runs ran beside other runs of the experiment" in report
    assert (tmp_path / "steptime-cnn4.json").is_file()
    assert (tmp_path / "report" / "convergence-cnn4.png").read_bytes()[:4] == b"\x89PNG"
    again = script("convergence", tmp_path, "--seeds", "42")
    assert again.count("complete already") == 5 and "== step time of" not in again


def test_ddpm_smoke_measures_the_last_two_epochs(tmp_path):
    out = script("ddpm", tmp_path, "--seeds", "42")
    assert re.search(r"^classifier: 1 epochs, ", out, re.M)
    assert re.search(r"^unet/headline-42: 2 epochs, loss [0-9.]+, val loss [0-9.]+, "
                     r"Fréchet [0-9.]+, bwd FLOP ratio 0\.590", out, re.M)
    t = table((tmp_path / "report" / "report.md").read_text(), "not the Inception FID")
    assert t["headline"][8] == "sparse" and t["dense"][8] == "dense"
    for name in ("dense", "headline"):
        assert (tmp_path / "report" / f"ddpm-samples-{name}.png").is_file()
