"""The CPU backward on its generated kernels (JIT-compiled through MLIR, LLVM
and ORC), forced with ssprop.set_tactic so that they run even where the
gathered-ATen path would win the timing, against the oracle: dense autograd
with the unselected channels of grad_output zeroed, in f64."""

import pytest
import torch

import ssprop  # noqa: F401
from ssprop_oracle import conv_oracle, conv_topk_mask, index_mask, k_of

# (stride, padding, dilation, groups, kernel, input size): 3x3, strided,
# dilated, grouped, depthwise, 1x1 and strided 1x1 (ResNet's shortcut; rows of
# 24 interleave more than one vector of each output phase).
LAYERS = [(1, 1, 1, 1, 3, 10), (2, 1, 1, 1, 3, 10), (1, 2, 2, 1, 3, 10), (1, 1, 1, 2, 3, 10),
          (1, 1, 1, 16, 3, 10), (1, 0, 1, 1, 1, 10), (2, 0, 1, 1, 1, 10), (2, 0, 1, 1, 1, 24)]
# Relative tolerances: f32 FMAs in another order than the oracle's; bf16
# operands are exact in the f64 oracle, the error is the results' rounding
# to 8 significant bits.
DTYPES = {"f32": (torch.float32, 1e-4), "bf16": (torch.bfloat16, 2e-2)}


def _generated_tactics(dy, x, w, stride, padding, dilation, groups, keep):
    tactics = torch.ops.ssprop._conv2d_tactics(dy, x, w, [stride] * 2, [padding] * 2,
                                               [dilation] * 2, groups, keep, "topk", False)
    return [t for t in tactics if t.startswith("generated:")]


def _first_generated_tactic():
    """The first register tile of this CPU's instruction set (None: none)."""
    tactics = _generated_tactics(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4),
                                 torch.zeros(1, 1, 1, 1), 1, 0, 1, 1, 1.0)
    return tactics[0] if tactics else None


pytestmark = pytest.mark.skipif(
    _first_generated_tactic() is None,
    reason="this CPU has no generated kernels (they need AVX2 and FMA on x86-64)")


def _close(got, want, what, tol):
    assert got.dtype != torch.float64 and got.shape == want.shape, what
    scale = max(1.0, want.abs().max().item())
    err = (got.double() - want.double()).abs().max().item()
    assert err <= tol * scale, f"{what}: max error {err} (scale {scale})"


def _run(force_tactic, tactic, layer, dtype, keep, select="topk", weight_only=False,
         layout=lambda t: t):
    """The layer's gradients under `tactic`, and the oracle's for the channels
    the run kept (the top-k of dy's scores, or for `random` the channels whose
    weight gradient is not zero)."""
    stride, padding, dilation, groups, kernel, size = layer
    x = layout(torch.randn(3, 16, size, size, dtype=dtype)).requires_grad_(True)
    w = torch.randn(32, 16 // groups, kernel, kernel, dtype=dtype, requires_grad=True)
    b = torch.randn(32, dtype=dtype, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, b, stride, padding, dilation, groups, keep, select,
                                weight_only)
    dy = layout(torch.randn(y.shape, dtype=dtype))
    force_tactic(tactic)
    grads = torch.autograd.grad(y, (x, w, b), dy)
    if select == "topk":
        mask = conv_topk_mask(dy.double(), keep)
    else:
        kept = grads[1].abs().sum((1, 2, 3)).nonzero().flatten()
        assert len(kept) == k_of(keep, 32)
        mask = index_mask(kept, 32, torch.float64)
    want = conv_oracle(*(t.detach().double() for t in (x, w, b)), stride, padding, dilation,
                       groups, dy.double(), mask, weight_only)
    return grads, want


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("layer", LAYERS, ids=lambda l: "s%d_p%d_d%d_g%d_k%d_%dx%d" % (l + l[-1:]))
def test_generated_kernels_match_the_oracle(force_tactic, layer, dtype):
    dtype, tol = DTYPES[dtype]
    tactic = _first_generated_tactic()
    for keep in (0.25, 0.01, 0.9):  # k = 8, k = 1, k = 28 of 32
        grads, want = _run(force_tactic, tactic, layer, dtype, keep)
        for got, exp, name in zip(grads, want, ("dx", "dw", "db")):
            _close(got, exp, f"{tactic} keep {keep} {name}", tol)


@pytest.mark.parametrize("layer", [LAYERS[1], LAYERS[-1]], ids=["3x3_stride2", "1x1_stride2"])
def test_every_tile_matches_the_oracle(force_tactic, layer):
    tactics = _generated_tactics(torch.zeros(1, 32, 1, 1), torch.zeros(1, 16, 1, 1),
                                 torch.zeros(32, 16, 1, 1), 1, 0, 1, 1, 0.25)
    assert len(tactics) >= 2, tactics
    for tactic in tactics:
        grads, want = _run(force_tactic, tactic, layer, torch.float32, 0.25)
        for got, exp, name in zip(grads, want, ("dx", "dw", "db")):
            _close(got, exp, f"{tactic} {name}", 1e-4)


@pytest.mark.parametrize("case", ["weight_only", "random", "channels_last", "non_contiguous",
                                  "two_threads"])
def test_variants_match_the_oracle(force_tactic, case):
    layouts = {"channels_last": lambda t: t.to(memory_format=torch.channels_last),
               "non_contiguous": lambda t: torch.cat([t, t], 3)[..., ::2]}
    threads = torch.get_num_threads()
    torch.set_num_threads(2 if case == "two_threads" else threads)
    try:
        tactic = _first_generated_tactic()
        grads, want = _run(force_tactic, tactic, LAYERS[0], torch.float32, 0.25,
                           select="random" if case == "random" else "topk",
                           weight_only=case == "weight_only",
                           layout=layouts.get(case, lambda t: t))
    finally:
        torch.set_num_threads(threads)
    for got, exp, name in zip(grads, want, ("dx", "dw", "db")):
        _close(got, exp, f"{case} {name}", 1e-4)


def test_random_selection_follows_the_seed(force_tactic):
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    w = torch.randn(32, 16, 3, 3, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.25, "random")
    dy = torch.randn_like(y)
    force_tactic(_first_generated_tactic())
    runs = []
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        runs.append(torch.autograd.grad(y, (w,), dy, retain_graph=True)[0])
    assert torch.equal(runs[0], runs[1])
    kept = [set(r.abs().sum((1, 2, 3)).nonzero().flatten().tolist()) for r in runs]
    assert len(kept[0]) == 8 and kept[0] != kept[2]


def test_keep_one_is_the_dense_backward(force_tactic):
    # k = Cout takes ATen's dense backward whatever tactic is forced.
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    w = torch.randn(32, 16, 3, 3, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 1.0)
    dy = torch.randn_like(y)
    force_tactic(_first_generated_tactic())
    got = torch.autograd.grad(y, (x, w), dy)
    want = torch.autograd.grad(torch.nn.functional.conv2d(x, w, None, 1, 1), (x, w), dy)
    assert all(torch.equal(g, e) for g, e in zip(got, want))


def test_each_layer_logs_its_tactic(force_tactic, monkeypatch, capfd):
    force_tactic(None)
    monkeypatch.setenv("SSPROP_LOG", "1")
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    w = torch.randn(16, 8, 3, 3, requires_grad=True)
    y = torch.ops.ssprop.conv2d(x, w, None, 1, 1, 1, 1, 0.5)
    capfd.readouterr()
    torch.autograd.grad(y, (w,), torch.randn_like(y))
    # Too small to earn a compile back: the gathered path, without timing.
    assert " runs gathered-aten" in capfd.readouterr().err
