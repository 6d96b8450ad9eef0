"""The ssprop library loads next to PyTorch's own LLVM users."""
import os
import subprocess
import sys

import pytest


def test_triton_still_loads_after_ssprop():
    # Two LLVMs in one process abort with "Option ... registered more than once"
    # when one leaks its symbols; a fresh interpreter shows it.
    pytest.importorskip("triton", reason="triton is not installed with this torch")
    code = "import ssprop, torch\nimport triton._C.libtriton\nprint('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_no_compiler_symbols_exported():
    from ssprop import _library
    done = subprocess.run(["nm", "-D", "--defined-only", str(_library.library_path())],
                          capture_output=True, text=True, check=True)
    leaked = [line for line in done.stdout.splitlines() if "mlir" in line.lower()]
    assert not leaked, leaked[:5]
