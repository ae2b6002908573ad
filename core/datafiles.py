"""The files datasets come in, read with NumPy and checked: IDX (MNIST's own format,
optionally gzipped) and .npz; a file it cannot use raises core.datasets.DataError.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from core.datasets import DataError

def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) of unsigned bytes into an array."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot be read ({e})") from None
    if len(raw) < 4 or raw[0:2] != b"\0\0" or raw[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f"{path}: header promises {expected:,} bytes for shape {shape}, "
                        f"file holds {len(raw) - header:,}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an array of unsigned bytes as IDX (gzipped if the name ends in .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    opener = gzip.open if Path(path).suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _checked(x: np.ndarray, y: np.ndarray, where: str, shape: tuple[int, ...]
             ) -> tuple[np.ndarray, np.ndarray]:
    """Validate one images/labels pair and return it as uint8 images of `shape` / uint8 labels."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim == 2 and x.shape[1] == int(np.prod(shape)):
        x = x.reshape(-1, *shape)
    if x.shape[1:] != tuple(shape):
        raise DataError(f"{where}: images have shape {x.shape}, expected (N, "
                        f"{', '.join(map(str, shape))})")
    y = _checked_labels(x.shape, y, where)
    if x.dtype != np.uint8:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{where}: pixel values outside 0-255")
        x = x.astype(np.uint8)
    return _frozen(x), y


def _checked_labels(images: tuple[int, ...], y: np.ndarray, where: str) -> np.ndarray:
    """The labels of images of shape `images` (N x ...), checked: one per image, each 0-9."""
    y = np.asarray(y).reshape(-1)
    if images[0] != len(y):
        raise DataError(f"{where}: {images[0]:,} images but {len(y):,} labels")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{where}: labels must be 0-9, found {y.min()}..{y.max()}")
    return _frozen(y.astype(np.uint8))


def _frozen(a: np.ndarray) -> np.ndarray:
    """Datasets are shared by every session: make their arrays read-only."""
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _find(folder: Path, split: str, kind: str) -> Path:
    """The IDX file for a split ("train"/"t10k") and kind ("images"/"labels")."""
    hits = sorted(p for p in folder.glob(f"{split}-{kind}*ubyte*")
                  if p.name.endswith(("ubyte", "ubyte.gz")))
    if not hits:
        raise DataError(f"{folder}: no {split}-{kind}-idx*-ubyte(.gz) file")
    return hits[0]


def read_idx_folder(folder: Path, shape: tuple[int, int], train_images: bool = True
                    ) -> tuple[np.ndarray | None, ...]:
    """x_train, y_train, x_test, y_test from a folder of the four MNIST IDX files.

    Without `train_images`, x_train is None and only its file's header is read: it is
    the largest file by far (0.2-0.4 s to decompress for MNIST, on every fresh server)."""
    arrays = {}
    for split in ("train", "t10k"):
        x_path, y_path = _find(folder, split, "images"), _find(folder, split, "labels")
        where = f"{x_path} + {y_path.name}"
        if split == "train" and not train_images:
            declared = idx_shape(x_path)
            if declared[1:] != tuple(shape):
                raise DataError(f"{x_path}: images have shape {declared}, expected (N, "
                                f"{', '.join(map(str, shape))})")
            arrays[split] = None, _checked_labels(declared, read_idx(y_path), where)
        else:
            arrays[split] = _checked(read_idx(x_path), read_idx(y_path), where, shape)
    return (*arrays["train"], *arrays["t10k"])


def idx_shape(path: Path) -> tuple[int, ...]:
    """The shape an IDX file declares in its header (only its first bytes are read)."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            head = f.read(4)
            dims = f.read(4 * head[3]) if len(head) == 4 else b""
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot be read ({e})") from None
    if len(head) < 4 or head[0:3] != b"\0\0\x08" or len(dims) < 4 * head[3]:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad header)")
    return tuple(int.from_bytes(dims[i: i + 4], "big") for i in range(0, len(dims), 4))


def read_npz(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test from an .npz like Keras' mnist.npz."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)}")
            train = _checked(f["x_train"], f["y_train"], f"{path} (train)", shape)
            test = _checked(f["x_test"], f["y_test"], f"{path} (test)", shape)
    except DataError:
        raise
    except Exception as e:  # zipfile/pickle/value errors all mean "not a usable npz"
        raise DataError(f"{path}: not a readable .npz ({type(e).__name__}: {e})") from None
    return (*train, *test)


def read_path(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Read a user-given dataset path of H x W grey images: an IDX folder or an .npz file."""
    if path.is_dir():
        return read_idx_folder(path, shape)
    if path.is_file():
        return read_npz(path, shape)
    raise DataError(f"{path}: no such file or folder")


EXAMPLE_ARRAYS = ("x", "y", "ids", "test")   # examples.npz of a dataset a person made


def read_examples(path: Path, shape: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    """x (uint8 N x H x W(x3)), y, ids, test (bool) from a made dataset's examples.npz, checked."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = set(EXAMPLE_ARRAYS) - set(f.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)}")
            x, y, ids, test = (f[name] for name in EXAMPLE_ARRAYS)
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile/value errors: not a usable npz
        raise DataError(f"{path}: not a readable .npz ({type(e).__name__}: {e})") from None
    h, w, c = shape
    want = (h, w) if c == 1 else (h, w, c)
    if x.dtype != np.uint8 or x.shape[1:] != want or not len(x) == len(y) == len(ids) == len(test):
        raise DataError(f"{path}: arrays of shapes {x.shape}, {y.shape}, {ids.shape}, "
                        f"{test.shape} do not make examples of {want}")
    return x, y.astype(np.int64), ids.astype(str), test.astype(bool)


def split_examples(x: np.ndarray, y: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test of a made dataset (its fixed test flags), read-only."""
    labels = y.astype(np.uint8)
    return tuple(_frozen(a) for a in (x[~test], labels[~test], x[test], labels[test]))
