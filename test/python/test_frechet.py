"""python/ssprop_train/frechet.py against hand-computed values (identical sets,
two diagonal Gaussians, a full covariance through an independent eigh-based
square root), its feature statistics, the penultimate features of the CNN, and
the classifier checkpoint it loads (python/ssprop_train/checkpoint.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import checkpoint, data, frechet, models  # noqa: E402


def test_statistics_by_hand():
    mu, sigma = frechet.statistics([[0, 0], [2, 0], [0, 2], [2, 2]])
    assert mu.tolist() == [1, 1]
    # Unbiased: each coordinate's squared deviations sum to 4 over n - 1 = 3.
    assert np.allclose(sigma, [[4 / 3, 0], [0, 4 / 3]], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match=r"features must be \[N >= 2, D\], got shape \[1, 3\]"):
        frechet.statistics([[1, 2, 3]])


def test_identical_gaussians_are_at_distance_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    sigma = a @ a.T + np.eye(5)
    mu = rng.normal(size=5)
    assert frechet.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-9)
    feats = rng.normal(size=(50, 4))
    assert frechet.frechet_distance(*frechet.statistics(feats),
                                    *frechet.statistics(feats)) == pytest.approx(0, abs=1e-9)


def test_diagonal_gaussians_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # |mu1 - mu2|^2 + sum (sqrt(v1) - sqrt(v2))^2 = (1 + 0 + 6.25) + (4 + 1 + 0).
    expect = 7.25 + 5.0
    assert frechet.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expect,
                                                                                       rel=1e-12)


def _sqrt_psd(m):
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def test_full_covariance_against_symmetric_formula():
    # Tr (S1 S2)^1/2 = Tr (S1^1/2 S2 S1^1/2)^1/2: the symmetric form, by eigh.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    r = _sqrt_psd(s1)
    expect = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * _sqrt_psd(r @ s2 @ r))
    assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expect, rel=1e-9)


def test_samples_of_two_gaussians_approach_the_closed_form():
    rng = np.random.default_rng(2)
    x = rng.normal([0, 0], [1, 2], size=(20000, 2))
    y = rng.normal([1, 0], [3, 2], size=(20000, 2))
    d = frechet.frechet_distance(*frechet.statistics(x), *frechet.statistics(y))
    assert d == pytest.approx(1 + (1 - 3) ** 2, rel=0.03)


def test_singular_covariance_is_finite():
    # Dead ReLU features: a zero column makes both covariances singular.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 3)) + [0.5, 0, 0]
    x[:, 2] = y[:, 2] = 0
    d = frechet.frechet_distance(*frechet.statistics(x), *frechet.statistics(y))
    assert np.isfinite(d) and d == pytest.approx(
        frechet.frechet_distance(*frechet.statistics(x[:, :2]), *frechet.statistics(y[:, :2])),
        abs=1e-4)


def test_penultimate_features_of_the_cnn():
    torch.manual_seed(0)
    cnn = models.build_model("cnn", width=4)
    images = torch.rand(5, 1, 28, 28) * 2 - 1
    feats = frechet.penultimate_features(cnn, images, batch=2)
    # By hand: the pooled ReLU features of the classifier's own normalisation.
    x = ((images + 1) / 2 - data.FASHION_MNIST_MEAN) / data.FASHION_MNIST_STD
    for conv in cnn.convs:
        x = F.relu(conv(x))
    assert feats.shape == (5, 4)
    assert np.allclose(feats, x.mean((2, 3)).double().detach().numpy(), atol=1e-6)
    assert frechet.image_distance(cnn, images, images) == pytest.approx(0, abs=1e-6)


def test_checkpoint_round_trip_and_errors(tmp_path):
    torch.manual_seed(0)
    cnn = models.build_model("cnn", width=6)
    path = checkpoint.save_classifier(cnn, "cnn", 6, tmp_path / "sub" / "c.pt")
    loaded = checkpoint.load_classifier(path)
    x = torch.randn(3, 1, 28, 28)
    assert not loaded.training and torch.equal(loaded(x), cnn.eval()(x))
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="list.pt: not a classifier checkpoint"):
        checkpoint.load_classifier(tmp_path / "list.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pt: cannot load a classifier checkpoint"):
        checkpoint.load_classifier(tmp_path / "junk.pt")
