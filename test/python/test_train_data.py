"""The Fashion-MNIST IDX loader (python/ssprop_train/data.py): the real files and
corrupted copies (truncated, bad magic, wrong dimensions, trailing bytes)."""

import gzip
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import data  # noqa: E402

STEMS = data.FILES["train"] + data.FILES["test"]


def real_root():
    try:
        return data.find_root()
    except data.DatasetNotFoundError as e:
        pytest.skip(f"Fashion-MNIST is not installed here: {e}")


def idx_bytes(magic: int, dims, payload: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload


def write_set(d: Path, n_train=12, n_test=6, gz=False, **override):
    """A tiny well-formed data set in d; override[stem] = bytes replaces a file."""
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": idx_bytes(0x803, (n_train, 28, 28),
                                             rng.integers(0, 256, n_train * 784, np.uint8).tobytes()),
        "train-labels-idx1-ubyte": idx_bytes(0x801, (n_train,), bytes(i % 10 for i in range(n_train))),
        "t10k-images-idx3-ubyte": idx_bytes(0x803, (n_test, 28, 28),
                                            rng.integers(0, 256, n_test * 784, np.uint8).tobytes()),
        "t10k-labels-idx1-ubyte": idx_bytes(0x801, (n_test,), bytes(i % 10 for i in range(n_test))),
    }
    files.update(override)
    d.mkdir(parents=True, exist_ok=True)
    for stem, raw in files.items():
        if gz:
            with gzip.open(d / (stem + ".gz"), "wb") as f:
                f.write(raw)
        else:
            (d / stem).write_bytes(raw)
    return d


def test_real_files_shapes_and_normalisation():
    root = real_root()
    x, y = data.load_split("test", root)
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert str(x.dtype) == "torch.float32" and str(y.dtype) == "torch.int64"
    assert int(y.min()) == 0 and int(y.max()) == 9
    # Normalised with the paper's constants: the raw pixels come back exactly.
    raw = x * data.FASHION_MNIST_STD + data.FASHION_MNIST_MEAN
    assert float(raw.min()) == pytest.approx(0.0, abs=1e-5)
    assert float(raw.max()) == pytest.approx(1.0, abs=1e-5)
    # The test set's mean pixel is close to the train set's 0.2860.
    assert float(raw.mean()) == pytest.approx(0.2860, abs=0.01)


def test_real_train_subset_and_matching_test_subset():
    root = real_root()
    tx, ty, vx, vy = data.fashion_mnist(root, subset=600)
    assert tx.shape[0] == 600 and ty.shape[0] == 600
    assert vx.shape[0] == 100 and vy.shape[0] == 100
    full_y = data.read_idx(data.find_file(root, "train-labels-idx1-ubyte"), data.LABELS_MAGIC)
    assert full_y.shape == (60000,)
    assert (ty.numpy() == full_y[:600]).all()


@pytest.mark.parametrize("gz", [False, True])
def test_tiny_set_roundtrip(tmp_path, gz):
    write_set(tmp_path, gz=gz)
    x, y = data.load_split("train", tmp_path)
    assert x.shape == (12, 1, 28, 28)
    assert y.tolist() == [i % 10 for i in range(12)]


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_images(tmp_path, gz):
    good = idx_bytes(0x803, (12, 28, 28), bytes(12 * 784))
    write_set(tmp_path, gz=gz, **{"train-images-idx3-ubyte": good[:-100]})
    with pytest.raises(data.IdxError, match=r"train-images-idx3-ubyte.*truncated.*\[12, 28, 28\]"):
        data.load_split("train", tmp_path)


def test_truncated_gzip_stream(tmp_path):
    write_set(tmp_path, gz=True)
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-12])  # cut the gzip trailer and some data
    with pytest.raises(data.IdxError, match="train-labels-idx1-ubyte.gz: cannot read"):
        data.load_split("train", tmp_path)


def test_bad_magic(tmp_path):
    write_set(tmp_path, **{"t10k-labels-idx1-ubyte": b"GIF89a" + bytes(20)})
    with pytest.raises(data.IdxError, match=r"t10k-labels-idx1-ubyte: bad magic number 0x47494638"):
        data.load_split("test", tmp_path)


def test_swapped_files_wrong_magic(tmp_path):
    # A labels file where images are expected: the magic number says so.
    write_set(tmp_path, **{"train-images-idx3-ubyte": idx_bytes(0x801, (12,), bytes(12))})
    with pytest.raises(data.IdxError, match=r"magic number 0x00000801, expected 0x00000803"):
        data.load_split("train", tmp_path)


def test_header_too_short(tmp_path):
    write_set(tmp_path, **{"train-images-idx3-ubyte": struct.pack(">I", 0x803) + b"\0\0\0\x0c"})
    with pytest.raises(data.IdxError, match="too short for a header of 3 dimensions"):
        data.load_split("train", tmp_path)


def test_wrong_image_dims(tmp_path):
    write_set(tmp_path, **{"train-images-idx3-ubyte": idx_bytes(0x803, (12, 27, 28), bytes(12 * 27 * 28))})
    with pytest.raises(data.IdxError, match=r"images of shape \[12, 27, 28\], expected \[N, 28, 28\]"):
        data.load_split("train", tmp_path)


def test_trailing_bytes(tmp_path):
    write_set(tmp_path, **{"train-labels-idx1-ubyte": idx_bytes(0x801, (12,), bytes(13))})
    with pytest.raises(data.IdxError, match="trailing bytes"):
        data.load_split("train", tmp_path)


def test_label_count_mismatch(tmp_path):
    write_set(tmp_path, **{"train-labels-idx1-ubyte": idx_bytes(0x801, (11,), bytes(11))})
    with pytest.raises(data.IdxError, match="11 labels for 12 images"):
        data.load_split("train", tmp_path)


def test_label_out_of_range(tmp_path):
    write_set(tmp_path, **{"train-labels-idx1-ubyte": idx_bytes(0x801, (12,), bytes([10] * 12))})
    with pytest.raises(data.IdxError, match="label 10 out of range"):
        data.load_split("train", tmp_path)


def test_missing_directory_names_where_it_looked(tmp_path, monkeypatch):
    with pytest.raises(data.DatasetNotFoundError, match="dataset-fashion-mnist"):
        data.load_split("train", tmp_path / "nowhere")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env-dir"))
    with pytest.raises(data.DatasetNotFoundError, match="env-dir"):
        data.find_root()


def test_missing_one_file(tmp_path):
    write_set(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(data.DatasetNotFoundError, match="t10k-images-idx3-ubyte"):
        data.find_root(tmp_path)


def test_batches_cover_and_split_over_ranks():
    import torch
    x = torch.arange(20).float().view(20, 1)
    y = torch.arange(20)
    single = list(data.Batches(x, y, 8, seed=3))
    assert [b[0].shape[0] for b in single] == [8, 8, 4]
    assert sorted(torch.cat([b[1] for b in single]).tolist()) == list(range(20))
    # Two ranks of 4: their batches concatenate to the single process's batches of 8.
    r0 = list(data.Batches(x, y, 4, seed=3, rank=0, world_size=2))
    r1 = list(data.Batches(x, y, 4, seed=3, rank=1, world_size=2))
    assert len(r0) == len(r1) == 2
    for (a, _), (b, _), (s, _) in zip(r0, r1, single):
        assert torch.equal(torch.cat([a, b]), s)


def test_validation_split_is_disjoint_seeded_and_keeps_file_order():
    import torch
    train, val = data.train_val_indices(100, 30, 20, seed=7)
    assert len(train) == 30 and len(val) == 20
    assert not set(train.tolist()) & set(val.tolist())
    # Drawn by the seed: the held-out images are a random permutation's first 20.
    ref = torch.randperm(100, generator=torch.Generator().manual_seed(7))[:20]
    assert val.tolist() == sorted(ref.tolist())
    # Training: the first 30 images that are not held out, in file order.
    assert train.tolist() == [i for i in range(100) if i not in set(ref.tolist())][:30]
    assert data.train_val_indices(100, 30, 20, seed=8)[1].tolist() != val.tolist()
    # No subset: every image not held out; no split: the first `subset`, as before.
    assert len(data.train_val_indices(100, None, 20, seed=7)[0]) == 80
    t, v = data.train_val_indices(100, 30, 0, seed=7)
    assert t.tolist() == list(range(30)) and len(v) == 0


def test_validation_split_errors():
    with pytest.raises(ValueError, match="^30 training and 80 validation images exceed the "
                                         "100 training images$"):
        data.train_val_indices(100, 30, 80, seed=0)
    with pytest.raises(ValueError, match="validation images must be >= 0, got -1"):
        data.train_val_indices(100, 30, -1, seed=0)
