#!/usr/bin/env python3
"""The first training steps with an empty cache: blocking vs background JIT
vs the gathered path (no generated kernels at all), on the CPU.

    python3 tools/bench/first_step.py [--models cnn resnet18] [--repeats 2]

Each run is a fresh process with an empty cache folder: it converts the model
(keep 0.2), then times each of the first --steps training steps on one batch
of Fashion-MNIST-shaped data. The three modes alternate within each repeat
(a shared machine slows them alike); the table gives medians over repeats,
and the ratio of each mode's first step to the gathered path's.

  blocking    SSPROP_JIT=blocking: the first step compiles, verifies and
              times every layer's candidates before it returns
  background  the default: layers run the gathered path while their kernels
              compile on background threads, then switch
  gathered    SSPROP_TACTIC=gathered-aten: what the first step costs without
              any compile (the floor background approaches)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MODES = {
    "blocking": {"SSPROP_JIT": "blocking"},
    "background": {"SSPROP_JIT": "background"},
    "gathered": {"SSPROP_JIT": "blocking", "SSPROP_TACTIC": "gathered-aten"},
}

RUN = """
import json, sys, time, torch, ssprop
from ssprop_train import models
model_name, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = ssprop.convert(models.build_model(model_name), keep=0.2)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
times = []
for _ in range(steps):
    t = time.perf_counter()
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    times.append(time.perf_counter() - t)
ssprop.wait_for_compiles()
print(json.dumps({"steps_s": times, "stats": ssprop.stats()}))
"""


def run_once(model: str, mode: str, batch: int, steps: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="ssprop-first-step-") as cache:
        env = {**os.environ, **MODES[mode], "SSPROP_CACHE_DIR": cache,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "python"),
                                                           os.environ.get("PYTHONPATH")]))}
        r = subprocess.run([sys.executable, "-c", RUN, model, str(batch), str(steps),
                            str(threads)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"first_step.py: the {mode} run of {model} failed:\n{r.stderr}")
    return json.loads(r.stdout.splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["cnn", "resnet18"],
                   choices=["cnn", "resnet18"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    for model in a.models:
        runs = {mode: [] for mode in MODES}
        for _ in range(a.repeats):
            for mode in MODES:
                runs[mode].append(run_once(model, mode, a.batch, a.steps, a.threads))
        print(f"{model}, batch {a.batch}, {a.threads} thread(s), empty cache, "
              f"median of {a.repeats} alternating runs (s):")
        print(f"  {'mode':11} " + " ".join(f"{'step ' + str(i + 1):>8}" for i in range(a.steps))
              + f" {'first/gathered':>15} {'compiled':>9} {'stand-ins':>10}")
        first = {m: statistics.median(r["steps_s"][0] for r in rs) for m, rs in runs.items()}
        for mode, rs in runs.items():
            steps = [statistics.median(r["steps_s"][i] for r in rs) for i in range(a.steps)]
            stats = rs[-1]["stats"]
            print(f"  {mode:11} " + " ".join(f"{s:8.2f}" for s in steps)
                  + f" {first[mode] / first['gathered']:15.2f} {stats['kernels_compiled']:9d}"
                  f" {stats['provisional_calls']:10d}")


if __name__ == "__main__":
    main()
