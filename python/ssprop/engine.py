"""ssprop.compile: build a model's engine ahead of training.

    summary = ssprop.compile(model, torch.randn(128, 3, 32, 32), scheduler=sched)

One forward pass of the example inputs records the model's ssprop layers (as
ssprop.export_ir does). For each layer and each kept-channel count the keeps
give (a scheduler's: every keep its schedule takes), the library compiles the
generated kernels, verifies them against the gathered path and times every
candidate on the model's device, with random tensors of the layer's shapes,
and records the choice in the timing cache. Training with the same batch
shape, device, thread count and cache folder then never compiles or times.
The plan file (JSON: per layer and k, the tactic, its kernels and time)
records what each layer runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional, Union

import torch

from .export import network_layers
from .scheduler import DropScheduler


def _device_of(model: torch.nn.Module, example_inputs) -> torch.device:
    inputs = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    for t in (*model.parameters(), *(t for t in inputs if isinstance(t, torch.Tensor))):
        return t.device
    return torch.device("cpu")


def compile(model: torch.nn.Module, example_inputs,  # noqa: A001 (as torch.compile)
            keep: Union[float, Iterable[float], None] = None,
            scheduler: Optional[DropScheduler] = None,
            plan: Union[str, Path, None] = None, name: str = "model",
            progress: bool = True) -> dict:
    """Builds the engine of ``model`` (see the module's documentation) on the
    device of its parameters and writes the plan to ``plan`` (default:
    ``<cache folder>/plans/<name>.json``; an existing file there must be a
    plan). The keeps are chosen as export_ir chooses them. Returns the
    summary: layers, variants (layer, k), kernels, compiled, cache_hits,
    timings, rejected, seconds, plan."""
    layers = network_layers(model, example_inputs, keep=keep, scheduler=scheduler)
    text = layers.build_engine(_device_of(model, example_inputs), name,
                               None if plan is None else str(plan), progress)
    return json.loads(text)
