"""The CUDA backward against the oracle; skipped, with the reason, without a GPU."""

import glob
import os

import pytest
import torch

import ssprop
from ssprop_oracle import conv_oracle, conv_topk_mask, k_of, linear_oracle, linear_topk_mask


def _close(got, want, what="", tol=1e-4):
    assert got.is_cuda, what
    scale = max(1.0, want.abs().max().item())
    err = (got.double() - want.double()).abs().max().item()
    assert err <= tol * scale, f"{what}: max error {err}"


# (stride, padding, dilation, groups, kernel): 3x3, strided, dilated, grouped,
# depthwise, and the plain 1x1 GEMM that also has the cuBLAS tactic.
TACTIC_LAYERS = [(1, 1, 1, 1, 3), (2, 1, 1, 1, 3), (1, 2, 2, 1, 3), (1, 1, 1, 2, 3),
                 (1, 1, 1, 16, 3), (1, 0, 1, 1, 1)]
# Relative tolerances: exact f32 FMAs; TF32 operands (10-bit mantissa);
# f16/bf16 operands are exact in the f64 oracle, the error is the rounding of
# the results to 11 and 8 significant bits.
PRECISIONS = {"f32": (torch.float32, False, 1e-4), "tf32": (torch.float32, True, 1e-2),
              "f16": (torch.float16, False, 4e-3), "bf16": (torch.bfloat16, False, 2e-2)}


def _tactic_grads(force_tactic, tactic, y, inputs, dy):
    force_tactic(tactic)
    return torch.autograd.grad(y, inputs, dy, retain_graph=True)


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA device: torch.cuda.is_available() is False (CPU-only "
                           "machine); the CUDA backward is not exercised")
class TestCuda:
    @pytest.fixture(autouse=True)
    def _no_tf32(self):
        # The oracle runs cuDNN: keep it an f32 reference.
        old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        yield
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old

    @pytest.mark.parametrize("groups", [1, 2, 8])
    @pytest.mark.parametrize("keep", [1.0, 0.5, 0.2])
    @pytest.mark.parametrize("weight_only", [False, True])
    def test_conv2d_matches_oracle(self, groups, keep, weight_only):
        dev = "cuda"
        for stride in (1, 2):
            for dilation in (1, 2):
                x = torch.randn(4, 8, 12, 12, device=dev, requires_grad=True)
                w = torch.randn(16, 8 // groups, 3, 3, device=dev, requires_grad=True)
                b = torch.randn(16, device=dev, requires_grad=True)
                y = torch.ops.ssprop.conv2d(x, w, b, stride, 1, dilation, groups, keep, "topk",
                                            weight_only)
                dy = torch.randn_like(y)
                grads = torch.autograd.grad(y, (x, w, b), dy)
                mask = conv_topk_mask(dy, keep)
                want = conv_oracle(x, w, b, stride, 1, dilation, groups, dy, mask, weight_only)
                for got, exp, name in zip(grads, want, ("dx", "dw", "db")):
                    _close(got, exp, f"stride {stride} dilation {dilation} {name}")

    def test_random_is_reproducible(self):
        x = torch.randn(4, 8, 10, 10, device="cuda", requires_grad=True)
        w = torch.randn(32, 8, 3, 3, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.25, "random")
        dy = torch.randn_like(y)
        torch.manual_seed(5)
        a = torch.autograd.grad(y, (w,), dy, retain_graph=True)[0]
        torch.manual_seed(5)
        b = torch.autograd.grad(y, (w,), dy)[0]
        assert torch.equal(a, b)
        assert int((a.abs().sum((1, 2, 3)) != 0).sum()) == k_of(0.25, 32)

    def test_linear_matches_oracle(self):
        x = torch.randn(32, 24, device="cuda", requires_grad=True)
        w = torch.randn(40, 24, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.linear(x, w, None, 0.3)
        dy = torch.randn_like(y)
        grads = torch.autograd.grad(y, (x, w), dy)
        want = linear_oracle(x, w, None, dy, linear_topk_mask(dy, 0.3))
        for got, exp in zip(grads, want):
            _close(got, exp)

    def test_empty_batch_gives_zero_gradients(self):
        # The generated kernels are bypassed: CUDA rejects empty grids.
        x = torch.randn(0, 8, 6, 6, device="cuda", requires_grad=True)
        w = torch.randn(16, 8, 3, 3, device="cuda", requires_grad=True)
        b = torch.randn(16, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, b, 1, 1, 1, 1, 0.25)
        gx, gw, gb = torch.autograd.grad(y, (x, w, b), torch.randn_like(y))
        assert gx.shape == x.shape and gw.is_cuda
        assert torch.equal(gw, torch.zeros_like(w)) and torch.equal(gb, torch.zeros_like(b))

    @pytest.mark.parametrize("precision", list(PRECISIONS))
    def test_every_tactic_matches_the_oracle(self, force_tactic, precision):
        # Every kernel variant: each generated tile, gathered cuDNN and cuBLAS.
        dtype, tf32, tol = PRECISIONS[precision]
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
        for stride, padding, dilation, groups, kernel in TACTIC_LAYERS:
            x = torch.randn(4, 16, 11, 11, device="cuda", dtype=dtype, requires_grad=True)
            w = torch.randn(32, 16 // groups, kernel, kernel, device="cuda", dtype=dtype,
                            requires_grad=True)
            b = torch.randn(32, device="cuda", dtype=dtype, requires_grad=True)
            y = torch.ops.ssprop.conv2d(x, w, b, stride, padding, dilation, groups, 0.25)
            dy = torch.randn_like(y)
            want = conv_oracle(*(t.detach().double() for t in (x, w, b)), stride, padding,
                               dilation, groups, dy.double(), conv_topk_mask(dy.double(), 0.25))
            tactics = torch.ops.ssprop._conv2d_tactics(dy, x, w, [stride] * 2, [padding] * 2,
                                                       [dilation] * 2, groups, 0.25, "topk",
                                                       False)
            assert "gathered-cudnn" in tactics and len(tactics) > 1
            for tactic in tactics:
                grads = _tactic_grads(force_tactic, tactic, y, (x, w, b), dy)
                for got, exp, name in zip(grads, want, ("dx", "dw", "db")):
                    assert got.dtype == dtype
                    _close(got, exp, f"{tactic} layer {stride, padding, dilation, groups, kernel} "
                                     f"{name}", tol)

    def test_tactic_choice_is_timed_once_and_persisted(self, force_tactic, monkeypatch, capfd):
        # SSPROP_LOG=1: one stderr line per timed layer. A timing cache left
        # by an earlier run may already hold this layer: then none at all.
        force_tactic(None)
        monkeypatch.setenv("SSPROP_LOG", "1")
        x = torch.randn(8, 24, 14, 14, device="cuda", requires_grad=True)
        w = torch.randn(48, 24, 3, 3, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.3)
        dy = torch.randn_like(y)
        want = conv_oracle(x, w, None, 1, 1, 1, 1, dy, conv_topk_mask(dy, 0.3))
        for run in range(2):
            capfd.readouterr()
            grads = torch.autograd.grad(y, (x, w), dy, retain_graph=True)
            timed = capfd.readouterr().err.count("ssprop: tactic ")
            assert timed <= 1 - run, f"run {run} timed {timed} times"
            for got, exp in zip(grads, want):
                _close(got, exp)
        cache = os.environ.get("SSPROP_CACHE_DIR") or os.path.expanduser("~/.cache/ssprop")
        lines = [line.split("\t") for f in glob.glob(os.path.join(cache, "timing", "*.txt"))
                 for line in open(f).read().splitlines()[1:]]
        assert any(t[1].startswith(("generated:", "gathered-cudnn")) for t in lines), lines

    def test_a_spoiled_generated_kernel_is_rejected_and_gives_way(self, force_tactic):
        x = torch.randn(4, 20, 11, 11, device="cuda", requires_grad=True)
        w = torch.randn(40, 20, 3, 3, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.5)
        dy = torch.randn_like(y)
        tactics = torch.ops.ssprop._conv2d_tactics(dy, x, w, [1, 1], [1, 1], [1, 1], 1, 0.5,
                                                   "topk", False)
        spoiled = next(t for t in tactics if t.startswith("generated:"))
        torch.ops.ssprop._corrupt_tactic(spoiled)
        try:
            force_tactic(spoiled)
            ssprop.reset_stats()
            grads = torch.autograd.grad(y, (x, w), dy)
            assert ssprop.stats()["rejected_candidates"] == 1
        finally:
            torch.ops.ssprop._corrupt_tactic(None)
        for got, exp in zip(grads, conv_oracle(x, w, None, 1, 1, 1, 1, dy,
                                               conv_topk_mask(dy, 0.5))):
            _close(got, exp)

    def test_background_jit_runs_gathered_then_switches(self):
        x = torch.randn(4, 24, 13, 13, device="cuda", requires_grad=True)
        w = torch.randn(56, 24, 3, 3, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.25)
        dy = torch.randn_like(y)
        want = conv_oracle(x, w, None, 1, 1, 1, 1, dy, conv_topk_mask(dy, 0.25))
        with ssprop.jit_mode("background"):
            ssprop.reset_stats()
            first = torch.autograd.grad(y, (x, w), dy, retain_graph=True)
            ssprop.wait_for_compiles()
            second = torch.autograd.grad(y, (x, w), dy)
            stats = ssprop.stats()
        # A timing cache from an earlier run may already hold this layer.
        assert stats["provisional_calls"] <= 1
        for grads in (first, second):
            for got, exp in zip(grads, want):
                _close(got, exp)

    def test_unknown_forced_tactic_is_a_clear_error(self, force_tactic):
        force_tactic("generated:nope")
        x = torch.randn(2, 8, 6, 6, device="cuda", requires_grad=True)
        w = torch.randn(16, 8, 3, 3, device="cuda", requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.5)
        with pytest.raises(RuntimeError, match="SSPROP_TACTIC=generated:nope is not a candidate "
                                               "for this layer; candidates: generated:"):
            y.sum().backward()

    def test_keep_one_is_dense(self):
        x = torch.randn(2, 4, 9, 9, device="cuda", dtype=torch.float64, requires_grad=True)
        w = torch.randn(6, 4, 3, 3, device="cuda", dtype=torch.float64, requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1)
        dy = torch.randn_like(y)
        got = torch.autograd.grad(y, (x, w), dy)
        ref = torch.autograd.grad(torch.nn.functional.conv2d(x, w, None, 1, 1), (x, w), dy)
        assert all(torch.equal(a, b) for a, b in zip(got, ref))
