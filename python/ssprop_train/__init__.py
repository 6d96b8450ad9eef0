"""Training examples of ssprop: data, models, progress, reports.

- :mod:`ssprop_train.data`: Fashion-MNIST from IDX files (checked), normalised.
- :mod:`ssprop_train.models`: the paper's CNN and a CIFAR-style ResNet-18.
- :mod:`ssprop_train.progress`: a tqdm progress bar with running metrics, a timer.
- :mod:`ssprop_train.report`: per-epoch CSV logs, PNG plots, summary tables
  (also ``python -m ssprop_train.report``).
- :mod:`ssprop_train.flops`: backward FLOPs as ``ssprop.stats()`` counts them.
- :mod:`ssprop_train.bridge`: what the trainers use of the ``ssprop`` package.
- :mod:`ssprop_train.cli`: the flags both Python trainers share, their checks, and
  the converted model, keep scheduler and FLOP meter they describe.
- :mod:`ssprop_train.checkpoint`: a trained classifier saved and loaded back.
- :mod:`ssprop_train.runstate`: a run's per-epoch checkpoint (resume a killed
  run, skip a complete one, refuse other arguments).
- :mod:`ssprop_train.experiment`: many runs in parallel under one progress bar,
  read back and tabulated (the scripts of ``docs/results/``).
- :mod:`ssprop_train.unet`, :mod:`ssprop_train.diffusion`: the DDPM's UNet, its
  cosine noise schedule, loss and sampler.
- :mod:`ssprop_train.frechet`: a Fréchet distance on a classifier's features.
- :mod:`ssprop_train.steptime`: per-step time, dense vs ssProp, from steps that
  alternate in one process (robust to a busy machine).

The trainers are ``examples/train.py`` (Python), ``ssprop-train`` (C++) and
``examples/ddpm.py`` (generation).
"""

__all__ = ["data", "models", "progress", "report", "flops", "bridge", "cli",
           "checkpoint", "unet", "diffusion", "frechet", "steptime", "runstate", "experiment"]
