"""Run by test_wheel.py with the fresh environment's Python, outside the
repository: the installed ssprop converts a model, and one backward matches
the oracle (dense autograd with the unselected channels of dy zeroed); the
console scripts run."""

import subprocess
import sys
from pathlib import Path

import torch

import ssprop

where = Path(ssprop.__file__).resolve()
assert Path(sys.prefix).resolve() in where.parents, f"ssprop imported from {where}"
assert Path(ssprop.library_path()).parent == where.parent / "lib", ssprop.library_path()

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1))
dense = torch.nn.Conv2d(3, 8, 3, padding=1)
dense.load_state_dict(model[0].state_dict())
ssprop.convert(model, keep=0.5)
x = torch.randn(4, 3, 8, 8)
# Channel c of dy scaled by c + 1: the kept half is channels 4..7.
dy = torch.randn(4, 8, 8, 8) * torch.arange(1, 9.0).view(1, -1, 1, 1)
model(x).backward(dy)
kept = (torch.arange(8) >= 4).float().view(1, -1, 1, 1)
dense(x).backward(dy * kept)
torch.testing.assert_close(model[0].weight.grad, dense.weight.grad)
torch.testing.assert_close(model[0].bias.grad, dense.bias.grad)
# The console scripts stand beside this Python and answer --help.
for script in ("ssprop-steptime", "ssprop-report"):
    path = Path(sys.executable).parent / script
    done = subprocess.run([str(path), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage:" in done.stdout, (script, done.stderr)
print(f"ssprop {ssprop.__version__}: gradient matches the oracle")
