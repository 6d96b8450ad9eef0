"""The CUDA backward against the oracle; skipped, with the reason, without a GPU."""

import pytest
import torch

import ssprop  # noqa: F401
from ssprop_oracle import conv_oracle, conv_topk_mask, k_of, linear_oracle, linear_topk_mask


def _close(got, want, what=""):
    assert got.is_cuda, what
    scale = max(1.0, want.abs().max().item())
    err = (got.double() - want.double()).abs().max().item()
    assert err <= 1e-4 * scale, f"{what}: max error {err}"


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

    def test_keep_one_is_dense(self):
        x = torch.randn(2, 4, 9, 9, device="cuda", dtype=torch.float64, requires_grad=True)
        w = torch.randn(6, 4, 3, 3, device="cuda", dtype=torch.float64, requires_grad=True)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 1)
        dy = torch.randn_like(y)
        got = torch.autograd.grad(y, (x, w), dy)
        ref = torch.autograd.grad(torch.nn.functional.conv2d(x, w, None, 1, 1), (x, w), dy)
        assert all(torch.equal(a, b) for a, b in zip(got, ref))
