"""Data-parallel training with ssProp: the same kept channels on every process.

Under DistributedDataParallel each process sees a slice of the global batch.
If every process chose its channels from its own ``grad_output``, the
processes would keep different channels and DDP's gradient average would mix
them: neither the method on the global batch nor a sparse gradient.
:func:`distributed` makes the selection global inside the operator's backward:
the per-channel sums of ``|grad_output|`` are all-reduced over the process
group between scoring and selection (``select="random"``: every process takes
rank 0's permutation), so every process keeps the channels one process on the
concatenated batch would keep, and a DDP step equals that process's step (up
to floating-point summation order).
"""

from __future__ import annotations

from typing import Optional

import torch

from .nn.modules import Conv2d, Linear


def distributed(model: torch.nn.Module, group=None, enabled: bool = True) -> int:
    """Makes every ssprop layer of ``model`` select its channels from the
    scores of the whole batch of ``group`` (default: the world group of
    ``torch.distributed``, which must be initialised). Call it on every
    process, before or after wrapping the model in DDP; ``enabled=False``
    turns the synchronisation off. Returns the number of layers changed."""
    name: Optional[str] = None
    if enabled:
        import torch.distributed as dist
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError("ssprop.distributed: torch.distributed is not initialised "
                               "(call torch.distributed.init_process_group first)")
        name = (group if group is not None else dist.group.WORLD).group_name
    layers = [m for m in model.modules() if isinstance(m, (Conv2d, Linear))]
    if not layers:
        raise ValueError("ssprop.distributed: the model has no ssprop layer (convert it first)")
    for layer in layers:
        layer.sync_group = name
    return len(layers)
