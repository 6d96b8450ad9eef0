"""torch.ops.ssprop.conv2d / linear: gradients against the oracle of
ssprop_oracle.py, keep = 1 against dense autograd bit for bit, random
selection, layouts, statistics, double backward, torch.library.opcheck."""

import itertools

import pytest
import torch
import torch.nn.functional as F

import ssprop
from ssprop_oracle import (assert_close, conv_oracle, conv_topk_mask, index_mask, k_of,
                           linear_oracle, linear_topk_mask)

KEEPS = [1.0, 0.5, 0.2, 1e-3]
DTYPES = [torch.float32, torch.float64]
# (in channels, out channels, groups): plain, grouped, depthwise (multiplier 2).
GROUPINGS = {"groups1": (4, 6, 1), "groups2": (4, 6, 2), "depthwise": (5, 10, 5)}


def run_conv(x, w, b, stride, padding, dilation, groups, keep, select="topk", weight_only=False):
    y = torch.ops.ssprop.conv2d(x, w, b, stride, padding, dilation, groups, keep, select,
                                weight_only)
    dy = torch.randn_like(y)
    inputs = [t for t in (x, w, b) if t is not None and t.requires_grad]
    g = iter(torch.autograd.grad(y, inputs, dy))
    grads = [next(g) if (t is not None and t.requires_grad) else None for t in (x, w, b)]
    return y, dy, grads


@pytest.mark.parametrize("keep", KEEPS)
@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv2d_grid(dtype, grouping, keep):
    cin, cout, groups = GROUPINGS[grouping]
    for stride, padding, dilation, bias, weight_only in itertools.product(
            (1, 2), (0, 1), (1, 2), (True, False), (False, True)):
        what = f"stride {stride} padding {padding} dilation {dilation} bias {bias} " \
               f"weight_only {weight_only}"
        x = torch.randn(2, cin, 7, 6, dtype=dtype, requires_grad=True)
        w = torch.randn(cout, cin // groups, 3, 3, dtype=dtype, requires_grad=True)
        b = torch.randn(cout, dtype=dtype, requires_grad=True) if bias else None
        y, dy, (gx, gw, gb) = run_conv(x, w, b, stride, padding, dilation, groups, keep,
                                       weight_only=weight_only)
        assert_close(y.detach(), F.conv2d(x, w, b, stride, padding, dilation, groups).detach(),
                     what + " forward")
        mask = conv_topk_mask(dy, keep)
        want = conv_oracle(x, w, b, stride, padding, dilation, groups, dy, mask, weight_only)
        for got, exp, name in zip((gx, gw, gb), want, ("grad_input", "grad_weight", "grad_bias")):
            assert_close(got, exp, f"{what} {name}")
        off = mask == 0
        assert gw[off].abs().sum().item() == 0.0
        if bias:
            assert gb[off].abs().sum().item() == 0.0
        # Exactly k rows of dW are nonzero (random data: no channel is all zero).
        assert int((gw.abs().sum((1, 2, 3)) != 0).sum()) == k_of(keep, cout)


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("select", ["topk", "random"])
def test_conv2d_keep_one_is_dense_bit_for_bit(groups, select):
    for stride, dilation, bias, weight_only in itertools.product((1, 2), (1, 2), (True, False),
                                                                 (False, True)):
        x = torch.randn(2, 8, 9, 8, dtype=torch.float64, requires_grad=True)
        w = torch.randn(12, 8 // groups, 3, 3, dtype=torch.float64, requires_grad=True)
        b = torch.randn(12, dtype=torch.float64, requires_grad=True) if bias else None
        y, dy, grads = run_conv(x, w, b, stride, 1, dilation, groups, 1.0, select, weight_only)
        y_ref = F.conv2d(x, w, b, stride, 1, dilation, groups)
        ref = torch.autograd.grad(y_ref, [t for t in (x, w, b) if t is not None], dy)
        assert torch.equal(y, y_ref)
        for got, exp in zip([g for g in grads if g is not None], ref):
            assert torch.equal(got, exp)


@pytest.mark.parametrize("keep", KEEPS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv2d_gemm_tactic_for_1x1_layers(force_tactic, dtype, keep):
    # The gemm-aten tactic: the matrix products of CUDA's cuBLAS tactic, on
    # ATen's CPU BLAS here; strided or padded 1x1 layers are no plain GEMM and
    # run the gathered path.
    for stride, padding, bias, weight_only, channels_last in itertools.product(
            (1, 2), (0, 1), (True, False), (False, True), (False, True)):
        force_tactic("gemm-aten" if (stride, padding) == (1, 0) else "gathered-aten")
        what = f"stride {stride} padding {padding} bias {bias} weight_only {weight_only} " \
               f"channels_last {channels_last}"
        x = torch.randn(3, 5, 6, 7, dtype=dtype)
        if channels_last:
            x = x.to(memory_format=torch.channels_last)
        x.requires_grad_(True)
        w = torch.randn(8, 5, 1, 1, dtype=dtype, requires_grad=True)
        b = torch.randn(8, dtype=dtype, requires_grad=True) if bias else None
        _, dy, grads = run_conv(x, w, b, stride, padding, 1, 1, keep, weight_only=weight_only)
        want = conv_oracle(x, w, b, stride, padding, 1, 1, dy, conv_topk_mask(dy, keep),
                           weight_only)
        for got, exp, name in zip(grads, want, ("grad_input", "grad_weight", "grad_bias")):
            assert_close(got, exp, f"{what} {name}")


def test_conv2d_gemm_tactic_selects_like_the_gathered_path(force_tactic):
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(16, 6, 1, 1, dtype=torch.float64, requires_grad=True)
    grads = {}
    for tactic in ("gathered-aten", "gemm-aten"):
        force_tactic(tactic)
        torch.manual_seed(3)
        y = torch.ops.ssprop.conv2d(x, w, None, 1, 0, 1, 1, 0.25, "random")
        grads[tactic] = torch.autograd.grad(y, (x, w), torch.ones_like(y))
    for gemm, gathered in zip(grads["gemm-aten"], grads["gathered-aten"]):
        assert_close(gemm, gathered)
    assert int((grads["gemm-aten"][1].abs().sum((1, 2, 3)) != 0).sum()) == k_of(0.25, 16)


def test_conv2d_tactics_on_the_cpu():
    def tactics(kernel, stride, groups=1):
        x, w = torch.randn(2, 4, 6, 6), torch.randn(8, 4 // groups, kernel, kernel)
        dy = torch.ops.ssprop.conv2d(x, w, None, stride, 0, 1, groups)
        return torch.ops.ssprop._conv2d_tactics(dy, x, w, [stride] * 2, [0, 0], [1, 1], groups,
                                                0.5, "topk", False)
    # f32 on a CPU with AVX2 and FMA: the generated tiles first.
    generated = [t for t in tactics(1, 1) if t.startswith("generated:")]
    assert tactics(1, 1) == generated + ["gathered-aten", "gemm-aten"]
    assert tactics(1, 2) == tactics(3, 1) == tactics(1, 1, groups=2) == \
        generated + ["gathered-aten"]


def test_forcing_a_tactic_the_layer_has_not_is_a_clear_error(force_tactic):
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(8, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.5)
    force_tactic("gemm-aten")  # a 3x3 layer is no plain GEMM
    with pytest.raises(RuntimeError, match="SSPROP_TACTIC=gemm-aten is not a candidate for "
                                           "this layer; candidates: gathered-aten$"):
        torch.autograd.grad(y, (w,), torch.ones_like(y), retain_graph=True)
    force_tactic("cublas")  # another device's tactic: ignored here
    torch.autograd.grad(y, (w,), torch.ones_like(y))


def test_conv2d_many_groups_uneven_selection():
    x = torch.randn(2, 8, 9, 9, dtype=torch.float64, requires_grad=True)
    w = torch.randn(32, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(32, dtype=torch.float64, requires_grad=True)
    for keep in (0.25, 0.1, 0.6):
        y, dy, grads = run_conv(x, w, b, 1, 1, 2, 4, keep)
        want = conv_oracle(x, w, b, 1, 1, 2, 4, dy, conv_topk_mask(dy, keep))
        for got, exp in zip(grads, want):
            assert_close(got, exp, f"keep {keep}")


def test_conv2d_first_layer_has_no_input_gradient():
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    w = torch.randn(6, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, keep=0.5)
    dy = torch.randn_like(y)
    (gw,) = torch.autograd.grad(y, [w], dy)
    assert_close(gw, conv_oracle(x, w, None, 1, 0, 1, 1, dy, conv_topk_mask(dy, 0.5))[1])


def _random_grads(seed, x, w, b, keep, groups=2):
    y = torch.ops.ssprop.conv2d(x, w, b, 1, 0, 1, groups, keep, "random")
    dy = torch.ones_like(y) + 0.1 * torch.arange(y.numel(), dtype=y.dtype).view_as(y).sin()
    torch.manual_seed(seed)
    grads = torch.autograd.grad(y, (x, w, b), dy)
    return dy, grads


def test_conv2d_random_reproducible_and_torch_randperm():
    x = torch.randn(2, 4, 7, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(16, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(16, dtype=torch.float64, requires_grad=True)
    dy, a = _random_grads(1, x, w, b, 0.25)
    _, a2 = _random_grads(1, x, w, b, 0.25)
    _, c = _random_grads(2, x, w, b, 0.25)
    assert all(torch.equal(p, q) for p, q in zip(a, a2))
    assert not torch.equal(a[1], c[1])
    # The kept channels: the first k of torch.randperm(Cout) after the same seed.
    torch.manual_seed(1)
    idx = torch.randperm(16)[:k_of(0.25, 16)]
    want = conv_oracle(x, w, b, 1, 0, 1, 2, dy, index_mask(idx, 16, dy.dtype))
    for got, exp in zip(a, want):
        assert_close(got, exp)


LAYOUTS = ["channels_last", "strided", "transposed", "weight_channels_last"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv2d_channels_last_and_non_contiguous(layout):
    d = torch.float64
    if layout == "channels_last":
        x = torch.randn(2, 6, 9, 8, dtype=d).to(memory_format=torch.channels_last)
        w = torch.randn(8, 3, 3, 3, dtype=d).to(memory_format=torch.channels_last)
    elif layout == "strided":
        x = torch.randn(2, 12, 9, 16, dtype=d)[:, ::2, :, ::2]
        w = torch.randn(8, 3, 3, 6, dtype=d)[..., ::2]
    elif layout == "transposed":
        x = torch.randn(2, 6, 8, 9, dtype=d).transpose(2, 3)
        w = torch.randn(8, 3, 3, 3, dtype=d).transpose(2, 3)
    else:
        x = torch.randn(2, 6, 9, 8, dtype=d)
        w = torch.randn(8, 3, 3, 3, dtype=d).to(memory_format=torch.channels_last)
    x.requires_grad_(True)
    w.requires_grad_(True)
    b = torch.randn(8, dtype=d, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, b, 2, 1, 1, 2, 0.5)
    assert_close(y.detach(), F.conv2d(x, w, b, 2, 1, 1, 2).detach())
    if layout != "strided" and layout != "transposed":
        assert y.is_contiguous(memory_format=torch.channels_last)
    dy = torch.randn(y.shape[0], y.shape[1], y.shape[3], y.shape[2], dtype=d).transpose(2, 3)
    grads = torch.autograd.grad(y, (x, w, b), dy)
    want = conv_oracle(x, w, b, 2, 1, 1, 2, dy, conv_topk_mask(dy, 0.5))
    for got, exp in zip(grads, want):
        assert_close(got, exp, layout)
    assert grads[0].shape == x.shape


@pytest.mark.parametrize("keep", KEEPS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_linear_grid(dtype, keep):
    for lead, bias, weight_only in itertools.product(((16,), (3, 5)), (True, False),
                                                     (False, True)):
        x = torch.randn(*lead, 12, dtype=dtype, requires_grad=True)
        w = torch.randn(10, 12, dtype=dtype, requires_grad=True)
        b = torch.randn(10, dtype=dtype, requires_grad=True) if bias else None
        y = torch.ops.ssprop.linear(x, w, b, keep, "topk", weight_only)
        assert_close(y.detach(), F.linear(x, w, b).detach())
        dy = torch.randn_like(y)
        inputs = [t for t in (x, w, b) if t is not None]
        grads = torch.autograd.grad(y, inputs, dy)
        want = linear_oracle(x, w, b, dy, linear_topk_mask(dy, keep), weight_only)
        for got, exp in zip(grads, [t for t in want if t is not None]):
            assert_close(got, exp, f"lead {lead} bias {bias} weight_only {weight_only}")
        if keep == 1.0 and dtype == torch.float64:
            ref = torch.autograd.grad(F.linear(x, w, b), inputs, dy)
            assert all(torch.equal(p, q) for p, q in zip(grads, ref))


def test_linear_random_follows_torch_randperm():
    x = torch.randn(8, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(20, 6, dtype=torch.float64, requires_grad=True)
    y = torch.ops.ssprop.linear(x, w, None, 0.3, "random")
    dy = torch.randn_like(y)
    torch.manual_seed(77)
    grads = torch.autograd.grad(y, (x, w), dy)
    torch.manual_seed(77)
    mask = index_mask(torch.randperm(20)[:6], 20, dy.dtype)
    for got, exp in zip(grads, linear_oracle(x, w, None, dy, mask)):
        assert_close(got, exp)


def test_stats_count_dense_and_actual_flops():
    ssprop.reset_stats()
    assert ssprop.stats() == {"dense_backward_flops": 0.0, "actual_backward_flops": 0.0,
                              "kernels_compiled": 0, "memory_hits": 0, "disk_hits": 0,
                              "compile_ms": 0.0, "tactic_timings": 0, "provisional_calls": 0,
                              "rejected_candidates": 0}
    # N 2, Cin 4, Cout 10, 3x3, output 5x5: 2*2*25*4*9 = 3600 per output channel.
    x = torch.randn(2, 4, 7, 7, requires_grad=True)
    w = torch.randn(10, 4, 3, 3, requires_grad=True)
    torch.ops.ssprop.conv2d(x, w, None, keep=0.3).sum().backward()
    s = ssprop.stats()
    assert s["dense_backward_flops"] == 2 * 3600 * 10
    assert s["actual_backward_flops"] == 2 * 3600 * 3
    ssprop.reset_stats()
    torch.ops.ssprop.conv2d(x, w, None, keep=0.3, weight_only=True).sum().backward()
    assert ssprop.stats()["actual_backward_flops"] == 3600 * 3 + 3600 * 10
    ssprop.reset_stats()
    xl = torch.randn(3, 4, 5, requires_grad=True)
    wl = torch.randn(8, 5, requires_grad=True)
    torch.ops.ssprop.linear(xl, wl, None, 0.5).sum().backward()
    s = ssprop.stats()
    assert s["dense_backward_flops"] == 2 * (2 * 12 * 5 * 8)
    assert s["actual_backward_flops"] == 2 * (2 * 12 * 5 * 4)
    ssprop.reset_stats()


def _empty_batch_grads(op, dense_op, x, w, b, **kwargs):
    """The ssprop op's and the dense op's gradients for an empty batch."""
    y = op(x, w, b, **kwargs)
    dy = torch.randn_like(y)
    got = torch.autograd.grad(y, (x, w, b), dy)
    want = torch.autograd.grad(dense_op(x, w, b), (x, w, b), dy)
    return y, got, want


@pytest.mark.parametrize("select", ["topk", "random"])
@pytest.mark.parametrize("weight_only", [False, True])
def test_empty_batch_gives_the_dense_zero_gradients(select, weight_only):
    # Mean |dy| over an empty batch is NaN for every channel: selection must
    # still succeed and the gradients be what dense autograd gives (zeros).
    x = torch.randn(0, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    y, got, want = _empty_batch_grads(
        lambda *t: torch.ops.ssprop.conv2d(*t, 1, 1, 1, 1, 0.5, select, weight_only),
        lambda *t: F.conv2d(*t, 1, 1), x, w, b)
    assert y.shape == (0, 6, 6, 6)
    for g, ref in zip(got, want):
        assert g.shape == ref.shape and torch.equal(g, ref)
    assert torch.equal(got[1], torch.zeros_like(w))
    xl = torch.randn(0, 5, dtype=torch.float64, requires_grad=True)
    wl = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    bl = torch.randn(3, dtype=torch.float64, requires_grad=True)
    _, got, want = _empty_batch_grads(
        lambda *t: torch.ops.ssprop.linear(*t, 0.5, select, weight_only), F.linear, xl, wl, bl)
    for g, ref in zip(got, want):
        assert g.shape == ref.shape and torch.equal(g, ref)


def test_double_backward_is_a_clear_error():
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, keep=0.5)
    (gx,) = torch.autograd.grad(y.pow(2).sum(), (x,), create_graph=True)
    with pytest.raises(RuntimeError, match="ssprop::conv2d: double backward is not supported"):
        gx.sum().backward()
    xl = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    wl = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    (gw,) = torch.autograd.grad(torch.ops.ssprop.linear(xl, wl, None, 0.5).pow(2).sum(), (wl,),
                                create_graph=True)
    with pytest.raises(RuntimeError, match="ssprop::linear: double backward is not supported"):
        gw.sum().backward()


def test_meta_and_fake_tensors():
    y = torch.ops.ssprop.conv2d(torch.empty(8, 16, 32, 30, device="meta"),
                                torch.empty(32, 8, 3, 3, device="meta"), None, 2, 1, 2, 2, 0.4)
    assert y.shape == (8, 32, 15, 14) and y.is_meta
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        x = torch.empty(2, 4, 8, 8).to(memory_format=torch.channels_last)
        y = torch.ops.ssprop.conv2d(x, torch.empty(6, 4, 3, 3), None, 2, 1)
        assert y.shape == (2, 6, 4, 4)
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert torch.ops.ssprop.linear(torch.empty(3, 7, 5), torch.empty(4, 5), None).shape == (3, 7, 4)


OPCHECK_CASES = {
    "conv_bias": lambda: (torch.ops.ssprop.conv2d.default,
                          (torch.randn(2, 4, 8, 8, requires_grad=True),
                           torch.randn(6, 4, 3, 3, requires_grad=True),
                           torch.randn(6, requires_grad=True), [1, 1], [1, 1], [1, 1], 1, 0.5)),
    "conv_channels_last_strided": lambda: (
        torch.ops.ssprop.conv2d.default,
        (torch.randn(2, 4, 8, 8).to(memory_format=torch.channels_last).requires_grad_(),
         torch.randn(6, 4, 3, 3, requires_grad=True), None, [2, 2], [0, 0], [1, 1], 1, 0.5)),
    "conv_grouped_dilated_weight_only": lambda: (
        torch.ops.ssprop.conv2d.default,
        (torch.randn(2, 4, 9, 9, requires_grad=True), torch.randn(6, 2, 3, 3, requires_grad=True),
         torch.randn(6, requires_grad=True), [1, 1], [1, 1], [2, 2], 2, 0.34, "topk", True)),
    "linear_3d": lambda: (torch.ops.ssprop.linear.default,
                          (torch.randn(3, 7, 5, requires_grad=True),
                           torch.randn(4, 5, requires_grad=True),
                           torch.randn(4, requires_grad=True), 0.5)),
    "linear_dense": lambda: (torch.ops.ssprop.linear.default,
                             (torch.randn(6, 5, requires_grad=True),
                              torch.randn(4, 5, requires_grad=True), None, 1.0)),
}


@pytest.mark.parametrize("case", list(OPCHECK_CASES))
def test_opcheck(case):
    op, args = OPCHECK_CASES[case]()
    result = torch.library.opcheck(op, args)
    assert all(v == "SUCCESS" for v in result.values()), result


def test_torch_compile_trains_like_eager():
    torch.manual_seed(3)
    model = ssprop.convert(torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3, groups=2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 5)).double(), keep=0.5)
    x = torch.randn(4, 3, 6, 6, dtype=torch.float64)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True, dynamic=False)
    out = compiled(x)
    out.sum().backward()
    g_compiled = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for a, b in zip(g_compiled, (p.grad for p in model.parameters())):
        assert_close(a, b)


def test_kept_channels_is_the_library_rule():
    assert [ssprop.kept_channels(k, 10) for k in (1.0, 0.7, 0.29, 1e-3)] == [10, 7, 2, 1]
    assert ssprop.kept_channels(0.29, 100) == 28  # 0.29 * 100 = 28.999...
    with pytest.raises(RuntimeError, match=r"ssprop::kept_channels: keep must be in \(0, 1\], "
                                           r"got 0"):
        ssprop.kept_channels(0.0, 10)
    with pytest.raises(RuntimeError, match="ssprop::kept_channels: channels must be >= 1, got 0"):
        ssprop.kept_channels(0.5, 0)


def test_the_forced_tactic_starts_as_SSPROP_TACTIC_and_can_be_changed():
    import os
    import subprocess
    import sys
    code = "import ssprop; print(ssprop.get_tactic())"
    for env, want in (("cublas", "cublas"), ("", "None")):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "SSPROP_TACTIC": env}, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == want
    before = ssprop.get_tactic()
    with ssprop.tactic("cublas"):
        assert ssprop.get_tactic() == "cublas"
        with ssprop.tactic(None):
            assert ssprop.get_tactic() is None
    assert ssprop.get_tactic() == before


def test_ties_and_nan_keep_the_lower_channels():
    # Equal scores: the lower channels win; NaN ranks above +inf (docs/reliability.md).
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    w = torch.randn(6, 3, 1, 1, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, 1, 0, 1, 1, 0.5)
    for dy in (torch.ones_like(y), torch.full_like(y, float("nan"))):
        (gw,) = torch.autograd.grad(y, (w,), dy, retain_graph=True)
        kept = (gw.flatten(1) != 0).any(1).nonzero().flatten().tolist()
        assert kept == [0, 1, 2], (dy[0, :, 0, 0], kept)
    dy = torch.ones_like(y)
    dy[:, 4] = float("nan")
    dy[:, 5] = float("inf")
    (gw,) = torch.autograd.grad(y, (w,), dy, retain_graph=True)
    kept = (gw.flatten(1) != 0).any(1).nonzero().flatten().tolist()
    assert kept == [0, 4, 5]


def test_autocast_runs_the_ops_in_the_autocast_dtype_like_torch_nn():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6)
    conv, lin = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Linear(6, 5)
    sconv = ssprop.nn.Conv2d(3, 4, 3, padding=1)
    slin = ssprop.nn.Linear(6, 5)
    sconv.load_state_dict(conv.state_dict())
    slin.load_state_dict(lin.state_dict())
    for dense, sparse, inp in ((conv, sconv, x), (lin, slin, x[:, 0, 0])):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            want, got = dense(inp), sparse(inp)
        assert got.dtype == want.dtype == torch.bfloat16
        assert_close(got.float(), want.float())
        want.float().sum().backward()
        got.float().sum().backward()  # keep = 1: dense autocast's gradients
        for p, q in zip(dense.parameters(), sparse.parameters()):
            assert q.grad.dtype == p.grad.dtype == torch.float32
            assert_close(q.grad, p.grad)


def test_a_convolution_without_input_channels_is_as_torch():
    x = torch.randn(2, 0, 5, 5, requires_grad=True)
    w = torch.randn(4, 0, 3, 3, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, b, 1, 1, 1, 1, 0.5)
    want = F.conv2d(x, w, b, 1, 1)
    assert y.shape == want.shape == (2, 0, 5, 5)
    meta = torch.ops.ssprop.conv2d(x.to("meta"), w.to("meta"), b.to("meta"), 1, 1, 1, 1, 0.5)
    assert meta.shape == y.shape
    got = torch.autograd.grad(y.sum(), (x, w, b))
    exp = torch.autograd.grad(want.sum(), (x, w, b))
    for g, e in zip(got, exp):
        assert g.shape == e.shape and torch.equal(g, e)


@pytest.mark.parametrize("dilation,padding,what", [
    (2 ** 63 - 1, 0, "padding 0, dilation 9223372036854775807"),
    (1, 2 ** 62, "padding 4611686018427387904, dilation 1"),
])
def test_overflowing_geometry_is_an_error(dilation, padding, what):
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"ssprop::conv2d: the convolution's output size "
                                           r"overflows 64-bit arithmetic in dimension 2: input "
                                           r"size 5, " + what + ", kernel size 3"):
        torch.ops.ssprop.conv2d(x, w, None, 1, padding, dilation)


def test_the_backward_ops_check_the_whole_shape_of_grad_output():
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    bad = torch.randn(2, 4, 7, 8)  # the output is [2, 4, 6, 6]
    with pytest.raises(RuntimeError, match=r"ssprop::conv2d: grad_output must have the shape "
                                           r"of the output, \[2, 4, 6, 6\], got \[2, 4, 7, 8\]"):
        torch.ops.ssprop._conv2d_backward(bad, x, w, False, [1, 1], [0, 0], [1, 1], 1, 0.5,
                                          "topk", False, [True, True, False])
    xl, wl = torch.randn(2, 3, 5), torch.randn(4, 5)
    with pytest.raises(RuntimeError, match=r"ssprop::linear: grad_output must have the shape "
                                           r"of the output, \[2, 3, 4\], got \[2, 6, 4\]"):
        torch.ops.ssprop._linear_backward(torch.randn(2, 6, 4), xl, wl, False, 0.5, "topk",
                                          False, [True, True, False])


@pytest.mark.parametrize("kwargs,message", [
    (dict(weight_only="False"), "ssprop.nn.Conv2d: weight_only must be a bool, got 'False'"),
    (dict(keep=True), r"ssprop.nn.Conv2d: keep must be a number in \(0, 1\], got True"),
])
def test_modules_reject_what_they_would_coerce(kwargs, message):
    with pytest.raises(TypeError, match=message):
        ssprop.nn.Conv2d(2, 4, 3, **kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(padding=1.9), "padding must be an int or a sequence of ints, got 1.9"),
    (dict(stride=(1, 1.5)), r"stride must be an int or a sequence of ints, got \(1, 1.5\)"),
    (dict(groups=1.0), "groups must be an int, got 1.0"),
])
def test_functional_rejects_what_torch_rejects(kwargs, message):
    x, w = torch.randn(1, 2, 5, 5), torch.randn(4, 2, 3, 3)
    with pytest.raises(TypeError, match="ssprop.nn.functional.conv2d: " + message):
        ssprop.nn.functional.conv2d(x, w, **kwargs)
