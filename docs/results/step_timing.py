#!/usr/bin/env python3
"""Per-step CPU timing of the CNN (or the DDPM's UNet), dense vs ssProp at fixed
keeps, robust to a busy machine: the models train in alternation in one process
(same batches, same threads) and the medians of many steps are compared
(python/ssprop_train/steptime.py). Prints median milliseconds of the whole step
and of the backward alone, and their ratios to dense.

    PYTHONPATH=python python3 docs/results/step_timing.py --width 32 --keep 0.2
    PYTHONPATH=python python3 docs/results/step_timing.py --model unet --width 16 --keep 0.2
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from ssprop_train import steptime  # noqa: E402

if __name__ == "__main__":
    sys.exit(steptime.main())
