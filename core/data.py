"""Every dataset of core.datasets from the best source available, as one `Dataset` type.

Sources are tried in order and the first that works wins:

1. a path the user gives (the record's variable, e.g. `MNIST_PATH`, or `path=`): for the
   28 x 28 sets a folder of IDX `*-ubyte(.gz)` files or an `.npz` with x_train/y_train/
   x_test/y_test; for CIFAR-10 its binary .tar.gz or a folder of its six .bin files;
2. MNIST: the canonical 70,000 images the app carries in assets/data/mnist/;
   Fashion-MNIST: Keras' download cache (`~/.keras/datasets`), downloading into it when
   online, then Debian's `dataset-fashion-mnist` package;
   CIFAR-10: the app's download cache, filled when a person asks (core.download).

Everything is read with NumPy: loading data never imports TensorFlow. Images are uint8,
N x H x W for grey sets and N x H x W x 3 (RGB) for colour ones.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import datasets
from core.datafiles import (
    DataError,
    read_examples,
    read_idx_folder,
    read_path,
    split_examples,
)
from core.datasets import DatasetInfo, info

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
SOURCE_NAMES = {"canonical": "the canonical split", "keras": "official test split",
                "path": "from your own files", "debian": "Debian's package",
                "cache": "official test split", "own": "of your own"}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

RETRY_AFTER_S = 600.0       # offline, do not try Fashion-MNIST's download again for ten minutes


@dataclass(frozen=True)
class Dataset:
    """Train/test images (uint8, N x H x W or N x H x W x 3) with labels 0 to classes - 1.

    `x_train` is None when loaded without training images: the web server only shows and
    scores test images, and training workers load the training images themselves.
    """

    name: str
    x_train: np.ndarray | None
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str                 # short key: "path", "canonical", "keras", "debian", "cache"
    description: str            # one sentence a person can read
    problems: tuple[str, ...] = field(default=())  # sources tried before this one, and why they failed

    @property
    def info(self) -> DatasetInfo:
        return info(self.name)

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    @property
    def shape(self) -> tuple[int, int, int]:
        """One image as the models read it: H x W x C."""
        return self.info.shape

    @property
    def size(self) -> int:
        return len(self.y_train) + len(self.y_test)

    @property
    def is_full(self) -> bool:
        """The whole official set, not a sample of it."""
        return self.size >= 60_000

    @property
    def test_note(self) -> str:
        """The data every test-set figure is measured on, in a few words."""
        return (f"{len(self.y_test):,} held-out {self.title} test images, "
                f"{SOURCE_NAMES.get(self.source, self.source)}")


# ---------------------------------------------------------------- Fashion-MNIST's download

_last_failure: dict[str, float] = {}   # url -> when it last failed (monotonic seconds)


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded datasets (KERAS_HOME or ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def from_keras() -> tuple[np.ndarray, ...]:
    """Fashion-MNIST from Keras' cache, downloaded (md5-checked) if it is not there yet.

    Offline this gives up within core.download's 5 s and then refuses to retry for
    RETRY_AFTER_S, so a rerun of a page never waits on the network again.
    """
    from core import download

    if _failed_lately(KERAS_URL):
        raise OSError(f"{KERAS_URL}: unreachable a moment ago, not retrying yet")
    folder = keras_cache_dir() / "fashion-mnist"
    try:
        for fname, md5 in FASHION_MD5.items():
            download.fetch(KERAS_URL + fname, folder / fname, md5)
    except download.DownloadError as e:
        _last_failure[KERAS_URL] = time.monotonic()
        raise DataError(str(e)) from None
    return read_idx_folder(folder, grey_size("fashion_mnist"))


def _failed_lately(url: str) -> bool:
    """A download from `url` failed less than RETRY_AFTER_S ago: offline, most likely."""
    failed_at = _last_failure.get(url)
    return failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S


def _keras_complete() -> bool:
    """Keras' cache holds all four Fashion-MNIST files (so loading needs no network)."""
    folder = keras_cache_dir() / "fashion-mnist"
    return all((folder / fname).is_file() for fname in FASHION_MD5)


# ---------------------------------------------------------------- splits

def stratified_split(y: np.ndarray, test_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with every class in the same proportion in both; a class of two
    or more images keeps at least one on each side (a small dataset's validation is never empty)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = round(len(idx) * test_fraction)
        if test_fraction > 0 and len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


# ---------------------------------------------------------------- load()

ORIGINS = {
    "path": "from {where}",
    "canonical": "the canonical set by LeCun, Cortes and Burges (CC BY-SA 3.0), shipped with the app",
    "keras": "from the Keras cache (downloaded once, then kept)",
    "debian": "from Debian's dataset-fashion-mnist package ({where})",
    "cache": "the official binary version, downloaded into {where}",
    "own": "made on the Your data page and kept on this server",   # never its folder: a reader sees no server path
}
EXAMPLES_FILE = "examples.npz"   # beside dataset.json in a made dataset's folder


def cache_dir() -> Path:
    """Where the app keeps datasets a person downloaded (DIGITLAB_DATA, else ~/.cache/digitlab)."""
    default = Path.home() / ".cache" / "digitlab"
    return Path(os.environ.get("DIGITLAB_DATA") or default)


def downloaded(name: str) -> Path | None:
    """Where the official archive of `name` is (or goes) in the app's cache."""
    archive = info(name).download
    return cache_dir() / archive.file_name if archive else None


def _describe(name: str, source: str, n: int, where: str) -> str:
    return f"{info(name).title}, {n:,} images, " + ORIGINS[source].format(where=where)


def grey_size(name: str) -> tuple[int, int]:
    """H x W of a grey dataset's images, as its IDX and .npz files hold them."""
    return info(name).shape[:2]


def _reader(name: str, path: Path, train_images: bool):
    """A function reading `path` in the format of dataset `name`."""
    if name == "cifar10":
        from core import cifar
        return lambda: cifar.read(path, train_images)
    if path.is_dir():
        return lambda: read_idx_folder(path, grey_size(name), train_images)
    return lambda: read_path(path, grey_size(name))


def own_examples(name: str) -> Path:
    """The examples.npz of dataset `name`, one a person made."""
    return datasets.own_folder(name) / EXAMPLES_FILE


def read_own(name: str) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test of a dataset a person made (its fixed split)."""
    x, y, _, test = read_examples(own_examples(name), info(name).shape)
    return split_examples(x, y, test)


def _sources(name: str, path: str | os.PathLike | None, train_images: bool):
    """(source key, where, reader) in the order they are tried."""
    if datasets.is_own(name):
        yield "own", str(own_examples(name).parent), lambda: read_own(name)
        return
    user_path = path or os.environ.get(info(name).env_var)
    if user_path:
        p = Path(user_path).expanduser()
        yield "path", str(p), _reader(name, p, train_images)
    if name == "mnist":
        yield "canonical", str(EMBEDDED_MNIST), _reader(name, EMBEDDED_MNIST, train_images)
    elif name == "fashion_mnist":
        yield "keras", str(keras_cache_dir()), from_keras
        if DEBIAN_FASHION.is_dir():
            yield "debian", str(DEBIAN_FASHION), _reader(name, DEBIAN_FASHION, train_images)
    elif (archive := downloaded(name)) is not None and archive.is_file():   # no archive: None
        yield "cache", str(archive.parent), _reader(name, archive, train_images)


def revision(name: str) -> int:
    """A number that changes whenever dataset `name`'s images change, for caches to key on:
    0 for the fixed sets, the time examples.npz was last written for one a person makes."""
    if not datasets.is_own(name):
        return 0
    try:
        return own_examples(name).stat().st_mtime_ns
    except OSError:
        return -1


HERE, DOWNLOAD, FAILED, MISSING = "here", "download", "failed", "missing"


def availability(name: str) -> str:
    """Whether dataset `name` can be had, judged from the disk without reading an image:
    HERE (a source's files are there), DOWNLOAD (it needs one: a person starts it, or
    Fashion-MNIST's is tried when it is chosen), FAILED (a person's download of it failed last:
    they may try again) or MISSING (no source here, and no download, or Fashion-MNIST's failed
    a moment ago)."""
    from core import download

    if source_here(name) is not None:
        return HERE
    if datasets.is_own(name):       # deleted, or made on another server
        return MISSING
    if info(name).download:
        return FAILED if download.last_failed(downloaded(name)) else DOWNLOAD
    if name == "fashion_mnist" and not _failed_lately(KERAS_URL):
        return DOWNLOAD
    return MISSING


def source_here(name: str) -> str | None:
    """The source `load(name)` reads first, judged from the disk (its files are there), or None."""
    for source, where, _ in _sources(name, None, train_images=False):
        if (_keras_complete() if source == "keras" else Path(where).exists()):
            return source
    return None


def _beyond_classes(name: str, *labels: np.ndarray) -> str:
    """Why labels do not fit dataset `name`'s classes (one number per class, from 0), or ""."""
    classes = len(info(name).class_names)
    top = max((int(y.max()) for y in labels if len(y)), default=0)
    if top < classes:
        return ""
    return f"labels go up to {top}, but {info(name).title} has {classes} classes"


def load(name: str = "mnist", path: str | os.PathLike | None = None,
         only: str | None = None, train_images: bool = True) -> Dataset:
    """Load dataset `name` (a key of core.datasets.DATASETS) from the first source that works.

    Each source that fails leaves a line in `Dataset.problems`, so a page can say why,
    e.g., the user's MNIST_PATH was skipped. `only` restricts loading to one source
    ("canonical", say) when a result must be reproducible anywhere. Without
    `train_images` the training images are left out (their labels are kept) where the
    format allows it.
    """
    info(name)  # ValueError for a name the app does not know
    problems: list[str] = []
    for source, where, read in _sources(name, path, train_images):
        if only and source != only:
            continue
        try:
            x_train, y_train, x_test, y_test = read()
        except (DataError, OSError, ImportError) as e:
            problems.append(f"{source}: {e}")
            continue
        if not train_images:
            x_train = None
        beyond = _beyond_classes(name, y_train, y_test)
        if beyond:
            problems.append(f"{source}: {where}: {beyond}")
            continue
        n = len(y_train) + len(y_test)
        return Dataset(name, x_train, y_train, x_test, y_test, source,
                       _describe(name, source, n, where), tuple(problems))
    if not problems and info(name).download:
        problems.append(f"not downloaded yet: nothing at {downloaded(name)}")
    raise DataError(f"No source of {name} worked:\n" + "\n".join(problems))
