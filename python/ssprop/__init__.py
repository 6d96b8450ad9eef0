"""ssprop: convolution (and linear) layers whose backward back-propagates only
the most important output channels (ssProp, arXiv 2408.12561), for PyTorch.

    import ssprop
    ssprop.convert(model, keep=0.2)                      # in place
    sched = ssprop.DropScheduler(model, "constant", 0.2, total_epochs=E, interleave=True)
    for epoch in range(E):
        sched.step_epoch(epoch)
        ...                                              # ordinary training
    print(ssprop.stats())
    ssprop.distributed(model)                            # under DDP: the same channels
                                                         # on every process
    ssprop.export_ir(model, example_inputs, scheduler=sched, path="model.mlir")
                                                         # its backward as ssprop IR
    ssprop.compile(model, example_inputs, scheduler=sched)
                                                         # its kernels and tactics, ahead

The operators (torch.ops.ssprop.conv2d / linear) come from libssprop_torch,
found through $SSPROP_TORCH_LIBRARY, in ssprop/lib/ of the installed package,
or in <repo>/build/runtime/torch/.
"""

from ._library import library_path, load_library

load_library()
__version__: str = __import__("torch").ops.ssprop.version()

from . import nn, ops  # noqa: E402
from .convert import convert  # noqa: E402
from .distributed import distributed  # noqa: E402
from .engine import compile  # noqa: E402,A004
from .export import export_ir  # noqa: E402
from .ops import (get_jit_mode, get_tactic, jit_mode, kept_channels, reset_stats,  # noqa: E402
                  set_jit_mode, set_tactic, set_verify, stats, tactic, wait_for_compiles)
from .scheduler import DropScheduler  # noqa: E402

__all__ = ["__version__", "nn", "ops", "convert", "distributed", "export_ir", "compile",
           "DropScheduler",
           "stats", "reset_stats",
           "kept_channels", "set_tactic", "get_tactic", "tactic", "set_jit_mode",
           "get_jit_mode", "jit_mode", "set_verify", "wait_for_compiles", "library_path",
           "load_library"]
