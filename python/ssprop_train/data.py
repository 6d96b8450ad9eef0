"""Fashion-MNIST from IDX files, checked and normalised, as in-memory tensors.

The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header of
``0x00 0x00 <type> <ndim>`` followed by ``ndim`` big-endian uint32 dimensions,
then the data. Images are type 0x08 (uint8) with 3 dimensions, labels type 0x08
with 1 dimension: magic 0x00000803 and 0x00000801. Files may be gzip-compressed
(``.gz``), as Debian's ``dataset-fashion-mnist`` installs them.

Every check fails with :class:`IdxError` naming the file, what was expected and
what was found; a missing data set fails with :class:`DatasetNotFoundError`
listing where it was looked for and how to point at it.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np
import torch

#: Normalisation of the paper's code for Fashion-MNIST.
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530

#: Where the data set is looked for when no directory is given, in order.
ENV_VAR = "SSPROP_FASHION_MNIST"
DEFAULT_DIRS = ("/usr/share/datasets/fashion-mnist",)

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_TYPE_UBYTE = 0x08

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_EXPECTED_COUNT = {"train": 60000, "test": 10000}


class IdxError(ValueError):
    """A malformed IDX file."""


class DatasetNotFoundError(FileNotFoundError):
    """The data set's files are not where they were looked for."""


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        # A truncated or corrupted gzip stream: name the file.
        raise IdxError(f"{path}: cannot read: {e}") from e


_cache: dict = {}


def read_idx(path, expected_magic: Optional[int] = None) -> np.ndarray:
    """Reads one IDX file of unsigned bytes and returns it as a read-only uint8
    array.

    Checks the magic number (and ``expected_magic`` when given), that every
    dimension is non-zero, and that the data size is exactly the product of the
    dimensions. Files read before are served from memory while their size and
    modification time are unchanged (repeated runs in one process).
    """
    path = Path(path)
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    except OSError as e:
        raise IdxError(f"{path}: cannot read: {e}") from e
    if key in _cache:
        raw = _cache[key]
    else:
        raw = _read_bytes(path)
        if len(_cache) >= 8:
            _cache.clear()
        _cache[key] = raw
    if len(raw) < 4:
        raise IdxError(f"{path}: {len(raw)} bytes, too short for an IDX header (4 bytes)")
    zero0, zero1, dtype, ndim = raw[0], raw[1], raw[2], raw[3]
    magic = struct.unpack(">I", raw[:4])[0]
    if zero0 != 0 or zero1 != 0 or dtype != _TYPE_UBYTE or not 1 <= ndim <= 4:
        raise IdxError(
            f"{path}: bad magic number 0x{magic:08x}: expected 0x000008NN "
            f"(unsigned bytes, 1 to 4 dimensions); is this an IDX file?")
    if expected_magic is not None and magic != expected_magic:
        raise IdxError(f"{path}: magic number 0x{magic:08x}, expected 0x{expected_magic:08x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{path}: {len(raw)} bytes, too short for a header of {ndim} dimensions "
                       f"({header} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if any(d == 0 for d in dims):
        raise IdxError(f"{path}: a dimension is zero: {list(dims)}")
    size = int(np.prod(dims, dtype=np.int64))
    got = len(raw) - header
    if got != size:
        what = "truncated" if got < size else "trailing bytes"
        raise IdxError(f"{path}: {what}: dimensions {list(dims)} need {size} data bytes, "
                       f"the file has {got}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_file(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DatasetNotFoundError(f"{root}: no {stem} or {stem}.gz")


def find_root(root=None) -> Path:
    """The directory of the IDX files: ``root``, else $SSPROP_FASHION_MNIST,
    else the Debian package's directory."""
    candidates = [Path(root)] if root else (
        [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else [Path(d) for d in DEFAULT_DIRS])
    for c in candidates:
        if c.is_dir() and all((c / n).is_file() or (c / (n + ".gz")).is_file()
                              for n in FILES["train"] + FILES["test"]):
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise DatasetNotFoundError(
        f"Fashion-MNIST not found (looked in: {tried}); it needs "
        f"{', '.join(FILES['train'] + FILES['test'])} (optionally .gz). Install the Debian "
        f"package dataset-fashion-mnist, or pass --data DIR, or set ${ENV_VAR}.")


def load_split(split: str, root=None, subset: Optional[int] = None,
               normalize: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Images [N, 1, 28, 28] float32 (normalised) and labels [N] int64.

    ``subset`` keeps the first N examples (all of them when None or larger).
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    if subset is not None and subset < 1:
        raise ValueError(f"subset must be >= 1, got {subset}")
    root = find_root(root)
    img_path = find_file(root, FILES[split][0])
    lbl_path = find_file(root, FILES[split][1])
    images = read_idx(img_path, IMAGES_MAGIC)
    labels = read_idx(lbl_path, LABELS_MAGIC)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxError(f"{img_path}: images of shape {list(images.shape)}, expected [N, 28, 28]")
    if labels.shape[0] != images.shape[0]:
        raise IdxError(f"{lbl_path}: {labels.shape[0]} labels for {images.shape[0]} images "
                       f"in {img_path}")
    if labels.size and labels.max() > 9:
        raise IdxError(f"{lbl_path}: label {int(labels.max())} out of range 0..9")
    if subset is not None:
        images, labels = images[:subset], labels[:subset]
    x = torch.from_numpy(images.astype(np.float32)).div_(255.0).unsqueeze(1)
    if normalize:
        x.sub_(FASHION_MNIST_MEAN).div_(FASHION_MNIST_STD)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def train_val_indices(total: int, subset: Optional[int], val: int, seed: int
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Indices (ascending) of the training and the validation images among
    ``total``: ``val`` images drawn at random by ``seed``, then the first
    ``subset`` of the others (all of them when None). Disjoint; with ``val`` 0
    the training images are the first ``subset``, as without a split."""
    if val < 0:
        raise ValueError(f"validation images must be >= 0, got {val}")
    wanted = (subset or total - val) + val
    if val and wanted > total:
        raise ValueError(f"{subset} training and {val} validation images exceed the {total} "
                         f"training images")
    held = torch.zeros(total, dtype=torch.bool)
    g = torch.Generator().manual_seed(seed)
    held[torch.randperm(total, generator=g)[:val]] = True
    train = torch.nonzero(~held).squeeze(1)
    return train[:subset] if subset is not None else train, torch.nonzero(held).squeeze(1)


def matching_test_subset(train_subset: Optional[int]) -> Optional[int]:
    """The test subset matching a train subset: the same fraction of the test set
    (1/6 of it: 60000 train, 10000 test), at least 1."""
    if train_subset is None:
        return None
    return max(1, min(_EXPECTED_COUNT["test"],
                      train_subset * _EXPECTED_COUNT["test"] // _EXPECTED_COUNT["train"]))


@dataclass
class Batches:
    """Mini-batches over in-memory tensors, reshuffled each epoch by a seeded
    generator (reproducible; the same on every rank for the same seed).

    With ``rank``/``world_size`` each rank takes a disjoint, equal-sized
    contiguous slice of every global batch (the global batch is ``batch_size *
    world_size`` examples), so the concatenation of the ranks' batches is exactly
    the single-process batch of size ``batch_size * world_size``.
    """
    x: torch.Tensor
    y: torch.Tensor
    batch_size: int
    shuffle: bool = True
    seed: int = 0
    drop_last: bool = False
    rank: int = 0
    world_size: int = 1

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {self.batch_size}")
        self.epoch = 0

    def global_batch(self) -> int:
        return self.batch_size * self.world_size

    def __len__(self) -> int:
        n, b = self.x.shape[0], self.global_batch()
        return n // b if self.drop_last or self.world_size > 1 else (n + b - 1) // b

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        n = self.x.shape[0]
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
            order = torch.randperm(n, generator=g)
        else:
            order = torch.arange(n)
        self.epoch += 1
        b = self.global_batch()
        for i in range(len(self)):
            idx = order[i * b:(i + 1) * b]
            if self.world_size > 1:
                idx = idx[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
            yield self.x[idx], self.y[idx]


def fashion_mnist(root=None, subset: Optional[int] = None):
    """(train_x, train_y, test_x, test_y); the test set is cut to the matching
    subset when ``subset`` is given."""
    train = load_split("train", root, subset)
    test = load_split("test", root, matching_test_subset(subset))
    return train + test


__all__: Sequence[str] = [
    "FASHION_MNIST_MEAN", "FASHION_MNIST_STD", "IdxError", "DatasetNotFoundError", "read_idx",
    "find_root", "load_split", "train_val_indices", "fashion_mnist",
    "matching_test_subset", "Batches", "ENV_VAR",
]
