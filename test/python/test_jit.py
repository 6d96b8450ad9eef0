"""The JIT on the CPU with real compiles: the background mode (a layer runs its
gathered path while its kernels compile, then switches), a clean exit with
compiles in flight, and the verification of generated candidates (a kernel
spoiled by the test hook is rejected, never chosen, and remembered).

Each scenario runs in its own process with its own cache folder: the JIT's
memo, timing cache and kernel cache are per process and per folder."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import ssprop

# A layer worth generating on the CPU (over 2^24 FLOPs per dense GEMM).
LAYER = textwrap.dedent("""
    import sys, torch, ssprop
    sys.path.insert(0, {oracle_dir!r})
    from ssprop_oracle import conv_oracle, conv_topk_mask
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(8, 32, 32, 32)
    w = torch.randn(64, 32, 3, 3)
    dy = torch.randn(8, 64, 32, 32)
    KEEP = 0.25

    def backward():
        return torch.ops.ssprop._conv2d_backward(dy, x, w, True, [1, 1], [1, 1], [1, 1], 1,
                                                 KEEP, "topk", False, [True, True, True])

    def error():
        want = conv_oracle(x.double(), w.double(), torch.zeros(64, dtype=torch.double),
                           1, 1, 1, 1, dy.double(), conv_topk_mask(dy.double(), KEEP))
        return max(float((g.double() - e).abs().max() / e.abs().max())
                   for g, e in zip(backward(), want))

    def generated_tactics():
        return [t for t in torch.ops.ssprop._conv2d_tactics(dy, x, w, [1, 1], [1, 1], [1, 1], 1,
                                                            KEEP, "topk", False)
                if t.startswith("generated:")]
""")

ORACLE_DIR = str(Path(__file__).resolve().parent)


def run(body: str, cache: Path, **env) -> subprocess.CompletedProcess:
    """Runs LAYER + body in a fresh process on the cache folder `cache`."""
    code = LAYER.format(oracle_dir=ORACLE_DIR) + textwrap.dedent(body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "SSPROP_CACHE_DIR": str(cache),
                                              "SSPROP_JIT": "background", **env})
    assert result.returncode == 0, result.stderr
    return result


def values(result: subprocess.CompletedProcess) -> dict:
    """The `name=value` lines a script printed."""
    return dict(line.split("=", 1) for line in result.stdout.split() if "=" in line)


@pytest.fixture(scope="module")
def warm_kernels(tmp_path_factory) -> Path:
    """A kernel cache holding the layer's kernels (timings removed), made by
    the background scenario's process."""
    cache = tmp_path_factory.mktemp("warm")
    run("""
        backward()
        ssprop.wait_for_compiles()
        backward()
    """, cache)
    return cache / "kernels"


def with_kernels(tmp_path: Path, kernels: Path) -> Path:
    """A cache folder with copies of `kernels` and no timing cache."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "kernels").mkdir(mode=0o700)
    for entry in kernels.iterdir():
        target = cache / "kernels" / entry.name
        target.write_bytes(entry.read_bytes())
        target.chmod(0o600)
    return cache


def test_background_runs_the_gathered_path_until_the_kernels_are_compiled(tmp_path):
    r = run("""
        ssprop.reset_stats()
        print("first_error=%g" % error())
        first = ssprop.stats()
        print("first_provisional=%d" % first["provisional_calls"])
        print("first_timings=%d" % first["tactic_timings"])
        ssprop.wait_for_compiles()
        print("compiled=%d" % ssprop.stats()["kernels_compiled"])
        print("second_error=%g" % error())
        second = ssprop.stats()
        print("second_provisional=%d" % second["provisional_calls"])
        print("second_timings=%d" % second["tactic_timings"])
    """, tmp_path / "cache", SSPROP_LOG="1")
    v = values(r)
    assert float(v["first_error"]) < 1e-4 and float(v["second_error"]) < 1e-4
    # The first call ran the gathered stand-in and timed nothing.
    assert v["first_provisional"] == "1" and v["first_timings"] == "0"
    assert "while its kernels compile" in r.stderr
    assert "tactics that failed" not in r.stderr  # the background probe runs them all
    # Once compiled, the layer is verified, timed and resolved for good.
    assert int(v["compiled"]) > 0
    assert v["second_provisional"] == "1" and int(v["second_timings"]) > 0
    assert "runs generated:" in r.stderr or "runs gathered-aten\n" in r.stderr


def test_blocking_compiles_and_times_on_the_first_call(tmp_path, warm_kernels):
    r = run("""
        ssprop.reset_stats()
        print("error=%g" % error())
        s = ssprop.stats()
        print("provisional=%d timings=%d" % (s["provisional_calls"], s["tactic_timings"]))
    """, with_kernels(tmp_path, warm_kernels), SSPROP_JIT="blocking")
    v = values(r)
    assert float(v["error"]) < 1e-4
    assert v["provisional"] == "0" and int(v["timings"]) > 0


def test_exit_with_compiles_in_flight_is_clean(tmp_path):
    cache = tmp_path / "cache"
    r = run("""
        backward()
        print("pending=%d" % (ssprop.stats()["kernels_compiled"] == 0))
    """, cache)
    assert values(r)["pending"] == "1"  # the process exited while compiling
    leftovers = [p.name for p in cache.rglob("*") if ".tmp." in p.name]
    assert leftovers == []
    # What it left is whole: a blocking run uses it.
    r = run("""
        print("error=%g" % error())
    """, cache, SSPROP_JIT="blocking")
    assert float(values(r)["error"]) < 1e-4


def test_exit_without_pythons_hook_is_clean_after_a_first_job(tmp_path):
    """The library's own exit handler (what a C++ program has): registered
    after the first background job, it stops the compiles in flight before
    LLVM's statics go."""
    r = run("""
        import atexit
        atexit.unregister(torch.ops.ssprop._stop_compiles)
        backward()
        ssprop.wait_for_compiles()
        w2 = torch.randn(48, 32, 3, 3)  # another layer: a second job
        dy2 = torch.randn(8, 48, 32, 32)
        torch.ops.ssprop._conv2d_backward(dy2, x, w2, True, [1, 1], [1, 1], [1, 1], 1, KEEP,
                                          "topk", False, [True, True, True])
        print("provisional=%d" % ssprop.stats()["provisional_calls"])
    """, tmp_path / "cache")
    assert values(r)["provisional"] == "2"  # the second layer was compiling at exit
    assert [p.name for p in (tmp_path / "cache").rglob("*") if ".tmp." in p.name] == []


def test_a_wrong_candidate_is_rejected_never_chosen_and_remembered(tmp_path, warm_kernels):
    cache = with_kernels(tmp_path, warm_kernels)
    body = """
        spoiled = generated_tactics()[0]
        torch.ops.ssprop._corrupt_tactic(spoiled)
        ssprop.reset_stats()
        print("spoiled=" + spoiled)
        print("error=%g" % error())
        s = ssprop.stats()
        print("rejected=%d timings=%d" % (s["rejected_candidates"], s["tactic_timings"]))
    """
    r = run(body, cache, SSPROP_JIT="blocking", SSPROP_LOG="1")
    v = values(r)
    assert float(v["error"]) < 1e-4
    assert v["rejected"] == "1"
    assert f"ssprop: warning: {v['spoiled']} gives wrong results on layer" in r.stderr
    assert f"ssprop: tactic {v['spoiled']} for layer" not in r.stderr
    timing = next((cache / "timing").glob("*.txt")).read_text()
    assert f"\t{v['spoiled']}\trejected\n" in timing
    # The next process takes the cached choice: nothing timed or rejected.
    v = values(run(body, cache, SSPROP_JIT="blocking"))
    assert (v["rejected"], v["timings"], float(v["error"]) < 1e-4) == ("0", "0", True)


FORCED = """
    spoiled = generated_tactics()[0]
    torch.ops.ssprop._corrupt_tactic(spoiled)
    ssprop.set_tactic(spoiled)
    ssprop.reset_stats()
    print("error=%g" % error())
    print("rejected=%d" % ssprop.stats()["rejected_candidates"])
"""


def test_a_wrong_forced_candidate_gives_way_to_the_gathered_path(tmp_path, warm_kernels):
    r = run(FORCED, with_kernels(tmp_path, warm_kernels), SSPROP_JIT="blocking")
    v = values(r)
    assert float(v["error"]) < 1e-4 and v["rejected"] == "1"
    assert "the forced tactic runs gathered-aten instead" in r.stderr


def test_without_verification_the_spoiled_kernel_runs(tmp_path, warm_kernels):
    """SSPROP_VERIFY=0 switches verification off, and the hook does spoil."""
    r = run(FORCED, with_kernels(tmp_path, warm_kernels), SSPROP_JIT="blocking",
            SSPROP_VERIFY="0")
    v = values(r)
    assert float(v["error"]) > 0.01 and v["rejected"] == "0"


def test_the_switches_check_their_values():
    with pytest.raises(RuntimeError, match="ssprop: the JIT mode must be background or "
                                           "blocking, got 'eager'"):
        ssprop.set_jit_mode("eager")
    with ssprop.jit_mode("blocking"):
        assert ssprop.get_jit_mode() == "blocking"
    assert torch.ops.ssprop.is_verifying()
