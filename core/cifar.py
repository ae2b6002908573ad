"""CIFAR-10 from its official binary version (cifar-10-binary.tar.gz), read with NumPy.

Each of the six batch files is a run of 3,073-byte records: one label byte (0-9), then
the 32x32 red plane, green plane and blue plane, each row-major. `read` takes the
.tar.gz itself (streamed member by member, nothing extracted to disk) or a folder of
the .bin files; `write` makes the same format, for tests and benchmarks. The pickled
"python version" is never read: unpickling a download can run code.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterator

import numpy as np

from core.datasets import DATASETS, DataError

FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
SIDE = 32
RECORD = 1 + 3 * SIDE * SIDE   # 3,073 bytes: the label, then R, G and B planes


# ---------------------------------------------------------------- one batch file

def decode(raw: bytes, name: str, keep_images: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Images (N x 32 x 32 x 3, RGB) and labels from one batch file's bytes, checked."""
    if len(raw) % RECORD:
        raise DataError(f"{name}: {len(raw):,} bytes is not a whole number of "
                        f"{RECORD:,}-byte records (truncated, or not a CIFAR-10 batch)")
    records = np.frombuffer(raw, np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].copy()
    if len(labels) and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{name}: record {bad:,} has label {labels[bad]}, expected 0-9")
    if not keep_images:
        return None, labels
    planes = records[:, 1:].reshape(-1, 3, SIDE, SIDE)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels


def encode(x: np.ndarray, y: np.ndarray) -> bytes:
    """The bytes of one batch file: per record the label, then the R, G and B planes."""
    x, y = np.asarray(x, np.uint8), np.asarray(y, np.uint8).reshape(-1)
    if x.shape[1:] != (SIDE, SIDE, 3) or len(x) != len(y):
        raise ValueError(f"expected N x 32 x 32 x 3 images and N labels, got {x.shape} and {y.shape}")
    records = np.empty((len(y), RECORD), np.uint8)
    records[:, 0] = y
    records[:, 1:] = x.transpose(0, 3, 1, 2).reshape(len(y), -1)
    return records.tobytes()


# ---------------------------------------------------------------- the six files

def _batch_folder(folder: Path) -> Path:
    """The folder itself, or its cifar-10-batches-bin/ when the files are in there."""
    inner = folder / FOLDER
    return inner if not (folder / TEST_FILE).exists() and inner.is_dir() else folder


def _folder_batches(folder: Path) -> Iterator[tuple[str, str, bytes]]:
    """(file name, name for messages, bytes) of the six batch files in a folder."""
    base = _batch_folder(folder)
    for name in (*TRAIN_FILES, TEST_FILE):
        path = base / name
        if not path.is_file():
            raise DataError(f"{path}: missing (CIFAR-10 needs data_batch_1.bin … "
                            f"data_batch_5.bin and test_batch.bin)")
        try:
            yield name, str(path), path.read_bytes()
        except OSError as e:
            raise DataError(f"{path}: cannot be read ({e})") from None


def _tar_problem(path: Path, error: Exception) -> DataError:
    """A plain DataError for a .tar.gz that cannot be streamed to its end."""
    text = str(error) or type(error).__name__
    if isinstance(error, EOFError) or "unexpected end" in text:
        return DataError(f"{path}: truncated ({text})")
    return DataError(f"{path}: not a readable .tar.gz ({text})")


def _tar_batches(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(file name, name for messages, bytes) of the six batch files, streamed from the tar.

    The gzip stream is read to its end, so its CRC catches a corrupt or truncated file.
    """
    wanted = {*TRAIN_FILES, TEST_FILE}
    try:
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as gz, \
                tarfile.open(fileobj=gz, mode="r|") as tar:
            for member in tar:
                name = PurePosixPath(member.name).name
                if member.isfile() and name in wanted:
                    wanted.discard(name)
                    yield name, f"{path} ({member.name})", tar.extractfile(member).read()
            while gz.read(1 << 20):
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise _tar_problem(path, e) from None
    if wanted:
        raise DataError(f"{path}: no {', '.join(sorted(wanted))} inside "
                        f"(not cifar-10-binary.tar.gz, or cut short)")


def _read_only(a: np.ndarray) -> np.ndarray:
    """Datasets are shared by every session: make their arrays read-only."""
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The batches one after another (no copy when there is only one)."""
    return _read_only(parts[0] if len(parts) == 1 else np.concatenate(parts))


def read(source: Path, train_images: bool = True
         ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, y_train, x_test, y_test from cifar-10-binary.tar.gz or a folder of its .bin files.

    Images are uint8 N x 32 x 32 x 3 (RGB), labels uint8. With train_images=False the
    training pixels are dropped batch by batch (x_train is None), to save memory.
    """
    source = Path(source)
    if source.is_dir():
        batches = _folder_batches(source)
    elif source.is_file():
        batches = _tar_batches(source)
    else:
        raise DataError(f"{source}: no such file or folder")
    images, labels = {}, {}
    for name, where, raw in batches:
        keep = train_images or name == TEST_FILE
        images[name], labels[name] = decode(raw, where, keep_images=keep)
        del raw
    if not len(labels[TEST_FILE]):
        raise DataError(f"{source}: {TEST_FILE} holds no images")
    x_train = _joined([images.pop(n) for n in TRAIN_FILES]) if train_images else None
    y_train = _joined([labels[n] for n in TRAIN_FILES])
    return x_train, y_train, _read_only(images[TEST_FILE]), _read_only(labels[TEST_FILE])


def write(target: Path, x_train: np.ndarray, y_train: np.ndarray,
          x_test: np.ndarray, y_test: np.ndarray, batches: int = 5) -> None:
    """Write a set in CIFAR-10's binary format: a .tar.gz, or a folder of .bin files.

    The training images are split into `batches` files; `read` wants the official five.
    """
    target = Path(target)
    parts = np.array_split(np.arange(len(y_train)), batches)
    files = ((f"data_batch_{i}.bin", lambda idx=idx: encode(x_train[idx], y_train[idx]))
             for i, idx in enumerate(parts, start=1))
    files = [*files, (TEST_FILE, lambda: encode(x_test, y_test)),
             ("batches.meta.txt", lambda: "\n".join(DATASETS["cifar10"].class_names).encode() + b"\n")]
    if target.name.endswith(".tar.gz"):
        _write_tar(target, files)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, content in files:
            (target / name).write_bytes(content())


def _write_tar(target: Path, files: list) -> None:
    """A reproducible .tar.gz (no timestamps) holding cifar-10-batches-bin/<name> per file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out, \
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=out, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files:
            data = content()
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
