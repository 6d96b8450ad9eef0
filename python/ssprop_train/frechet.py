"""A Fréchet distance between two image sets on the penultimate features of a
Fashion-MNIST classifier the project trains itself (``examples/train.py
--save-checkpoint``).

Not the standard FID: FID uses the 2048-d pool features of an ImageNet
Inception-v3, whose weights cannot be downloaded here. The numbers below are
comparable only with each other (same classifier checkpoint, same sample
counts), not with published FIDs.

    d² = |mu1 - mu2|² + Tr(S1 + S2 - 2 (S1 S2)^½)

with the matrix square root of ``scipy.linalg.sqrtm``.
"""

from __future__ import annotations

import warnings
from typing import Tuple

import numpy as np
import scipy.linalg
import torch
import torch.nn as nn

from ssprop_train import data as fmnist


def statistics(features) -> Tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] (unbiased, float64) of features [N, D]."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be [N >= 2, D], got shape {list(f.shape)}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """The Fréchet (2-Wasserstein) distance squared between N(mu1, sigma1) and
    N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    covmean = _sqrtm(sigma1 @ sigma2)
    if covmean is None:
        # A singular product (dead ReLU features): regularise as pytorch-fid does.
        offset = np.eye(len(mu1)) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    # Round-off can give a tiny imaginary part (the product is not symmetric).
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _sqrtm(m: np.ndarray):
    """scipy's matrix square root, or None where scipy finds ``m`` singular."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            root = scipy.linalg.sqrtm(m)
        except scipy.linalg.LinAlgWarning:
            return None
    return root if np.isfinite(root).all() else None


def penultimate_features(classifier: nn.Module, images: torch.Tensor,
                         batch: int = 500) -> np.ndarray:
    """The input of the classifier's last ``nn.Linear`` (its penultimate
    features) for ``images`` [N, 1, 28, 28] in [-1, 1] (a DDPM's range), which
    are normalised as the classifier was trained."""
    head = [m for m in classifier.modules() if isinstance(m, nn.Linear)][-1]
    captured = []
    hook = head.register_forward_hook(lambda m, inputs, out: captured.append(inputs[0]))
    classifier.eval()
    try:
        with torch.no_grad():
            for i in range(0, images.shape[0], batch):
                x = (images[i:i + batch].float() + 1) / 2
                classifier((x - fmnist.FASHION_MNIST_MEAN) / fmnist.FASHION_MNIST_STD)
    finally:
        hook.remove()
    return torch.cat(captured).double().cpu().numpy()


def image_distance(classifier: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> float:
    """The Fréchet distance of two image sets in [-1, 1] on ``classifier``'s features."""
    return frechet_distance(*statistics(penultimate_features(classifier, real)),
                            *statistics(penultimate_features(classifier, fake)))
