"""Finds and loads libssprop_torch, the C++ library that registers the
``torch.ops.ssprop`` operators (TORCH_LIBRARY; no Python C API, so one build
serves every Python that has the same torch).

Where: $SSPROP_TORCH_LIBRARY if set; else ssprop/lib/ of the installed package
(pip install ., or the editable install); else the repository's build/."""

from __future__ import annotations

import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import List, Optional

import torch

ENV_VAR = "SSPROP_TORCH_LIBRARY"
LIBRARY = "libssprop_torch.so"
_REPO = Path(__file__).resolve().parents[2]
BUILD_PATH = _REPO / "build" / "runtime" / "torch" / LIBRARY

_loaded: str | None = None


def _candidates() -> List[Path]:
    # __path__ lists the installed tree first under an editable install.
    package_dirs = [Path(p) for p in sys.modules[__package__].__path__]
    return [d / "lib" / LIBRARY for d in package_dirs] + [BUILD_PATH]


def library_path() -> Path:
    """$SSPROP_TORCH_LIBRARY if set, else the first library found beside the
    package or in the repository's build (the last place if none is)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    candidates = _candidates()
    return next((p for p in candidates if p.is_file()), candidates[-1])


def _pinned_torch(path: Path) -> Optional[str]:
    """The torch version the installed distribution requires, when `path` is
    that distribution's library (not a build of the repository)."""
    try:
        dist = metadata.distribution("ssprop")
    except metadata.PackageNotFoundError:
        return None
    if Path(dist.locate_file(f"ssprop/lib/{LIBRARY}")).resolve() != path.resolve():
        return None
    for requirement in dist.requires or []:
        pin = re.fullmatch(r"torch\s*==\s*([^\s;,]+)", requirement.strip())
        if pin:
            return pin.group(1)
    return None


def check_torch(path: Path) -> None:
    """ImportError when the installed ssprop was built against another torch."""
    pinned = _pinned_torch(path)
    installed = metadata.version("torch")
    if pinned is not None and pinned != installed:
        raise ImportError(
            f"ssprop was built against torch {pinned}, but torch {installed} is installed: "
            f"its library ({path}) needs the torch it was built against (the C++ ABI). "
            f"Install torch=={pinned}, or rebuild ssprop against this torch "
            f"(pip install --no-build-isolation <ssprop's source>)."
        )


def load_library() -> str:
    """Loads the library once; ImportError saying how to build it if missing."""
    global _loaded
    if _loaded is not None:
        return _loaded
    path = library_path()
    if not path.is_file():
        where = (f"${ENV_VAR} = {path}" if os.environ.get(ENV_VAR)
                 else ", ".join(str(p) for p in _candidates()))
        raise ImportError(
            f"ssprop: the LibTorch bridge library was not found ({where}). "
            f"Install ssprop (pip install .), build it with `scripts/setup` "
            f"(or `cmake --build build`), or point ${ENV_VAR} at {LIBRARY}."
        )
    check_torch(path)
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
