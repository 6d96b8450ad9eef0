"""Training examples of ssprop: data, models, progress, reports.

- :mod:`ssprop_train.data`: Fashion-MNIST from IDX files (checked), normalised.
- :mod:`ssprop_train.models`: the paper's CNN and a CIFAR-style ResNet-18.
- :mod:`ssprop_train.progress`: a tqdm progress bar with running metrics, a timer.
- :mod:`ssprop_train.report`: per-epoch CSV logs, PNG plots, summary tables
  (also ``python -m ssprop_train.report``).
- :mod:`ssprop_train.flops`: backward FLOPs as ``ssprop.stats()`` counts them.
- :mod:`ssprop_train.bridge`: what the trainers use of the ``ssprop`` package.
- :mod:`ssprop_train.distributed`: DDP with channel scores synchronised over ranks.

The trainers are ``examples/train.py`` (Python) and ``ssprop-train`` (C++).
"""

__all__ = ["data", "models", "progress", "report", "flops", "bridge", "distributed"]
