"""The paper's classification models, as plain ``torch.nn`` modules.

ssProp is applied afterwards by converting the convolutions (``ssprop.convert``),
as the authors' code swaps ``nn.Conv2d`` for its own layer: the models here stay
ordinary PyTorch and are trained densely as they are.

- :class:`CNN`: ``depth`` 3x3 convolutions (padding 1) of ``width`` channels,
  ReLU, no batch norm, adaptive average pooling to 1x1, a linear head
  (the authors' ``CNN_Nlayer``; width 128, 3 layers by default).
- :func:`resnet18`: the CIFAR-style ResNet-18 (3x3 stem, no max-pool, stages of
  ``width``·(1, 2, 4, 8) channels, batch norm), with global average pooling so
  that 28x28 and 32x32 inputs both work.
- :func:`resnet50`: torchvision's ImageNet ResNet-50 (v1.5: the stride on the
  3x3 convolution of each bottleneck; 7x7 stem, max-pool), with its module
  names, for the example IR (tools/examples/export_network_ir.py).

``dropout`` follows the authors: after each convolution's activation (the CNN)
or after each convolution+BN (ResNet blocks), so that dropout and ssProp can be
compared at the same place.
"""

from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class CNN(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 128,
                 depth: int = 3, dropout: float = 0.0):
        super().__init__()
        if width < 1 or depth < 1:
            raise ValueError(f"CNN needs width >= 1 and depth >= 1, got width={width}, depth={depth}")
        _check_dropout(dropout)
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels if i == 0 else width, width, kernel_size=3, padding=1)
            for i in range(depth))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = self.dropout(F.relu(conv(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.drop1 = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.drop2 = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            layers: List[nn.Module] = [
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            self.shortcut = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop1(F.relu(self.bn1(self.conv1(x))))
        out = self.drop2(self.bn2(self.conv2(out)))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, blocks: List[int], num_classes: int = 10, in_channels: int = 3,
                 width: int = 64, dropout: float = 0.0):
        super().__init__()
        if width < 1:
            raise ValueError(f"ResNet needs width >= 1, got {width}")
        _check_dropout(dropout)
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.drop1 = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.layer1 = self._make_layer(width, blocks[0], 1, dropout)
        self.layer2 = self._make_layer(width * 2, blocks[1], 2, dropout)
        self.layer3 = self._make_layer(width * 4, blocks[2], 2, dropout)
        self.layer4 = self._make_layer(width * 8, blocks[3], 2, dropout)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(width * 8, num_classes)

    def _make_layer(self, planes: int, n: int, stride: int, dropout: float) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s, dropout))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop1(F.relu(self.bn1(self.conv1(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(torch.flatten(self.pool(out), 1))


def resnet18(num_classes: int = 10, in_channels: int = 3, width: int = 64,
             dropout: float = 0.0) -> ResNet:
    return ResNet([2, 2, 2, 2], num_classes, in_channels, width, dropout)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample: Optional[nn.Module] = None
        if stride != 1 or in_planes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ImageNetResNet(nn.Module):
    def __init__(self, blocks: List[int], num_classes: int = 1000):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, blocks[0], 1)
        self.layer2 = self._make_layer(128, blocks[1], 2)
        self.layer3 = self._make_layer(256, blocks[2], 2)
        self.layer4 = self._make_layer(512, blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)

    def _make_layer(self, planes: int, n: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(Bottleneck(self.in_planes, planes, s))
            self.in_planes = planes * Bottleneck.expansion
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.fc(torch.flatten(self.avgpool(out), 1))


def resnet50(num_classes: int = 1000) -> ImageNetResNet:
    return ImageNetResNet([3, 4, 6, 3], num_classes)


def _check_dropout(p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p}")


def zero_conv_biases(model: nn.Module) -> int:
    """Sets every convolution's bias to zero, as the paper's own convolution
    layer starts (its dense baseline is not stock ``nn.Conv2d``, whose bias
    starts uniform in ±1/sqrt(fan_in)); the number of biases zeroed. Draws no
    random numbers: the rest of the initialisation is the stock model's."""
    biases = [m.bias for m in model.modules() if isinstance(m, nn.Conv2d) and m.bias is not None]
    if not biases:
        raise ValueError("the model's convolutions have no bias")
    with torch.no_grad():
        for b in biases:
            b.zero_()
    return len(biases)


#: Default width per model: the paper's.
DEFAULT_WIDTH = {"cnn": 128, "resnet18": 64}


def build_model(name: str, num_classes: int = 10, in_channels: int = 1,
                width: Optional[int] = None, dropout: float = 0.0) -> nn.Module:
    if name not in DEFAULT_WIDTH:
        raise ValueError(f"unknown model {name!r}: expected one of {sorted(DEFAULT_WIDTH)}")
    width = DEFAULT_WIDTH[name] if width is None else width
    if name == "cnn":
        return CNN(num_classes, in_channels, width, dropout=dropout)
    return resnet18(num_classes, in_channels, width, dropout)
