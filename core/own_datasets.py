"""Datasets a person makes in the app: named classes, examples drawn, photographed or uploaded.

    <DIGITLAB_DATASETS>/own-<12 hex>/
        dataset.json    name, kind, class_names, owner, shared, created_at, touched_at, trained_at
        examples.npz    x (uint8), y (class index), ids, test (the fixed split)

Every example goes through the preprocessing of its kind (sketches: core.preprocess.to_mnist,
as on the Draw page; photos: core.images.as_dataset_image, as CIFAR-10's) and is put in the
train or the test part once, when added. Every save is atomic: a crash loses at most the
example being added. Refusals raise OwnDatasetError (or a subclass) and change nothing.
The record every other module reads (core.datasets.info) and the loader (core.data.load)
find these datasets by their key; zips and .npz files are core.own_zip's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core import data, datasets
from core.atomic import dataset_lock, remove_stale_tmp, server_lock, write_atomic
from core.datafiles import DataError, read_examples

MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_NAME = 40                   # characters in a class or dataset name
MAX_EXAMPLES = 5_000            # per dataset
MAX_UPLOAD_BYTES = 20 * 2**20   # per upload (files added at once, or one zip)
PER_PERSON = 10                 # datasets one person keeps
DEFAULT_PER_SERVER = 50         # datasets a server keeps (DIGITLAB_MAX_DATASETS)
MIN_PER_CLASS = 10              # examples each class needs before training
TEST_FRACTION, MIN_TEST = 0.2, 2
IMBALANCE = 3                   # largest class over this many times the smallest: a warning
RECENT_TRAINING_S = 24 * 3600   # a dataset trained this recently is not removed without asking
FORBIDDEN_IN_NAMES = set('/\\:*?"<>|')   # class names become folder names in zips


class OwnDatasetError(ValueError):
    """A change a person asked for that cannot be made; the message says why. Nothing changed."""


class LimitError(OwnDatasetError):
    """A limit (examples, classes, upload size, datasets per person or server) would be passed."""


class NotYours(OwnDatasetError):
    """Only a dataset's owner changes it (others with the link may see it, train, export)."""


class NeedsConsent(OwnDatasetError):
    """The server is full and making room would delete `victim`, trained in the last day."""

    def __init__(self, victim: OwnDataset):
        self.victim = victim
        super().__init__(f"This server keeps {per_server()} datasets at most. Making room "
                         f"deletes the one left untouched longest, “{victim.name}”, which was "
                         f"trained less than a day ago. Delete it to make room?")


@dataclass(frozen=True)
class OwnDataset:
    """One dataset a person made: what its dataset.json says."""

    key: str
    name: str
    kind: str                   # a key of core.datasets.OWN_KINDS: "sketch" or "photo"
    class_names: tuple[str, ...]
    owner: str
    shared: bool = False        # anyone with the link may see it
    created_at: float = 0.0
    touched_at: float = 0.0     # last change (examples, sharing, training)
    trained_at: float | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return datasets.OWN_KINDS[self.kind].shape

    @property
    def folder(self) -> Path:
        return datasets.own_folder(self.key)


@dataclass(frozen=True)
class Examples:
    """A dataset's examples: uint8 images, class indices, ids and the fixed test flags."""

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    test: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


# ---------------------------------------------------------------- reading

def per_server() -> int:
    """How many datasets this server keeps (a shared server must not fill its disk)."""
    return int(os.environ.get("DIGITLAB_MAX_DATASETS", DEFAULT_PER_SERVER))


def get(key: str) -> OwnDataset:
    """Dataset `key`, or OwnDatasetError when there is none such here."""
    try:
        meta = datasets.read_own(key)
    except ValueError as e:
        raise OwnDatasetError(str(e)) from None
    fields = {k: meta[k] for k in OwnDataset.__dataclass_fields__ if k in meta and k != "key"}
    if not isinstance(fields.get("owner"), str):
        raise OwnDatasetError(f"{key}: its {datasets.OWN_JSON} names no owner")
    return OwnDataset(key, **(fields | {"class_names": tuple(meta["class_names"])}))


def all_datasets() -> list[OwnDataset]:
    """Every readable dataset on this server (unreadable folders are skipped)."""
    root = datasets.own_root()
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        if datasets.is_own(folder.name):
            try:
                found.append(get(folder.name))
            except OwnDatasetError:
                continue
    return found


def may_see(ds: OwnDataset, person: str) -> bool:
    """Its owner sees a dataset; others only when it is shared ("anyone with the link")."""
    return ds.shared or ds.owner == person


def visible(person: str) -> list[OwnDataset]:
    """The datasets `person` may see: their own and shared ones, the latest touched first."""
    seen = [ds for ds in all_datasets() if may_see(ds, person)]
    return sorted(seen, key=lambda ds: -ds.touched_at)


def examples(key: str) -> Examples:
    """The examples of dataset `key` (OwnDatasetError when they cannot be read)."""
    try:
        return Examples(*read_examples(data.own_examples(key), get(key).shape))
    except DataError as e:
        raise OwnDatasetError(str(e)) from None


def _key(dataset: OwnDataset | str) -> str:
    return dataset if isinstance(dataset, str) else dataset.key


def counts(dataset: OwnDataset | str) -> dict[str, tuple[int, int]]:
    """(train, test) examples per class name, in the classes' order."""
    ds, ex = get(_key(dataset)), examples(_key(dataset))
    return {name: (int(np.sum((ex.y == i) & ~ex.test)), int(np.sum((ex.y == i) & ex.test)))
            for i, name in enumerate(ds.class_names)}


def training_problem(dataset: OwnDataset | str) -> str | None:
    """Why the dataset cannot be trained yet (a class with too few examples), or None."""
    for name, (train, test) in counts(dataset).items():
        missing = MIN_PER_CLASS - train - test
        if missing > 0:
            return (f"Class '{name}' needs {missing} more example{'s' * (missing > 1)} "
                    f"({MIN_PER_CLASS} at least).")
    return None


def imbalance_warning(dataset: OwnDataset | str) -> str | None:
    """A sentence when the largest class holds over IMBALANCE times the smallest, else None."""
    totals = {name: train + test for name, (train, test) in counts(dataset).items()}
    big, small = max(totals, key=totals.get), min(totals, key=totals.get)
    if totals[big] > IMBALANCE * totals[small]:
        return (f"Class '{big}' has {totals[big]} examples and '{small}' only {totals[small]}: "
                f"a model may learn to answer '{big}' too often. Add examples to '{small}'.")
    return None


# ---------------------------------------------------------------- checks

def checked_name(name: str, what: str = "The dataset's name") -> str:
    """A name stripped of spaces, accents composed (as zips from macOS are read), or
    OwnDatasetError: empty, too long, or unusable as a folder name."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    if not name:
        raise OwnDatasetError(f"{what} is empty: give it one.")
    if len(name) > MAX_NAME:
        raise OwnDatasetError(f"{what} “{name}” is {len(name)} characters; {MAX_NAME} at most.")
    bad = FORBIDDEN_IN_NAMES & set(name)
    if bad or name in (".", "..") or any(ord(ch) < 32 for ch in name):
        raise OwnDatasetError(f"{what} “{name}” holds characters a folder name cannot "
                              f"({' '.join(sorted(bad)) or 'control characters, or only dots'}).")
    return name


def checked_classes(class_names) -> tuple[str, ...]:
    """2-10 class names, stripped, non-empty, unique; OwnDatasetError/LimitError otherwise."""
    names = tuple(checked_name(n, f"Class name {i + 1}") for i, n in enumerate(class_names))
    if len(names) > MAX_CLASSES:
        raise LimitError(f"{len(names)} classes: a dataset has {MAX_CLASSES} at most.")
    if len(names) < MIN_CLASSES:
        given = f"{len(names)} class{'es' * (len(names) != 1)}" if names else "No class names"
        raise OwnDatasetError(f"{given}: a dataset needs {MIN_CLASSES} classes at least.")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise OwnDatasetError(f"Class names must differ: {', '.join(twice)} appears twice.")
    return names


def mine(key: str, person: str) -> OwnDataset:
    """Dataset `key` when `person` owns it, else NotYours."""
    ds = get(key)
    if ds.owner != person:
        raise NotYours(f"“{ds.name}” belongs to the person who made it: only they change it. "
                       "Download its zip and import it to make your own copy.")
    return ds


# ---------------------------------------------------------------- saving (atomic)

def _save_meta(ds: OwnDataset, folder: Path | None = None) -> None:
    """Write dataset.json (atomically) into `folder`, the dataset's own by default."""
    meta = {k: v for k, v in asdict(ds).items() if k != "key"} | {"class_names": list(ds.class_names)}
    write_atomic((folder or ds.folder) / datasets.OWN_JSON,
                 json.dumps(meta, indent=1, ensure_ascii=False).encode("utf-8"))


def save_examples(key: str, ex: Examples, folder: Path | None = None) -> None:
    """Write examples.npz (atomically) into `folder`, dataset `key`'s own by default."""
    buf = io.BytesIO()
    np.savez(buf, x=ex.x, y=ex.y.astype(np.int64), ids=ex.ids.astype(str), test=ex.test)
    path = data.own_examples(key)
    write_atomic(folder / path.name if folder else path, buf.getvalue())


def touched(ds: OwnDataset, **changes) -> OwnDataset:
    """`ds` with `changes`, touched now, its dataset.json saved."""
    new = OwnDataset(**(asdict(ds) | {"touched_at": time.time()} | changes))
    _save_meta(new)
    return new


# ---------------------------------------------------------------- making and removing

def _new_key() -> str:
    return datasets.OWN_PREFIX + uuid.uuid4().hex[:12]


def empty(ds: OwnDataset) -> Examples:
    h, w, c = ds.shape
    x = np.zeros((0, h, w) if c == 1 else (0, h, w, c), np.uint8)
    return Examples(x, np.zeros(0, np.int64), np.zeros(0, "<U12"), np.zeros(0, bool))


def create(name: str, kind: str, class_names, owner: str, confirm: bool = False) -> OwnDataset:
    """A new empty dataset of `owner`'s. OwnDatasetError for a bad name, kind or classes,
    LimitError when `owner` has PER_PERSON already, NeedsConsent (see make_room)."""
    name, class_names = checked_name(name), checked_classes(class_names)
    if kind not in datasets.OWN_KINDS:
        raise OwnDatasetError(f"“{kind}” is not a kind of dataset: choose "
                              f"{' or '.join(datasets.OWN_KINDS)}.")
    if not owner:
        raise OwnDatasetError("A dataset needs an owner (the key of the session making it).")
    with server_lock:
        remove_stale_tmp(datasets.own_root())   # folders a killed create or delete left
        everything = all_datasets()
        if sum(ds.owner == owner for ds in everything) >= PER_PERSON:
            raise LimitError(f"You have {PER_PERSON} datasets, the most one person keeps here. "
                             "Delete one to make another.")
        make_room(confirm, everything)
        now = time.time()
        ds = OwnDataset(_new_key(), name, kind, class_names, owner, False, now, now, None)
        building = ds.folder.with_name(f".{ds.key}.new.tmp")
        building.mkdir(parents=True)
        save_examples(ds.key, empty(ds), building)
        _save_meta(ds, building)
        os.replace(building, ds.folder)     # the dataset appears whole or not at all
    return ds


def _trained_lately(ds: OwnDataset) -> bool:
    return ds.trained_at is not None and time.time() - ds.trained_at < RECENT_TRAINING_S


def make_room(confirm: bool = False, everything: list[OwnDataset] | None = None
              ) -> list[OwnDataset]:
    """Delete datasets while the server is full: the longest untouched first, skipping those
    trained in the last day. NeedsConsent when only such are left, unless `confirm`."""
    everything = sorted(all_datasets() if everything is None else everything,
                        key=lambda ds: ds.touched_at)
    removed = []
    with server_lock:
        while len(everything) >= per_server():
            victim = next((ds for ds in everything if not _trained_lately(ds)), None)
            if victim is None and not confirm:
                raise NeedsConsent(everything[0])
            victim = victim or everything[0]
            discard(victim.key)
            everything.remove(victim)
            removed.append(victim)
    return removed


def discard(key: str) -> None:
    """Take dataset `key`'s folder away at once (a rename), then delete it. No owner check:
    for the server's own clean-ups (make_room, a failed import); people call `delete`."""
    with server_lock, dataset_lock(key):
        folder = datasets.own_folder(key)
        gone = folder.with_name(f".{key}.{uuid.uuid4().hex[:8]}.deleted.tmp")
        try:
            os.replace(folder, gone)
        except FileNotFoundError:
            return                          # deleted a moment ago by another session
        shutil.rmtree(gone, ignore_errors=True)


def delete(key: str, person: str) -> None:
    """Delete dataset `key` (its owner only: NotYours)."""
    mine(key, person)
    discard(key)


def set_shared(key: str, shared: bool, person: str) -> OwnDataset:
    """Let anyone with the link see dataset `key`, or only its owner again."""
    with dataset_lock(key):
        return touched(mine(key, person), shared=bool(shared))


def mark_trained(key: str) -> OwnDataset:
    """Note that a model was trained on dataset `key` now (it is then kept a day at least)."""
    with dataset_lock(key):
        now = time.time()
        return touched(get(key), trained_at=now)
