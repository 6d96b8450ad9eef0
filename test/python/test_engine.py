"""The engine build (ssprop.compile, ssprop-compile --plan) on the CPU with
real compiles: the plan it writes, a second build that compiles nothing,
training afterwards that neither compiles nor times, and the checks of the
plan's path. Each process gets its own cache folder."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import ssprop

# The Fashion-MNIST CNN of ssprop_train at keep 0.2 under the headline
# schedule (keeps 1 and 0.2): 3 layers, 6 (layer, k) variants.
MODEL = textwrap.dedent("""
    import json, sys, torch, ssprop
    from ssprop_train import models
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = ssprop.convert(models.build_model("cnn", width=32), keep=0.2)
    sched = ssprop.DropScheduler(model, "constant", 0.2, total_epochs=4, interleave=True)
    x = torch.randn(32, 1, 28, 28)
    y = torch.randint(0, 10, (32,))
""")


def run(body: str, cache, **env) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", MODEL + textwrap.dedent(body)],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "SSPROP_CACHE_DIR": str(cache), **env})
    assert result.returncode == 0, result.stderr
    return result


COMPILE = """
    summary = ssprop.compile(model, x, scheduler=sched, name="cnn")
    print(json.dumps(summary))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A cache folder after one engine build, and the build's summary."""
    cache = tmp_path_factory.mktemp("engine")
    r = run(COMPILE, cache)
    return cache, json.loads(r.stdout.splitlines()[-1]), r.stderr


def test_the_build_compiles_times_and_writes_the_plan(built):
    cache, summary, stderr = built
    assert (summary["layers"], summary["variants"]) == (3, 6)
    assert summary["compiled"] > 0 and summary["timings"] > 0 and summary["rejected"] == 0
    assert summary["plan"] == str(cache / "plans" / "cnn.json")
    assert "ssprop: building [" in stderr and "6/6 done" in stderr
    plan = json.loads((cache / "plans" / "cnn.json").read_text())
    assert (plan["ssprop_plan"], plan["model"], plan["device"], plan["threads"]) == \
        (1, "cnn", "cpu", 1)
    assert plan["version"].startswith("ssprop " + ssprop.__version__)
    rows = [(e["name"], e["keep"], e["k"]) for e in plan["layers"]]
    assert rows == [(name, keep, k) for name in ("convs.2", "convs.1", "convs.0")
                    for keep, k in ((1.0, 32), (0.2, 6))]
    for entry in plan["layers"]:
        assert entry["tactic"] in ("gathered-aten",) or entry["tactic"].startswith("generated:")
        assert bool(entry["kernels"]) == entry["tactic"].startswith("generated:")
    assert plan["summary"] == summary
    assert len({k for e in plan["layers"] for k in e["kernels"]}) == summary["kernels"]


def test_a_second_build_compiles_and_times_nothing(built):
    cache, first, _ = built
    summary = json.loads(run(COMPILE, cache).stdout.splitlines()[-1])
    assert (summary["compiled"], summary["timings"]) == (0, 0)
    assert summary["kernels"] == first["kernels"] and summary["cache_hits"] > 0


def test_training_after_the_build_neither_compiles_nor_times(built):
    cache, _, _ = built
    r = run("""
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        ssprop.reset_stats()
        for epoch in range(2):  # keep 1, then 0.2 (interleave)
            sched.step_epoch(epoch)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        print(json.dumps(ssprop.stats()))
    """, cache)  # the default, background JIT
    stats = json.loads(r.stdout.splitlines()[-1])
    assert stats["kernels_compiled"] == 0 and stats["tactic_timings"] == 0
    assert stats["provisional_calls"] == 0 and stats["disk_hits"] > 0


def test_the_plan_never_replaces_a_file_it_did_not_write(tmp_path):
    victim = tmp_path / "notes.json"
    victim.write_text("{}\n")
    model = ssprop.nn.Conv2d(2, 4, 3)
    with pytest.raises(RuntimeError, match=f"ssprop: {victim} exists and is not an ssprop plan "
                                           "of yours; not replacing it"):
        ssprop.compile(model, torch.randn(1, 2, 5, 5), plan=victim, progress=False)
    assert victim.read_text() == "{}\n"
    with pytest.raises(RuntimeError, match=r"ssprop: the plan's name must be an MLIR identifier "
                                           r"\(letters, digits, _ \$ \.\), got '\.\./escape'"):
        ssprop.compile(model, torch.randn(1, 2, 5, 5), name="../escape", progress=False)
    missing = tmp_path / "no" / "plan.json"
    with pytest.raises(RuntimeError, match=f"ssprop: cannot write the plan {missing}: its "
                                           f"folder {missing.parent} does not exist"):
        ssprop.compile(model, torch.randn(1, 2, 5, 5), plan=missing, progress=False)


def test_ssprop_compile_plan_builds_from_the_ir(tmp_path, ssprop_tool):
    ir = tmp_path / "tiny.mlir"
    model = torch.nn.Sequential(ssprop.nn.Conv2d(3, 8, 3, padding=1),
                                ssprop.nn.Conv2d(8, 4, 1, bias=False))
    ssprop.export_ir(model, torch.randn(2, 3, 6, 6), keep=[1.0, 0.5, 0.25], path=ir)
    plan = tmp_path / "tiny.plan.json"
    r = subprocess.run([ssprop_tool("ssprop-compile"), "--plan", str(plan), str(ir),
                        "--threads", "1", "--cache-dir", str(tmp_path / "cache")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    # k = 8, 4, 2 for the first layer; 4, 2, 1 for the second.
    assert (summary["layers"], summary["variants"], summary["plan"]) == (2, 6, str(plan))
    written = json.loads(plan.read_text())
    assert written["model"] == "tiny"
    assert [(e["name"], e["k"]) for e in written["layers"]] == \
        [("1", 4), ("1", 2), ("1", 1), ("0", 8), ("0", 4), ("0", 2)]
    assert "ssprop: engine of 2 layers (6 layer-k variants)" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["--plan", "p.json"], "--plan builds the engine of one .mlir file"),
    (["--plan", "p.json", "a.mlir", "b.mlir"], "--plan builds the engine of one .mlir file"),
    (["--plan", "p.json", "a.mlir", "--device", "tpu"],
     "--device expects cpu, cuda or cuda:N, got 'tpu'"),
])
def test_ssprop_compile_plan_checks_its_flags(ssprop_tool, args, message):
    r = subprocess.run([ssprop_tool("ssprop-compile"), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith(f"ssprop-compile: {message}\n")
