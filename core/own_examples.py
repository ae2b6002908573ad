"""Examples of a dataset a person made: prepared like its kind's images, added, deleted.

Sketches are read like MNIST (core.preprocess.to_mnist, as the Draw page reads a drawing);
photos like CIFAR-10 (core.images.as_dataset_image: centre square, shrunk). Each example is
put in the test part or the train part once, when it is added (the honest split), per class:
to test while the class's test count is below max(MIN_TEST, round(TEST_FRACTION * its size)).
Additions to one class never move another class's examples; deletions move none.
Every call adds all its examples or none (OwnDatasetError naming the one that failed).
"""

from __future__ import annotations

import re
import uuid

import numpy as np

from core import datasets, images, preprocess
from core.atomic import dataset_lock, remove_stale_tmp
from core.own_datasets import (
    MAX_EXAMPLES,
    MAX_UPLOAD_BYTES,
    MIN_TEST,
    TEST_FRACTION,
    Examples,
    LimitError,
    OwnDataset,
    OwnDatasetError,
    examples,
    mine,
    save_examples,
    touched,
)

EXAMPLE_ID = re.compile(r"[0-9a-f]{12}")
EMPTY_SKETCH = {preprocess.BLANK: "is blank: there is nothing drawn in it",
                preprocess.TOO_SMALL: "has too little ink to keep: draw it bigger"}


def _pixels(image: np.ndarray) -> np.ndarray:
    """Any photo array as uint8 grey (H x W) or RGB (H x W x 3); transparent parts white."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = preprocess.to_uint8(preprocess.to_unit_range(a))
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[..., 3:].astype(np.float32) / 255
        a = np.round(a[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3) or 0 in a.shape:
        raise ValueError(f"expected a grey or colour image, got an array of shape {a.shape}")
    return a


def _sketch(image: np.ndarray, name: str) -> np.ndarray:
    """A drawing read like MNIST (core.preprocess.to_mnist), as uint8 28 x 28.

    A 28 x 28 light-on-dark image already is such an example (a downloaded zip uploaded
    back, or MNIST's own) and is kept as it is: preparing it again would shift its ink."""
    done = preprocess.to_mnist(image)
    if done.is_empty:
        raise OwnDatasetError(f"{name} {EMPTY_SKETCH.get(done.reason, done.reason)}.")
    if image.shape == (preprocess.FIELD,) * 2 and image.dtype == np.uint8 \
            and not preprocess.light_border(preprocess.as_grey(image)):
        return image
    return preprocess.to_uint8(done.input28)


def prepared(kind: str, image: np.ndarray, name: str = "The image") -> np.ndarray:
    """`image` as an example of a dataset of `kind`, or OwnDatasetError naming it (`name`)."""
    try:
        if kind == "photo":
            return images.as_dataset_image(_pixels(image), datasets.OWN_KINDS[kind].shape)
        return _sketch(np.asarray(image), name)   # to_mnist reads any form (the canvas's RGBA)
    except OwnDatasetError:
        raise
    except ValueError as e:
        raise OwnDatasetError(f"{name} cannot be used: {e}.") from None


def class_index(ds: OwnDataset, label: int | str) -> int:
    """The index of class `label` (its name or index) in `ds`, or OwnDatasetError."""
    if isinstance(label, (int, np.integer)) and 0 <= label < len(ds.class_names):
        return int(label)
    if label in ds.class_names:
        return ds.class_names.index(label)
    raise OwnDatasetError(f"“{ds.name}” has no class {label!r}: its classes are "
                          f"{', '.join(ds.class_names)}.")


def _appended(ex: Examples, labels: list[int], xs: list[np.ndarray],
              wanted_ids: list[str] | None) -> tuple[Examples, list[str]]:
    """`ex` with new examples, each put in test or train for good (the honest split)."""
    if len(ex) + len(xs) > MAX_EXAMPLES:
        raise LimitError(f"That makes {len(ex) + len(xs):,} examples; a dataset holds "
                         f"{MAX_EXAMPLES:,} at most ({len(ex):,} now).")
    size = max([*labels, *ex.y.tolist(), 0]) + 1
    n, n_test = np.bincount(ex.y, minlength=size), np.bincount(ex.y[ex.test], minlength=size)
    taken, ids, test = set(ex.ids.tolist()), [], []
    for i, label in enumerate(labels):
        n[label] += 1
        test.append(bool(n_test[label] < max(MIN_TEST, round(TEST_FRACTION * n[label]))))
        n_test[label] += test[-1]
        wanted = wanted_ids[i] if wanted_ids else ""
        ids.append(wanted if EXAMPLE_ID.fullmatch(wanted) and wanted not in taken
                   else uuid.uuid4().hex[:12])
        taken.add(ids[-1])
    x = np.concatenate([ex.x, np.stack(xs).astype(np.uint8)]) if xs else ex.x
    return Examples(x, np.concatenate([ex.y, np.asarray(labels, np.int64)]),
                    np.concatenate([ex.ids, np.asarray(ids, "<U12")]),
                    np.concatenate([ex.test, np.asarray(test, bool)])), ids


def _check_prepared(ds: OwnDataset, labels: list[int], xs: list[np.ndarray]) -> None:
    """OwnDatasetError unless every label is a class of `ds` and every image has its shape."""
    h, w, c = ds.shape
    shape = (h, w) if c == 1 else (h, w, c)
    if len(labels) != len(xs) or any(not 0 <= int(y) < len(ds.class_names) for y in labels):
        raise OwnDatasetError(f"“{ds.name}” has classes 0 to {len(ds.class_names) - 1}: "
                              "some examples name none of them.")
    wrong = next((np.shape(x) for x in xs if np.shape(x) != shape), None)
    if wrong is not None:
        raise OwnDatasetError(f"An example of “{ds.name}” is {wrong}, not {shape}: "
                              "prepare it first (own_examples.prepared).")


def add_prepared(key: str, person: str, labels: list[int], xs: list[np.ndarray],
                 wanted_ids: list[str] | None = None) -> list[str]:
    """Add examples already prepared (see `prepared`) to classes `labels`; their new ids."""
    with dataset_lock(key):
        ds = mine(key, person)
        _check_prepared(ds, labels, xs)
        new, ids = _appended(examples(key), labels, xs, wanted_ids)
        save_examples(key, new)
        touched(ds)
        remove_stale_tmp(ds.folder)
    return ids


def add_images(key: str, label: int | str, pictures: list[np.ndarray], person: str,
               names: list[str] | None = None) -> list[str]:
    """Add image arrays (drawings, camera shots) to class `label`; all or none. Their ids."""
    ds = mine(key, person)
    index = class_index(ds, label)
    names = names or [f"Image {i + 1}" for i in range(len(pictures))]
    xs = [prepared(ds.kind, p, n) for p, n in zip(pictures, names)]
    return add_prepared(key, person, [index] * len(xs), xs)


def decoded(name: str, content: bytes) -> np.ndarray:
    """An uploaded file's pixels (core.images.decode_image), or OwnDatasetError naming it."""
    try:
        return images.decode_image(content)
    except images.ImageError as e:
        raise OwnDatasetError(f"{name}: {e}") from None


def add_files(key: str, label: int | str, files: list[tuple[str, bytes]], person: str
              ) -> list[str]:
    """Add uploaded image files ((name, bytes) pairs) to class `label`; all or none."""
    total = sum(len(content) for _, content in files)
    if total > MAX_UPLOAD_BYTES:
        raise LimitError(f"These files make {total / 2**20:.1f} MB; one upload is "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB at most. Add them in parts.")
    pictures = [decoded(name, content) for name, content in files]
    return add_images(key, label, pictures, person, [name for name, _ in files])


def delete_example(key: str, example_id: str, person: str) -> None:
    """Delete one example; the others keep their part of the split."""
    with dataset_lock(key):
        ds, ex = mine(key, person), examples(key)
        keep = ex.ids != example_id
        if keep.all():
            raise OwnDatasetError(f"“{ds.name}” has no example {example_id!r} (deleted already?).")
        save_examples(key, Examples(ex.x[keep], ex.y[keep], ex.ids[keep], ex.test[keep]))
        touched(ds)
