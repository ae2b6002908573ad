"""The datasets the app knows, one record each: what every other module reads about a dataset.

Plain data, no NumPy: a page, a worker or a chart asks here for a dataset's title, classes,
image shape, where it comes from and how to get it. Adding a dataset is one record here
plus a reader in core.data. Datasets people make in the app ("own-" + 12 hex digits, built
by core.own_datasets) are records too, read from their folder's dataset.json under
`DIGITLAB_DATASETS` (default `<repo>/datasets`).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path


class DataError(Exception):
    """A source exists but its content is unusable; the message names the file. Here, beside
    the records, so that every reader (core.data, core.cifar) raises it without a loop."""


@dataclass(frozen=True)
class Download:
    """An official archive a person can ask the app to download (checked by MD5)."""

    url: str
    md5: str
    bytes: int
    file_name: str
    url_var: str    # environment variables that override `url` and `md5`: a mirror,
    md5_var: str    # or the tests' server with a made-up set of the same format

    @property
    def address(self) -> str:
        return os.environ.get(self.url_var) or self.url

    @property
    def checksum(self) -> str:
        return os.environ.get(self.md5_var) or self.md5

    @property
    def megabytes(self) -> float:
        return self.bytes / 2**20


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset: names, shape, provenance, and how a person gets it."""

    key: str                         # "mnist", the name in URLs, specs and meta.json
    title: str                       # "MNIST"
    subject: str                     # "handwritten digits": what its images show
    class_names: tuple[str, ...]
    shape: tuple[int, int, int]      # H x W x C of one image as the models read it
    citation: str
    licence: str
    homepage: str
    get_it: str                      # how whoever runs the app gets it when no source works
    env_var: str                     # a path the person gives wins over every other source
    download: Download | None = None # started by a person on the page (None: no such button)
    digits: bool = False             # the drawing canvas and MNIST-style preprocessing apply
    augmentation: str = "rotate-shift-zoom"   # a key of core.kinds.AUGMENTATIONS
    # Published test accuracies of each model kind, set beside the measured ones on Compare.
    published: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """For the dataset picker: "MNIST (handwritten digits)"."""
        return f"{self.title} ({self.subject})"

    @property
    def its_images(self) -> str:
        """What its models learn from, in a sentence: "CIFAR-10's colour photos"; for a
        dataset a person made, "the photos of “Leaves”" (its subject, "your photos", reads
        wrong after "Leaves's", and is not the reader's own when it is shared)."""
        if is_own(self.key):
            return f"the {self.subject.split()[-1]} of “{self.title}”"
        return f"{self.title}'s {self.subject}"

    @property
    def colour(self) -> bool:
        return self.shape[2] == 3

    @property
    def features(self) -> int:
        """Numbers per image: what a Logistic Regression weighs (784 for MNIST)."""
        h, w, c = self.shape
        return h * w * c

    @property
    def drawn(self) -> str:
        """What one drawing on the canvas is, in a sentence: "digit" when the classes are the
        digits 0-9, else "drawing" (a dataset of sketches a person made: letters, shapes…)."""
        return "digit" if self.class_names == DIGITS else "drawing"


DIGITS = tuple(str(d) for d in range(10))

DATASETS = {d.key: d for d in (
    DatasetInfo(
        "mnist", "MNIST", "handwritten digits", DIGITS, (28, 28, 1),
        citation="Y. LeCun, C. Cortes and C. J. C. Burges, “The MNIST database of handwritten "
                 "digits”, 1998",
        licence="CC BY-SA 3.0",
        homepage="https://yann.lecun.com/exdb/mnist/",
        get_it="Restore `assets/data/mnist/` from the app's repository (it ships with the app)",
        env_var="MNIST_PATH", digits=True,
        published={"logreg": "~92 % (softmax regression: TensorFlow's “MNIST for ML Beginners” "
                             "tutorial)",
                   "cnn": "~99 % (keras.io “Simple MNIST convnet”, mnist_convnet)"}),
    DatasetInfo(
        "fashion_mnist", "Fashion-MNIST", "clothing",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), (28, 28, 1),
        citation="H. Xiao, K. Rasul and R. Vollgraf, “Fashion-MNIST: a Novel Image Dataset for "
                 "Benchmarking Machine Learning Algorithms”, arXiv:1708.07747, 2017",
        licence="MIT",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        get_it="Install Debian's package (`sudo apt-get install dataset-fashion-mnist`), or let "
               "this server reach storage.googleapis.com once (Keras' copy, then kept)",
        env_var="FASHION_MNIST_PATH"),
    DatasetInfo(
        "cifar10", "CIFAR-10", "colour photos",
        ("airplane", "automobile", "bird", "cat", "deer",
         "dog", "frog", "horse", "ship", "truck"), (32, 32, 3),
        citation="A. Krizhevsky, “Learning Multiple Layers of Features from Tiny Images”, "
                 "technical report, University of Toronto, 2009",
        licence="no licence stated; its authors ask that the report be cited",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        get_it="Download its binary version from its homepage yourself",
        env_var="CIFAR10_PATH", augmentation="flip-shift",
        download=Download("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                          "c32a1d4ab5d03f1284b67883e8d87530", 170_052_171,
                          "cifar-10-binary.tar.gz", url_var="CIFAR10_URL", md5_var="CIFAR10_MD5"),
        published={"logreg": "~35-40 % (a softmax classifier on raw pixels: Stanford CS231n, "
                             "assignment 1)",
                   "cnn": "~70 % (TensorFlow's “Convolutional Neural Network (CNN)” tutorial)"}),
)}
DEFAULT = "mnist"



# ---------------------------------------------------------------- datasets people make

OWN_PREFIX = "own-"
OWN_KEY = re.compile(r"own-[0-9a-f]{12}")
OWN_JSON = "dataset.json"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class OwnKind:
    """What a kind of dataset a person makes reads like: a built-in set's shape and habits."""

    subject: str
    shape: tuple[int, int, int]
    digits: bool            # sketches are drawn and read like MNIST
    augmentation: str
    like: str               # the built-in dataset it is read like


OWN_KINDS = {
    "sketch": OwnKind("your sketches", (28, 28, 1), True, "rotate-shift-zoom", "mnist"),
    "photo": OwnKind("your photos", (32, 32, 3), False, "flip-shift", "cifar10"),
}


def own_root() -> Path:
    """Where this server keeps the datasets people make (`DIGITLAB_DATASETS`)."""
    return Path(os.environ.get("DIGITLAB_DATASETS") or REPO / "datasets")


def is_own(key: str) -> bool:
    """`key` names a dataset a person made (its form only; it may not exist)."""
    return isinstance(key, str) and bool(OWN_KEY.fullmatch(key))


def own_folder(key: str) -> Path:
    """The folder of dataset `key`; ValueError for a key that is not one (no path tricks)."""
    if not is_own(key):
        raise ValueError(f"{key!r} is not the name of a dataset made in Digit Lab")
    return own_root() / key


def read_own(key: str) -> dict:
    """The dataset.json of dataset `key`, checked; ValueError when it is missing or unusable."""
    path = own_folder(key) / OWN_JSON
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"there is no dataset {key!r} on this server (deleted, or never made "
                         "here)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{key}: its {OWN_JSON} is unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("kind") not in OWN_KINDS \
            or not isinstance(meta.get("class_names"), list) or not meta.get("name"):
        raise ValueError(f"{key}: its {OWN_JSON} does not describe a dataset")
    return meta


def own_info(key: str, meta: dict) -> DatasetInfo:
    """The record of a dataset a person made, from its dataset.json."""
    kind = OWN_KINDS[meta["kind"]]
    made = meta.get("created_at")
    when = time.strftime(" on %Y-%m-%d", time.gmtime(made)) if isinstance(made, (int, float)) else ""
    return DatasetInfo(
        key, str(meta["name"]), kind.subject, tuple(map(str, meta["class_names"])), kind.shape,
        citation=f"Made in Digit Lab by its owner{when}",
        licence="its owner's own examples (no licence stated)",
        homepage="", get_it="Its owner makes it on this server, or imports its zip again",
        env_var="", digits=kind.digits, augmentation=kind.augmentation)


def known(key: str) -> bool:
    """A built-in dataset, or one a person made that is on this server now."""
    if not isinstance(key, str):
        return False
    return key in DATASETS or (is_own(key) and (own_folder(key) / OWN_JSON).is_file())


def timed_as(key: str) -> str:
    """The built-in dataset whose images have `key`'s shape: a speed measured on it holds for
    `key` (speed depends on the shape only), and it never goes away as a made one can."""
    shape = info(key).shape
    return next((k for k, d in DATASETS.items() if d.shape == shape), key)


def info(key: str) -> DatasetInfo:
    """The record of dataset `key`, or ValueError naming the datasets there are."""
    if is_own(key):
        return own_info(key, read_own(key))
    try:
        return DATASETS[key]
    except KeyError:
        raise ValueError(f"unknown dataset {key!r}; choose from {sorted(DATASETS)}") from None


def model_classes(meta: dict) -> tuple[str, ...]:
    """The classes a model answers, one per output, from its meta.json: as it records them
    (every model trained since they were), else its dataset's (the built-ins)."""
    names = meta.get("class_names")
    return tuple(map(str, names)) if names else info(meta["dataset"]).class_names
