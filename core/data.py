"""MNIST and Fashion-MNIST from the best source available, as one `Dataset` type.

Sources are tried in order and the first that works wins:

1. a path the user gives (`MNIST_PATH` / `FASHION_MNIST_PATH`, or `path=`): a folder
   of IDX `*-ubyte` / `*-ubyte.gz` files, or an `.npz` with x_train/y_train/x_test/y_test;
2. MNIST: the canonical 70,000 images the app carries in assets/data/mnist/;
   Fashion-MNIST: Keras' download cache (`~/.keras/datasets`), downloading into it when
   online, then Debian's `dataset-fashion-mnist` package.

Everything is read with NumPy: loading data never imports TensorFlow.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

EMBEDDED_MNIST = Path(__file__).resolve().parents[1] / "assets" / "data" / "mnist"
# The MD5s LeCun, Cortes and Burges publish for the four decompressed MNIST files.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Keras does not hash-check Fashion-MNIST; these are the md5s Zalando publishes.
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
CLASS_NAMES = {"mnist": DIGITS, "fashion_mnist": FASHION}
SOURCE_NAMES = {"canonical": "the canonical split", "keras": "official test split",
                "path": "from your MNIST_PATH files", "debian": "Debian's package"}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

CONNECT_TIMEOUT_S = 5.0     # offline, give up on the download this fast
RETRY_AFTER_S = 600.0       # and do not try again for ten minutes


class DataError(Exception):
    """A source exists but its content is unusable; the message names the file."""


@dataclass(frozen=True)
class Dataset:
    """Train/test images (uint8, N x 28 x 28, white on black) with labels 0-9."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str                 # short key: "path", "canonical", "keras", "debian"
    description: str            # one sentence a person can read
    problems: tuple[str, ...] = field(default=())  # sources tried before this one, and why they failed

    @property
    def title(self) -> str:
        return TITLES[self.name]

    @property
    def size(self) -> int:
        return len(self.y_train) + len(self.y_test)

    @property
    def is_full(self) -> bool:
        return self.size >= 70_000

    @property
    def test_note(self) -> str:
        """The data every test-set figure is measured on, in a few words."""
        return (f"{len(self.y_test):,} held-out {self.title} test images, "
                f"{SOURCE_NAMES.get(self.source, self.source)}")


# ---------------------------------------------------------------- file formats

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


def _checked(x: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate one images/labels pair and return it as uint8 28x28 / uint8 labels."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{where}: images have shape {x.shape}, expected (N, 28, 28)")
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x):,} images but {len(y):,} labels")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{where}: labels must be 0-9, found {y.min()}..{y.max()}")
    if x.dtype != np.uint8:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{where}: pixel values outside 0-255")
        x = x.astype(np.uint8)
    return _frozen(x), _frozen(y.astype(np.uint8))


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


def read_idx_folder(folder: Path) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test from a folder of the four MNIST IDX files."""
    arrays = {}
    for split in ("train", "t10k"):
        x_path, y_path = _find(folder, split, "images"), _find(folder, split, "labels")
        arrays[split] = _checked(read_idx(x_path), read_idx(y_path), f"{x_path} + {y_path.name}")
    return (*arrays["train"], *arrays["t10k"])


def read_npz(path: Path) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test from an .npz like Keras' mnist.npz."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)}")
            train = _checked(f["x_train"], f["y_train"], f"{path} (train)")
            test = _checked(f["x_test"], f["y_test"], f"{path} (test)")
    except DataError:
        raise
    except Exception as e:  # zipfile/pickle/value errors all mean "not a usable npz"
        raise DataError(f"{path}: not a readable .npz ({type(e).__name__}: {e})") from None
    return (*train, *test)


def read_path(path: Path) -> tuple[np.ndarray, ...]:
    """Read a user-given dataset path: an IDX folder or an .npz file."""
    if path.is_dir():
        return read_idx_folder(path)
    if path.is_file():
        return read_npz(path)
    raise DataError(f"{path}: no such file or folder")


# ---------------------------------------------------------------- download

_last_failure: dict[str, float] = {}
_download_lock = threading.Lock()


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded datasets (KERAS_HOME or ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _open_url(url: str, timeout: float):
    """urlopen whose whole connection phase, DNS included, ends within `timeout`."""
    box: dict = {}

    def connect():
        try:
            box["response"] = urllib.request.urlopen(url, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - reported to the caller below
            box["error"] = e

    t = threading.Thread(target=connect, daemon=True)
    t.start()
    t.join(timeout)
    if "response" in box:
        return box["response"]
    raise OSError(f"cannot reach {url}: {box.get('error') or f'no answer in {timeout:.0f} s'}")


def download(url: str, target: Path, algorithm: str, digest: str) -> Path:
    """Fetch `url` into `target` unless a file with the right hash is already there.

    Offline this gives up within CONNECT_TIMEOUT_S and then refuses to retry for
    RETRY_AFTER_S, so a rerun of a page never waits on the network again.
    """
    if target.is_file() and _file_digest(target, algorithm) == digest:
        return target
    with _download_lock:
        failed_at = _last_failure.get(url)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
            raise OSError(f"{url}: unreachable a moment ago, not retrying yet")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with _open_url(url, CONNECT_TIMEOUT_S) as response, open(partial, "wb") as out:
                while block := response.read(1 << 16):
                    out.write(block)
            if _file_digest(partial, algorithm) != digest:
                raise DataError(f"{url}: downloaded file failed its {algorithm} check")
            os.replace(partial, target)
        except Exception:
            _last_failure[url] = time.monotonic()
            partial.unlink(missing_ok=True)
            raise
    return target


def from_keras() -> tuple[np.ndarray, ...]:
    """Fashion-MNIST from Keras' cache, downloaded (md5-checked) if it is not there yet."""
    folder = keras_cache_dir() / "fashion-mnist"
    for fname, md5 in FASHION_MD5.items():
        download(KERAS_URL + fname, folder / fname, "md5", md5)
    return read_idx_folder(folder)


# ---------------------------------------------------------------- splits

def stratified_split(y: np.ndarray, test_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with every class in the same proportion in both."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = round(len(idx) * test_fraction)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


# ---------------------------------------------------------------- load()

ENV_VARS = {"mnist": "MNIST_PATH", "fashion_mnist": "FASHION_MNIST_PATH"}  # one per name in TITLES


ORIGINS = {
    "path": "from {where}",
    "canonical": "the canonical set by LeCun, Cortes and Burges (CC BY-SA 3.0), shipped with the app",
    "keras": "from the Keras cache (downloaded once, then kept)",
    "debian": "from Debian's dataset-fashion-mnist package ({where})",
}


def _describe(name: str, source: str, n: int, where: str) -> str:
    return f"{TITLES[name]}, {n:,} images, " + ORIGINS[source].format(where=where)


def _sources(name: str, path: str | os.PathLike | None):
    """(source key, where, reader) in the order they are tried."""
    user_path = path or os.environ.get(ENV_VARS[name])
    if user_path:
        p = Path(user_path).expanduser()
        yield "path", str(p), lambda: read_path(p)
    if name == "mnist":
        yield "canonical", str(EMBEDDED_MNIST), lambda: read_idx_folder(EMBEDDED_MNIST)
        return
    yield "keras", str(keras_cache_dir()), from_keras
    if DEBIAN_FASHION.is_dir():
        yield "debian", str(DEBIAN_FASHION), lambda: read_idx_folder(DEBIAN_FASHION)


def load(name: str = "mnist", path: str | os.PathLike | None = None,
         only: str | None = None) -> Dataset:
    """Load `name` ("mnist" or "fashion_mnist") from the first source that works.

    Each source that fails leaves a line in `Dataset.problems`, so a page can
    say why, e.g., the user's MNIST_PATH was skipped. `only` restricts loading to
    one source ("canonical", say) when a result must be reproducible anywhere.
    """
    if name not in ENV_VARS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(ENV_VARS)}")
    problems: list[str] = []
    for source, where, read in _sources(name, path):
        if only and source != only:
            continue
        try:
            x_train, y_train, x_test, y_test = read()
        except (DataError, OSError, ImportError) as e:
            problems.append(f"{source}: {e}")
            continue
        n = len(y_train) + len(y_test)
        return Dataset(name, x_train, y_train, x_test, y_test,
                       CLASS_NAMES[name], source,
                       _describe(name, source, n, where), tuple(problems))
    raise DataError(f"No source of {name} worked:\n" + "\n".join(problems))
