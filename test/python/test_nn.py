"""ssprop.nn.Conv2d / Linear, ssprop.nn.functional, ssprop.convert (a
torchvision-style ResNet-18 built here trains), bad inputs."""

import copy
import math
import re

import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as F

import ssprop
from ssprop_oracle import assert_close, conv_oracle, conv_topk_mask


# -- a torchvision-style ResNet-18 (BasicBlock, BatchNorm), no torchvision ------

class BasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(tnn.Module):
    def __init__(self, num_classes=10, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = tnn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, 2)
        self.layer2 = self._make_layer(2 * width, 2, stride=2)
        self.layer3 = self._make_layer(4 * width, 2, stride=2)
        self.layer4 = self._make_layer(8 * width, 2, stride=2)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(8 * width, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                        tnn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_convert_resnet18_trains():
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=16)
    dense_convs = [m for m in model.modules() if type(m) is tnn.Conv2d]
    assert len(dense_convs) == 20  # 17 3x3/7x7 + 3 downsample 1x1
    params_before = list(model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)  # built before convert
    assert ssprop.convert(model, keep=0.4) is model
    assert not any(type(m) in (tnn.Conv2d, tnn.Linear) for m in model.modules())
    assert sum(isinstance(m, ssprop.nn.Conv2d) for m in model.modules()) == 20
    assert isinstance(model.fc, ssprop.nn.Linear)
    assert all(a is b for a, b in zip(model.parameters(), params_before))
    sched = ssprop.DropScheduler(model, "constant", 0.4, total_epochs=3)
    assert len(sched.layers) == 21
    x = torch.randn(8, 3, 32, 32)
    target = torch.randint(0, 10, (8,))
    ssprop.reset_stats()
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    s = ssprop.stats()
    assert 0 < s["actual_backward_flops"] < 0.6 * s["dense_backward_flops"]


def test_conv2d_module_equals_torch_at_keep_one():
    torch.manual_seed(1)
    dense = tnn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2).double()
    mine = ssprop.nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2,
                            dtype=torch.float64)
    mine.load_state_dict(dense.state_dict())
    assert isinstance(mine, tnn.Conv2d) and mine.keep == 1.0
    x = torch.randn(3, 4, 11, 10, dtype=torch.float64)
    y1, y2 = dense(x), mine(x)
    assert torch.equal(y1, y2)
    dy = torch.randn_like(y1)
    y1.backward(dy)
    y2.backward(dy)
    assert torch.equal(dense.weight.grad, mine.weight.grad)
    assert torch.equal(dense.bias.grad, mine.bias.grad)
    assert "keep=1, select=topk" in repr(mine)


def test_conv2d_module_sparse_matches_oracle():
    conv = ssprop.nn.Conv2d(4, 8, 3, padding=1, keep=0.25, dtype=torch.float64)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    y = conv(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    want = conv_oracle(x, conv.weight, conv.bias, 1, 1, 1, 1, dy, conv_topk_mask(dy, 0.25))
    for got, exp in zip((x.grad, conv.weight.grad, conv.bias.grad), want):
        assert_close(got, exp)


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(padding_mode):
    dense = tnn.Conv2d(3, 4, 3, padding=1, padding_mode=padding_mode).double()
    mine = ssprop.convert(copy.deepcopy(dense), keep=1.0)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    assert torch.equal(dense(x), mine(x))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel", [3, 4])
def test_functional_string_padding(padding, kernel):
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    w = torch.randn(5, 3, kernel, kernel, dtype=torch.float64)
    want = F.conv2d(x, w, None, 1, padding, 2)
    got = ssprop.nn.functional.conv2d(x, w, None, 1, padding, 2, keep=0.5)
    assert torch.equal(got, want)
    # unbatched input, as torch accepts it
    assert torch.equal(ssprop.nn.functional.conv2d(x[0], w, None, 1, padding, 2),
                       F.conv2d(x[0], w, None, 1, padding, 2))


def test_linear_module_and_functional():
    dense = tnn.Linear(7, 5).double()
    mine = ssprop.nn.Linear(7, 5, dtype=torch.float64, keep=0.4, select="random")
    mine.load_state_dict(dense.state_dict())
    x = torch.randn(4, 3, 7, dtype=torch.float64)
    assert torch.equal(mine(x), dense(x))
    assert torch.equal(ssprop.nn.functional.linear(x, dense.weight, dense.bias, keep=0.3),
                       dense(x))
    assert "keep=0.4, select=random" in repr(mine)
    mine.keep = 0.9
    assert mine.keep == 0.9


def test_convert_in_place_settings_and_copies():
    torch.manual_seed(2)
    model = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.ReLU(), tnn.Flatten(), tnn.LazyLinear(4))
    model(torch.randn(1, 3, 5, 5))  # materialise the lazy layer: a Linear now
    conv = model[0]
    ssprop.convert(model, keep=0.5, select="random", weight_only=True)
    assert model[0] is conv and type(conv) is ssprop.nn.Conv2d
    assert (conv.keep, conv.select, conv.weight_only) == (0.5, "random", True)
    ssprop.convert(model, keep=0.3)  # ssprop layers get the new settings
    assert (conv.keep, conv.select, conv.weight_only) == (0.3, "topk", False)
    twin = copy.deepcopy(model)
    assert type(twin[0]) is ssprop.nn.Conv2d and twin[0].keep == 0.3
    assert twin[0].weight is not conv.weight
    state = model.state_dict()
    fresh = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.ReLU(), tnn.Flatten(), tnn.Linear(72, 4))
    fresh.load_state_dict(state)  # same keys as the dense model
    # conv=False leaves convolutions alone; subclasses of Conv2d are left alone.
    class MyConv(tnn.Conv2d):
        pass
    other = tnn.Sequential(tnn.Conv2d(1, 1, 1), MyConv(1, 1, 1), tnn.Linear(1, 1))
    ssprop.convert(other, keep=0.5, conv=False)
    assert type(other[0]) is tnn.Conv2d and type(other[1]) is MyConv
    assert type(other[2]) is ssprop.nn.Linear
    # The model itself may be a layer.
    lone = tnn.Conv2d(1, 1, 1)
    assert ssprop.convert(lone, keep=0.5) is lone and isinstance(lone, ssprop.nn.Conv2d)


def test_module_errors():
    with pytest.raises(ValueError, match=re.escape("ssprop.nn.Conv2d: keep must be in (0, 1], got 1.5")):
        ssprop.nn.Conv2d(3, 4, 3, keep=1.5)
    with pytest.raises(ValueError, match=re.escape(
            'ssprop.nn.Linear: select must be "topk" or "random", got "foo"')):
        ssprop.nn.Linear(3, 4, select="foo")
    layer = ssprop.nn.Linear(3, 4)
    with pytest.raises(ValueError, match=re.escape("ssprop.nn.Linear: keep must be in (0, 1], got 0")):
        layer.keep = 0
    with pytest.raises(ValueError, match=re.escape("ssprop.nn.Linear: keep must be in (0, 1], got nan")):
        layer.keep = float("nan")
    with pytest.raises(ValueError, match=re.escape("ssprop.convert: keep must be in (0, 1], got 2")):
        ssprop.convert(tnn.Linear(2, 2), keep=2)
    with pytest.raises(ValueError, match=re.escape(
            "ssprop.nn.functional.conv2d: padding='same' is not supported for strided "
            "convolutions, got stride (2, 2)")):
        ssprop.nn.functional.conv2d(torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3), stride=2,
                                    padding="same")


def _msg(s):
    return "^" + re.escape(s) + "$"


def x4(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


CONV_ERRORS = [
    (lambda: (x4(3, 8, 8), x4(6, 3, 3, 3), None), {},
     "ssprop::conv2d: input must be a 4-D tensor [N, C, H, W], got a 3-D tensor of shape [3, 8, 8]"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3), None), {},
     "ssprop::conv2d: weight must be a 4-D tensor [Cout, Cin/groups, KH, KW], got a 2-D tensor of "
     "shape [6, 3]"),
    (lambda: (x4(1, 3, 8, 8).long(), x4(6, 3, 3, 3).long(), None), {},
     "ssprop::conv2d: input must be a floating-point tensor, got Long"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3, dtype=torch.float64), None), {},
     "ssprop::conv2d: weight must have the dtype of input (Float), got Double"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), x4(6).half()), {},
     "ssprop::conv2d: bias must have the dtype of input (Float), got Half"),
    (lambda: (x4(1, 3, 8, 8), torch.empty(6, 3, 3, 3, device="meta"), None), {},
     "ssprop::conv2d: weight must be on the device of input (cpu), got meta"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), x4(4)), {},
     "ssprop::conv2d: bias must be a 1-D tensor of size 6 (the output channels), got shape [4]"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"keep": 1.5},
     "ssprop::conv2d: keep must be in (0, 1], got 1.5"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"keep": 0.0},
     "ssprop::conv2d: keep must be in (0, 1], got 0"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"keep": float("nan")},
     "ssprop::conv2d: keep must be in (0, 1], got nan"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"select": "foo"},
     'ssprop::conv2d: select must be "topk" or "random", got "foo"'),
    (lambda: (x4(1, 8, 8, 8), x4(6, 8, 3, 3), None), {"groups": 0},
     "ssprop::conv2d: groups must be >= 1, got 0"),
    (lambda: (x4(1, 8, 8, 8), x4(5, 4, 3, 3), None), {"groups": 2},
     "ssprop::conv2d: groups (2) must divide the output channels (weight.size(0) = 5)"),
    (lambda: (x4(1, 9, 8, 8), x4(6, 3, 3, 3), None), {"groups": 2},
     "ssprop::conv2d: groups (2) must divide the input channels (input.size(1) = 9)"),
    (lambda: (x4(1, 8, 8, 8), x4(6, 3, 3, 3), None), {"groups": 2},
     "ssprop::conv2d: weight.size(1) * groups must equal the input channels input.size(1): "
     "weight.size(1) = 3, groups = 2, input.size(1) = 8"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"stride": [1, 1, 1]},
     "ssprop::conv2d: stride must have 2 elements (or 1, used for both dimensions), got 3"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"stride": [0, 1]},
     "ssprop::conv2d: stride must be >= 1, got [0, 1]"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"padding": [-1, 0]},
     "ssprop::conv2d: padding must be >= 0, got [-1, 0]"),
    (lambda: (x4(1, 3, 8, 8), x4(6, 3, 3, 3), None), {"dilation": [1, 0]},
     "ssprop::conv2d: dilation must be >= 1, got [1, 0]"),
    (lambda: (x4(1, 3, 4, 8), x4(6, 3, 3, 3), None), {"dilation": 2},
     "ssprop::conv2d: the padded input is smaller than the dilated kernel in dimension 2: input "
     "size 4 + 2 * padding 0 = 4 < dilation 2 * (kernel size 3 - 1) + 1 = 5"),
]


@pytest.mark.parametrize("case", range(len(CONV_ERRORS)))
def test_conv2d_bad_input_messages(case):
    make, kwargs, message = CONV_ERRORS[case]
    with pytest.raises(RuntimeError, match=_msg(message)):
        torch.ops.ssprop.conv2d(*make(), **kwargs)


LINEAR_ERRORS = [
    (lambda: (x4(4, 5), x4(3, 5, 1), None), {},
     "ssprop::linear: weight must be a 2-D tensor [out_features, in_features], got a 3-D tensor "
     "of shape [3, 5, 1]"),
    (lambda: (torch.tensor(1.0), x4(3, 5), None), {},
     "ssprop::linear: input must have at least 1 dimension [..., in_features], got a 0-D tensor"),
    (lambda: (x4(4, 6), x4(3, 5), None), {},
     "ssprop::linear: input.size(-1) must equal weight.size(1) (in_features = 5), got 6"),
    (lambda: (x4(4, 5), x4(3, 5), x4(4)), {},
     "ssprop::linear: bias must be a 1-D tensor of size 3 (out_features), got shape [4]"),
    (lambda: (x4(4, 5), x4(3, 5, dtype=torch.float64), None), {},
     "ssprop::linear: weight must have the dtype of input (Float), got Double"),
    (lambda: (x4(4, 5), x4(3, 5), None), {"keep": 2.0},
     "ssprop::linear: keep must be in (0, 1], got 2"),
    (lambda: (x4(4, 5), x4(3, 5), None), {"select": "foo"},
     'ssprop::linear: select must be "topk" or "random", got "foo"'),
]


@pytest.mark.parametrize("case", range(len(LINEAR_ERRORS)))
def test_linear_bad_input_messages(case):
    make, kwargs, message = LINEAR_ERRORS[case]
    with pytest.raises(RuntimeError, match=_msg(message)):
        torch.ops.ssprop.linear(*make(), **kwargs)


def test_library_path_and_missing_library(monkeypatch, tmp_path):
    import subprocess
    import sys
    assert ssprop.library_path().name == "libssprop_torch.so"
    env = dict(__import__("os").environ, SSPROP_TORCH_LIBRARY=str(tmp_path / "nope.so"))
    r = subprocess.run([sys.executable, "-c", "import ssprop"], env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0
    assert "ImportError: ssprop: the LibTorch bridge library was not found" in r.stderr
    assert "scripts/setup" in r.stderr
