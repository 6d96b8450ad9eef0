"""A trained classifier saved for later use as a feature network (the Fréchet
distance of ``examples/ddpm.py``): the model's name and width with its
``state_dict``. An ssProp model saves as the dense one (the layers keep
torch.nn's parameters), so either loads back as a plain ``torch.nn`` model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import torch.nn as nn

from ssprop_train import models

FORMAT = "ssprop-classifier/1"


def save_classifier(model: nn.Module, name: str, width: Optional[int], path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "model": name, "width": width,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, path)
    return path


def load_classifier(path) -> nn.Module:
    """The saved classifier, dense, on the CPU, in eval mode; ValueError naming
    the file when it is not one of :func:`save_classifier`'s."""
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # missing file, or any of the unpickler's errors on junk
        raise ValueError(f"{path}: cannot load a classifier checkpoint: {e}") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path}: not a classifier checkpoint of examples/train.py "
                         f"--save-checkpoint (expected format {FORMAT!r})")
    model = models.build_model(ckpt["model"], width=ckpt["width"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()
