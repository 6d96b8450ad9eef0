"""pytest set-up for the ssprop Python suite.

CTest runs it with PYTHONPATH=<repo>/python and SSPROP_TORCH_LIBRARY set; run
by hand (``python3 -m pytest test/python``) it finds the package in the
repository and the library in build/."""

import os
import sys
from pathlib import Path

import pytest
import torch

_PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"
if str(_PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(_PYTHON_DIR))

# The LibTorch bridge's tests.
_BRIDGE_MODULES = {"test_ops", "test_nn", "test_scheduler", "test_cuda", "test_cpu_generated"}


@pytest.fixture(autouse=True)
def _bridge_test_setup(request):
    """Bridge tests: a fixed seed, one intra-op thread (their tensors are
    tiny, and on a small shared machine ATen's spinning worker threads make
    them 100x slower than one thread), and the blocking JIT, so that a first
    call runs the tactic under test rather than a stand-in."""
    if request.module.__name__ not in _BRIDGE_MODULES:
        yield
        return
    import ssprop
    threads, mode = torch.get_num_threads(), ssprop.get_jit_mode()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    ssprop.set_jit_mode("blocking")
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        ssprop.set_jit_mode(mode)


@pytest.fixture
def force_tactic():
    """ssprop.set_tactic for one test: forces a tactic, cleared afterwards."""
    import ssprop
    yield ssprop.set_tactic
    ssprop.set_tactic(None)


@pytest.fixture
def ssprop_tool():
    """The path of a tool of the build (ssprop-opt, ssprop-compile): in
    $SSPROP_BIN_DIR (CTest sets it) or build/bin; skips, naming it, if absent."""
    def find(name: str) -> Path:
        bin_dir = Path(os.environ.get("SSPROP_BIN_DIR", _PYTHON_DIR.parent / "build" / "bin"))
        if not (bin_dir / name).is_file():
            pytest.skip(f"{bin_dir / name} is not built")
        return bin_dir / name
    return find
