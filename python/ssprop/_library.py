"""Finds and loads libssprop_torch, the C++ library that registers the
``torch.ops.ssprop`` operators (TORCH_LIBRARY; no Python C API, so one build
serves every Python that has the same torch)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

ENV_VAR = "SSPROP_TORCH_LIBRARY"
_REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATH = _REPO / "build" / "runtime" / "torch" / "libssprop_torch.so"

_loaded: str | None = None


def library_path() -> Path:
    """$SSPROP_TORCH_LIBRARY if set, else <repo>/build/runtime/torch/libssprop_torch.so."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_PATH


def load_library() -> str:
    """Loads the library once; ImportError saying how to build it if missing."""
    global _loaded
    if _loaded is not None:
        return _loaded
    path = library_path()
    if not path.is_file():
        where = f"${ENV_VAR} = {path}" if os.environ.get(ENV_VAR) else str(path)
        raise ImportError(
            f"ssprop: the LibTorch bridge library was not found ({where}). "
            f"Build it with `scripts/setup` (or `cmake --build build`), or point "
            f"${ENV_VAR} at libssprop_torch.so."
        )
    if not hasattr(torch.ops, "ssprop") or not hasattr(torch.ops.ssprop, "conv2d"):
        try:
            torch.ops.load_library(str(path))
        except OSError as e:
            raise ImportError(
                f"ssprop: cannot load {path}: {e}. It must be built against this "
                f"torch ({torch.__version__}); rebuild it with `scripts/setup`."
            ) from e
    _loaded = str(path)
    return _loaded
