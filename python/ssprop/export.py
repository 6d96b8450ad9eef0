"""ssprop.export_ir: the backward of a model's ssprop convolutions as ssprop IR.

    text = ssprop.export_ir(model, torch.randn(8, 3, 32, 32), scheduler=sched,
                            path="model_backward.mlir")

One forward pass of the example inputs records what every ssprop.nn.Conv2d
hands its operator (input and weight shapes, dtype, stride, padding after
"same" and padding modes are resolved, dilation, groups, bias, select,
weight_only). The IR is one function: per recorded layer, in backward order
(the last layer first), the arguments (grad_output, input, weight) and one
``ssprop.conv2d_backward`` per kept-channel count that its keeps give, located
at the layer's qualified name. Its results are every gradient training needs:
not the input gradient of a layer whose input needs none (the images), not the
bias gradient of a layer without bias. ``ssprop-opt`` and ``ssprop-compile``
read it. The library formats it (torch.classes.ssprop.NetworkLayers, on the
C++ ssprop::formatBackwardIR that ssprop::exportIR calls too);
``network_layers`` gives the recorded layers as that class.

Only ssprop.nn.Conv2d layers are exported: plain torch.nn.Conv2d layers run
dense backwards that ssprop does not compile (``ssprop.convert`` first), and
the dialect has no linear layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .nn.modules import Conv2d
from .scheduler import DropScheduler

_WHERE = "ssprop.export_ir"


@dataclass(frozen=True)
class ConvCall:
    """One call of an ssprop.nn.Conv2d's operator, as the forward made it."""

    name: str  # the layer's qualified name in the model
    input_shape: Tuple[int, ...]  # NCHW, whatever the memory format
    weight_shape: Tuple[int, ...]
    output_shape: Tuple[int, ...]
    dtype: torch.dtype
    stride: Tuple[int, int]
    padding: Tuple[int, int]
    dilation: Tuple[int, int]
    groups: int
    has_bias: bool
    keep: float
    select: str
    weight_only: bool
    needs_input_grad: bool


class _Recorder(TorchDispatchMode):
    """Records the ssprop.conv2d calls made inside the layers in `layers`."""

    def __init__(self, layers: dict) -> None:
        super().__init__()
        self.layers = layers
        self.running: List[Conv2d] = []
        self.calls: List[Tuple[Conv2d, ConvCall]] = []

    # Module hooks: they return None, leaving inputs and outputs alone.
    def enter(self, layer: Conv2d, args) -> None:
        self.running.append(layer)

    def leave(self, layer: Conv2d, args, output) -> None:
        self.running.pop()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.ssprop.conv2d.default and self.running:
            layer = self.running[-1]
            arguments = _bind(func, args, kwargs or {})
            self.calls.append((layer, _conv_call(self.layers[layer], arguments, out)))
        return out


def _bind(func, args: Sequence, kwargs: dict) -> dict:
    """Every argument of an operator call by name; the dispatcher leaves out
    those equal to their defaults."""
    schema = func._schema.arguments
    return {a.name: args[i] if i < len(args) else kwargs.get(a.name, a.default_value)
            for i, a in enumerate(schema)}


def _conv_call(name: str, a: dict, out: torch.Tensor) -> ConvCall:
    x, w = a["input"], a["weight"]
    return ConvCall(name, tuple(x.shape), tuple(w.shape), tuple(out.shape), x.dtype,
                    tuple(a["stride"]), tuple(a["padding"]), tuple(a["dilation"]),
                    int(a["groups"]), a["bias"] is not None, float(a["keep"]), str(a["select"]),
                    bool(a["weight_only"]), x.requires_grad)


def conv_calls(model: torch.nn.Module, example_inputs) -> List[Tuple[Conv2d, ConvCall]]:
    """The ssprop.nn.Conv2d calls of one forward of ``model(*example_inputs)``
    in the order they ran, each once, with the layer that made it. The model
    comes back as it was: its buffers (batch-norm statistics) and the random
    state are restored; gradients are enabled so that an input's need of a
    gradient is known (tensors on the meta device compute nothing)."""
    layers = {m: name for name, m in model.named_modules() if isinstance(m, Conv2d)}
    if not layers:
        raise ValueError(f"{_WHERE}: the model has no ssprop layer (ssprop.nn.Conv2d); build it "
                         f"with them or call ssprop.convert first")
    inputs = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    recorder = _Recorder(layers)
    hooks = [h for m in layers for h in (m.register_forward_pre_hook(recorder.enter),
                                         m.register_forward_hook(recorder.leave))]
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        with torch.random.fork_rng(devices=_cuda_devices(model, inputs)), \
                torch.enable_grad(), recorder:
            model(*inputs)
    except Exception as e:
        raise ValueError(f"{_WHERE}: the model failed on example_inputs: "
                         f"{type(e).__name__}: {e}") from e
    finally:
        for h in hooks:
            h.remove()
        with torch.no_grad():
            for b, value in saved:
                b.copy_(value)
    if not recorder.calls:
        raise ValueError(f"{_WHERE}: no ssprop.nn.Conv2d ran in the forward of example_inputs")
    return list(dict((call, (layer, call)) for layer, call in recorder.calls).values())


def _cuda_devices(model: torch.nn.Module, inputs) -> List[int]:
    tensors = [*model.parameters(), *model.buffers(),
               *(t for t in inputs if isinstance(t, torch.Tensor))]
    return sorted({t.device.index for t in tensors if t.is_cuda})


def _keeps_of(layer: Conv2d, keep: Optional[List[float]], scheduler) -> List[float]:
    """The keeps of a layer's backward; none: its own keep."""
    if scheduler is not None and any(layer is m for m in scheduler.layers):
        return scheduler.distinct_keeps()
    return keep or []


def _checked_keeps(keep, scheduler) -> Optional[List[float]]:
    if keep is not None and scheduler is not None:
        raise ValueError(f"{_WHERE}: give keep or scheduler, not both")
    if scheduler is not None and not isinstance(scheduler, DropScheduler):
        raise TypeError(f"{_WHERE}: scheduler must be an ssprop.DropScheduler, "
                        f"got {type(scheduler).__name__}")
    if keep is None:
        return None
    keeps = [keep] if isinstance(keep, (int, float)) else list(keep)
    for k in keeps:
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0.0 < k <= 1.0:
            raise ValueError(f"{_WHERE}: every keep must be a number in (0, 1], got {k!r}")
    if not keeps:
        raise ValueError(f"{_WHERE}: keep must hold at least one keep fraction")
    return [float(k) for k in keeps]


def network_layers(model: torch.nn.Module, example_inputs,
                   keep: Union[float, Iterable[float], None] = None,
                   scheduler: Optional[DropScheduler] = None) -> torch.ScriptObject:
    """The ssprop.nn.Conv2d layers that ``model(*example_inputs)`` runs, the
    last first, with the keeps their backward runs with (see export_ir), as a
    ``torch.classes.ssprop.NetworkLayers``: ``.ir(name)`` formats their IR,
    ``.size()`` counts them."""
    keeps = _checked_keeps(keep, scheduler)
    layers = torch.classes.ssprop.NetworkLayers()
    for layer, call in reversed(conv_calls(model, example_inputs)):
        layers.add(call.name, list(call.input_shape), list(call.weight_shape),
                   list(call.stride), list(call.padding), list(call.dilation), call.groups,
                   call.dtype, call.keep, _keeps_of(layer, keeps, scheduler), call.select,
                   call.weight_only, call.needs_input_grad, call.has_bias)
    return layers


def export_ir(model: torch.nn.Module, example_inputs, keep: Union[float, Iterable[float], None] = None,
              scheduler: Optional[DropScheduler] = None, path: Union[str, Path, None] = None,
              name: str = "model") -> str:
    """The IR of the backward of every ssprop.nn.Conv2d that
    ``model(*example_inputs)`` runs (a single tensor is one input), as text;
    also written to ``path`` if given. The function is ``@<name>_backward``.

    The keeps of each layer: those of ``scheduler`` (an ssprop.DropScheduler,
    for the layers it drives: every keep its schedule takes), else ``keep``
    (a fraction or several), else the layer's own ``keep``. Each layer gets
    one op per kept-channel count k = max(floor(keep * C_out), 1) those keeps
    give, at the largest keep of that count.

    For a model too large to run, pass a copy on the meta device
    (``copy.deepcopy(model).to("meta")`` and meta inputs): the shapes come out
    the same and nothing is computed."""
    text = network_layers(model, example_inputs, keep, scheduler).ir(name)
    if path is not None:
        Path(path).write_text(text)
    return text
