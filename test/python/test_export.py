"""ssprop.export_ir: the recorded layers against shapes computed here by the
convolution formula, the exact text of an op, locations, a scheduler's keeps,
bad input, and the IR through ssprop-opt and ssprop-compile."""

import re
import subprocess
from pathlib import Path

import pytest
import torch
from torch import nn

import ssprop
from ssprop.export import conv_calls, network_layers
from ssprop.nn import Conv2d


def out_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class Variants(nn.Module):
    """Every kind of convolution the IR describes; without its padding modes,
    which LibTorch's ssprop layer lacks, the network of
    test/torch/ExportIRTest.cpp."""

    def __init__(self, padding_modes=True):
        super().__init__()
        self.stem = Conv2d(3, 8, 3, padding=1)
        self.grouped = Conv2d(8, 12, 3, stride=2, padding=1, groups=4, bias=False)
        self.depthwise = Conv2d(12, 12, 5, padding=2, groups=12)
        self.dilated = Conv2d(12, 16, 3, padding=2, dilation=2, bias=False, select="random",
                              weight_only=True)
        self.pointwise = Conv2d(16, 6, 1, keep=0.5)
        self.tall = Conv2d(6, 5, (3, 1), stride=(2, 1), padding=(0, 1))
        if padding_modes:
            self.reflect = Conv2d(5, 4, 3, padding=1, padding_mode="reflect")
            self.same = Conv2d(4, 4, 4, padding="same")
        self.head = nn.Linear(4 if padding_modes else 5, 2)

    def forward(self, x):
        for conv in self.children():
            if isinstance(conv, Conv2d):
                x = torch.relu(conv(x))
        return self.head(x.mean((2, 3)))


N, H, W = 2, 17, 15


def expected_layers():
    """(name, input, weight, output, stride, padding, dilation, groups, bias,
    needs input grad) per layer, by the formula."""
    h1, w1 = H, W  # stem: 3x3, padding 1
    h2, w2 = out_size(h1, 3, 2, 1), out_size(w1, 3, 2, 1)  # grouped: stride 2
    h5, w5 = out_size(h2, 3, 2, 0), out_size(w2, 1, 1, 1)  # tall: (3, 1), stride (2, 1)
    rows = [
        ("stem", (N, 3, H, W), (8, 3, 3, 3), (N, 8, h1, w1), (1, 1), (1, 1), (1, 1), 1, True,
         False),
        ("grouped", (N, 8, h1, w1), (12, 2, 3, 3), (N, 12, h2, w2), (2, 2), (1, 1), (1, 1), 4,
         False, True),
        ("depthwise", (N, 12, h2, w2), (12, 1, 5, 5), (N, 12, h2, w2), (1, 1), (2, 2), (1, 1),
         12, True, True),
        ("dilated", (N, 12, h2, w2), (16, 12, 3, 3),
         (N, 16, out_size(h2, 3, 1, 2, 2), out_size(w2, 3, 1, 2, 2)), (1, 1), (2, 2), (2, 2),
         1, False, True),
        ("pointwise", (N, 16, h2, w2), (6, 16, 1, 1), (N, 6, h2, w2), (1, 1), (0, 0), (1, 1), 1,
         True, True),
        ("tall", (N, 6, h2, w2), (5, 6, 3, 1), (N, 5, h5, w5), (2, 1), (0, 1), (1, 1), 1, True,
         True),
        # reflect: the input padded by 1 first, the convolution unpadded.
        ("reflect", (N, 5, h5 + 2, w5 + 2), (4, 5, 3, 3), (N, 4, h5, w5), (1, 1), (0, 0),
         (1, 1), 1, True, True),
        # "same" with an even kernel: one extra row and column on the bottom
        # right, then padding 1 on each side.
        ("same", (N, 4, h5 + 1, w5 + 1), (4, 4, 4, 4), (N, 4, h5, w5), (1, 1), (1, 1), (1, 1), 1,
         True, True),
    ]
    return rows


@pytest.fixture
def images():
    return torch.randn(N, 3, H, W).contiguous(memory_format=torch.channels_last)


def test_records_every_variant(images):
    calls = [call for _, call in conv_calls(Variants(), images)]
    got = [(c.name, c.input_shape, c.weight_shape, c.output_shape, c.stride, c.padding,
            c.dilation, c.groups, c.has_bias, c.needs_input_grad) for c in calls]
    assert got == expected_layers()
    assert [(c.keep, c.select, c.weight_only) for c in calls if c.name in ("dilated", "pointwise")] \
        == [(1.0, "random", True), (0.5, "topk", False)]
    assert all(c.dtype == torch.float32 for c in calls)


def test_meta_model_gives_the_same_layers(images):
    model = Variants()
    meta = [c for _, c in conv_calls(model.to("meta"), images.to("meta"))]
    assert [(c.name, c.input_shape, c.output_shape) for c in meta] == \
        [row[:2] + row[3:4] for row in expected_layers()]


def test_exact_op_text_and_locations(images):
    text = ssprop.export_ir(Variants(), images, name="variants")
    assert text.splitlines()[1] == "func.func @variants_backward("
    # Backward order: the last layer first.
    names = [row[0] for row in expected_layers()]
    assert re.findall(r'loc\("([^"]*)"\)', text) == names[::-1]
    h2, w2 = out_size(H, 3, 2, 1), out_size(W, 3, 2, 1)
    dy = f"tensor<2x16x{h2}x{w2}xf32>"
    x, w, b = f"tensor<2x12x{h2}x{w2}xf32>", "tensor<16x12x3x3xf32>", "tensor<16xf32>"
    index = names[::-1].index("dilated")
    op = (f"  %g{index}:3 = ssprop.conv2d_backward %dy{index}, %x{index}, %w{index}\n"
          f"      stride = [1, 1] padding = [2, 2] dilation = [2, 2] groups = 1\n"
          f"      sparsity = <keep = 1.0, select = random, grads = weight_only>\n"
          f"      : ({dy}, {x}, {w})\n"
          f"      -> ({x}, {w}, {b}) loc(\"dilated\")\n")
    assert op in text
    # No input gradient for the stem (its input is the images), no bias
    # gradient without a bias.
    returned = text.split("  return ")[1].split("\n")[0].split(", ")
    stem, grouped = len(names) - 1, len(names) - 2
    assert f"%g{stem}#0" not in returned and f"%g{stem}#2" in returned
    assert f"%g{grouped}#0" in returned and f"%g{grouped}#2" not in returned
    assert f"%g{index}#2" not in returned


def test_keep_argument_and_kept_count_dedup():
    model = nn.Sequential(Conv2d(3, 10, 3), nn.ReLU(), Conv2d(10, 2, 1))
    text = ssprop.export_ir(model, torch.randn(1, 3, 8, 8), keep=[0.25, 1.0, 0.35, 0.5])
    keeps = re.findall(r"keep = ([^,]+), select", text)
    # Cout 2: k = 2, 1, 1, 1 -> keeps 1.0, 0.5; Cout 10: k = 10, 5, 3, 2.
    assert keeps == ["1.0", "0.5", "1.0", "0.5", "0.35", "0.25"]
    assert re.findall(r'loc\("([^"]*)"\)', text) == ["2", "2", "0", "0", "0", "0"]


def test_scheduler_keeps():
    model = nn.Sequential(Conv2d(3, 8, 3), nn.ReLU(), Conv2d(8, 2, 1))
    other = Conv2d(3, 3, 1, keep=0.7)
    model.add_module("other", other)  # not run by Sequential's forward: not exported
    scheduler = ssprop.DropScheduler(list(model)[:3:2], "linear", 1.0, 0.2, total_epochs=5)
    text = ssprop.export_ir(model[:3], torch.randn(1, 3, 8, 8), scheduler=scheduler)
    # keeps 1.0, 0.8, 0.6, 0.4, 0.2: Cout 8 -> k = 8, 6, 4, 3, 1; Cout 2 -> k = 2, 1, 1, 1, 1.
    wanted = [scheduler.keep_at(e) for e in range(5)]
    expected = [wanted[0], wanted[1]] + wanted
    assert re.findall(r"keep = ([^,]+), select", text) == [ssprop.ops.format_keep(k)
                                                           for k in expected]
    assert len(re.findall(r"conv2d_backward", text)) == 7


def test_layers_outside_the_scheduler_keep_their_own_keep():
    model = nn.Sequential(Conv2d(3, 10, 1, keep=0.3), Conv2d(10, 10, 1))
    scheduler = ssprop.DropScheduler([model[1]], "constant", 0.5)
    text = ssprop.export_ir(model, torch.randn(1, 3, 4, 4), scheduler=scheduler)
    assert re.findall(r"keep = ([^,]+), select", text) == ["0.5", "0.3"]


def test_the_cpp_exporter_writes_the_same_ir(images):
    """ssprop::exportIR of the same network (test/torch/ExportIRTest.cpp)
    must equal this file too."""
    text = ssprop.export_ir(Variants(padding_modes=False), images, keep=[0.25, 1.0, 0.5],
                            name="variants")
    path = Path(__file__).parents[1] / "torch" / "Inputs" / "variants_backward.mlir"
    assert text == path.read_text(), f"{path} is stale"


def test_keep_literals_match_the_library():
    assert [ssprop.ops.format_keep(k) for k in (0.4, 1.0, 1e-8, 1 / 3)] == \
        ["0.4", "1.0", "1.0e-08", "0.3333333333333333"]


def test_export_leaves_the_model_and_random_state_alone(images):
    model = nn.Sequential(Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5))
    before = [b.clone() for b in model.buffers()]
    torch.manual_seed(3)
    ssprop.export_ir(model, images)
    after_export = torch.rand(4)
    torch.manual_seed(3)
    assert torch.equal(torch.rand(4), after_export)
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))
    assert not model._forward_pre_hooks and not model[0]._forward_pre_hooks


def test_writes_the_file(tmp_path, images):
    path = tmp_path / "variants.mlir"
    assert ssprop.export_ir(Variants(), images, path=path) == path.read_text()


@pytest.mark.parametrize("model, inputs, kwargs, message", [
    (nn.Sequential(nn.Conv2d(3, 4, 3)), torch.randn(1, 3, 8, 8), {},
     "ssprop.export_ir: the model has no ssprop layer (ssprop.nn.Conv2d); build it with them "
     "or call ssprop.convert first"),
    (nn.Sequential(Conv2d(3, 4, 3)), torch.randn(1, 5, 8, 8), {},
     "ssprop.export_ir: the model failed on example_inputs: RuntimeError: "),
    (nn.Sequential(Conv2d(3, 4, 3)), torch.randn(1, 3, 8, 8), dict(keep=1.5),
     "ssprop.export_ir: every keep must be a number in (0, 1], got 1.5"),
    (nn.Sequential(Conv2d(3, 4, 3)), torch.randn(1, 3, 8, 8), dict(keep=[]),
     "ssprop.export_ir: keep must hold at least one keep fraction"),
    (nn.Sequential(Conv2d(3, 4, 3)), torch.randn(1, 3, 8, 8), dict(name="1x"),
     "ssprop.export_ir: name must be an MLIR identifier (letters, digits, _ $ .), got '1x'"),
    (nn.Sequential(Conv2d(3, 4, 3).double()), torch.randn(1, 3, 8, 8, dtype=torch.float64), {},
     "ssprop.export_ir: layer '0' runs in torch.float64; the IR takes float32, float16 or "
     "bfloat16"),
])
def test_errors(model, inputs, kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ssprop.export_ir(model, inputs, **kwargs)


def test_no_layer_runs():
    class Skips(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = Conv2d(3, 4, 3)

        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="^" + re.escape(
            "ssprop.export_ir: no ssprop.nn.Conv2d ran in the forward of example_inputs") + "$"):
        ssprop.export_ir(Skips(), torch.randn(1, 3, 8, 8))


def test_keep_and_scheduler_exclude_each_other():
    model = nn.Sequential(Conv2d(3, 4, 3))
    scheduler = ssprop.DropScheduler(model, "constant", 0.5)
    with pytest.raises(ValueError, match="^" + re.escape(
            "ssprop.export_ir: give keep or scheduler, not both") + "$"):
        ssprop.export_ir(model, torch.randn(1, 3, 8, 8), keep=0.5, scheduler=scheduler)
    with pytest.raises(TypeError, match="^" + re.escape(
            "ssprop.export_ir: scheduler must be an ssprop.DropScheduler, got float") + "$"):
        ssprop.export_ir(model, torch.randn(1, 3, 8, 8), scheduler=0.5)


def run(tool, *args, stdin):
    result = subprocess.run([str(tool), *args], input=stdin, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ssprop_opt_reads_and_lowers_it(ssprop_tool, images):
    opt = ssprop_tool("ssprop-opt")
    model = nn.Sequential(Conv2d(3, 64, 3), nn.ReLU(), Conv2d(64, 8, 1))
    keeps = [1.0, 1 / 3, 0.1, 1e-8]
    text = ssprop.export_ir(model, torch.randn(2, 3, 9, 9), keep=keeps)
    # Printed back as written: the keep literals, the locations.
    printed = run(opt, "--mlir-print-debuginfo", "--mlir-print-local-scope", stdin=text)
    for keep in ("1.0", "0.3333333333333333", "0.1", "1.0e-08"):
        assert f"keep = {keep}, select = topk>" in printed
    # Conv 2 (Cout 8): k = 8, 2, 1 (0.1 and 1e-8 both keep 1); conv 0
    # (Cout 64): k = 64, 21, 6, 1.
    assert printed.count('loc("2")') == 3 and printed.count('loc("0")') == 4
    lowered = run(opt, "--ssprop-lower-to-gemm", stdin=text)
    assert "ssprop.conv2d_backward" not in lowered
    # keep = 1 lowers to the dense backward: no selection.
    assert re.findall(r"select_topk %\S+ k = (\d+)", lowered) == ["2", "1", "21", "6", "1"]
    # A wgrad per op; a dgrad only for conv 2 (conv 0's input is the images).
    assert (lowered.count("ssprop.wgrad "), lowered.count("ssprop.dgrad ")) == (7, 3)
    variants = run(opt, "--ssprop-lower-to-gemm", stdin=ssprop.export_ir(Variants(), images))
    assert variants.count("ssprop.wgrad") == len(expected_layers())


def test_ssprop_compile_reads_it(ssprop_tool, tmp_path, images):
    compile_ = ssprop_tool("ssprop-compile")
    path = tmp_path / "variants.mlir"
    ssprop.export_ir(Variants(), images, path=path)
    help_text = run(compile_, "--help", stdin="")
    assert "--arch" in help_text
    run(compile_, str(path), "--arch", "sm_80", "--cache-dir", str(tmp_path / "cache"), stdin="")


def test_network_layers_in_backward_order(images):
    layers = network_layers(Variants(), images, keep=[1.0, 0.5])
    assert layers.size() == len(expected_layers())
    assert layers.ir("variants") == ssprop.export_ir(Variants(), images, keep=[1.0, 0.5],
                                                     name="variants")
    with pytest.raises(RuntimeError, match="^" + re.escape(
            "ssprop.export_ir: input_shape must have 4 dimensions, got [3, 8, 8]")):
        layers.add("x", [3, 8, 8], [4, 3, 1, 1], [1, 1], [0, 0], [1, 1], 1, torch.float32, 1.0,
                   [], "topk", False, True, True)
    assert layers.size() == len(expected_layers())
