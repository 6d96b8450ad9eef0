"""A progress bar over training steps (tqdm) with running metrics, and a timer.

Generic: the metrics are whatever the trainer passes (loss, accuracy, keep for a
classifier; loss and keep for a DDPM)."""

from __future__ import annotations

import sys
import time
from typing import Dict, Optional

from tqdm import tqdm


class Running:
    """Running means of named metrics, weighted by a count (e.g. batch size)."""

    def __init__(self):
        self.sums: Dict[str, float] = {}
        self.counts: Dict[str, float] = {}

    def add(self, name: str, value: float, count: float = 1.0) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + float(value) * count
        self.counts[name] = self.counts.get(name, 0.0) + count

    def mean(self, name: str) -> float:
        c = self.counts.get(name, 0.0)
        return self.sums[name] / c if c else float("nan")

    def means(self) -> Dict[str, float]:
        return {k: self.mean(k) for k in self.sums}


class Progress:
    """``with Progress(total, desc) as bar: ... bar.step(loss=..., acc=...)``.

    Shows the running means of what ``step`` was given. Disabled (no output)
    when ``enabled`` is False, e.g. on ranks other than 0."""

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 formats: Optional[Dict[str, str]] = None):
        self.running = Running()
        self.formats = {"loss": "{:.4f}", "acc": "{:.3f}", "keep": "{:.2f}"}
        self.formats.update(formats or {})
        self.bar = tqdm(total=total, desc=desc, disable=not enabled, leave=True,
                        dynamic_ncols=True, file=sys.stderr)

    def step(self, count: float = 1.0, **metrics: float) -> None:
        for k, v in metrics.items():
            self.running.add(k, v, count)
        self.bar.set_postfix_str(" ".join(
            f"{k}={self.formats.get(k, '{:.4g}').format(self.running.mean(k))}"
            for k in self.running.sums), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Timer:
    """Wall-clock seconds of a block; synchronises CUDA around it when asked
    (GPU work is asynchronous: an unsynchronised timer measures the launches)."""

    def __init__(self, cuda_sync: bool = False):
        self.cuda_sync = cuda_sync
        self.seconds = 0.0

    def _sync(self):
        if self.cuda_sync:
            import torch
            torch.cuda.synchronize()

    def __enter__(self):
        self._sync()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.seconds += time.perf_counter() - self._t0
