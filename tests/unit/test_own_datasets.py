"""Datasets a person makes (core.own_datasets, core.own_examples): records, limits, the honest
split, atomic saves, whose they are, and the way core.datasets and core.data read them."""

import io
import json
import os
import threading
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from core import data, datasets
from core import own_datasets as od
from core import own_examples as oe
from core import store as model_store
from core.own_datasets import LimitError, NeedsConsent, NotYours, OwnDatasetError
from tests.unit.test_imageops import png_header_only

ME, YOU = "a" * 32, "b" * 32


@pytest.fixture(autouse=True)
def own_root(tmp_path, monkeypatch):
    """Every test gets its own empty dataset folder and the default per-server limit."""
    monkeypatch.setenv("DIGITLAB_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.delenv("DIGITLAB_MAX_DATASETS", raising=False)
    return tmp_path / "datasets"


def drawing(text: str, seed: int = 0, size: int = 280) -> np.ndarray:
    """A white-on-black drawing of `text`, somewhere on a canvas, like the Draw page's."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.uint8)
    k = size / 280
    x, y = int(k * rng.integers(10, 80)), int(k * rng.integers(150, 230))
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, k * (3 + 2 * rng.random()), 255,
                max(2, int(k * rng.integers(8, 20))))
    return img


def photo(seed: int, h: int = 120, w: int = 90) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def sketches(classes=("a", "b é", "c"), per_class: int = 0, owner: str = ME) -> od.OwnDataset:
    ds = od.create("Letters", "sketch", list(classes), owner)
    for i, name in enumerate(classes):
        if per_class:
            oe.add_images(ds.key, name, [drawing(name[0], s) for s in range(per_class)], owner)
    return ds


def png(a: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt)
    return buf.getvalue()


# ---------------------------------------------------------------- the record and the loader

def test_a_sketch_dataset_is_a_record_and_loads_like_the_others():
    ds = sketches(per_class=12)
    assert datasets.is_own(ds.key) and datasets.known(ds.key)
    meta = json.loads((ds.folder / "dataset.json").read_text(encoding="utf-8"))
    assert meta["name"] == "Letters" and meta["class_names"] == ["a", "b é", "c"]
    assert meta["owner"] == ME and meta["shared"] is False and meta["trained_at"] is None
    record = datasets.info(ds.key)
    assert (record.title, record.subject, record.shape) == ("Letters", "your sketches", (28, 28, 1))
    assert record.digits and record.augmentation == "rotate-shift-zoom"
    assert record.class_names == ("a", "b é", "c") and "Digit Lab" in record.citation

    loaded = data.load(ds.key)
    ex = od.examples(ds.key)
    assert loaded.source == "own" and "made on the Your data page" in loaded.description
    assert str(ds.folder) not in loaded.description   # a reader sees no server folder
    assert "of your own" in loaded.test_note and loaded.class_names == record.class_names
    np.testing.assert_array_equal(loaded.x_train, ex.x[~ex.test])
    np.testing.assert_array_equal(loaded.y_test, ex.y[ex.test])
    assert loaded.x_train.shape == (30, 28, 28) and loaded.x_test.shape == (6, 28, 28)
    assert loaded.x_train.dtype == np.uint8 and not loaded.x_train.flags.writeable
    assert sorted(set(loaded.y_train)) == [0, 1, 2]
    assert data.load(ds.key, train_images=False).x_train is None
    assert data.availability(ds.key) == data.HERE


def test_a_photo_dataset_reads_like_cifar10():
    ds = od.create("Leaves", "photo", ["oak", "maple"], ME)
    oe.add_images(ds.key, "oak", [photo(s) for s in range(3)], ME)
    oe.add_images(ds.key, 1, [photo(9, 40, 300)], ME)
    record = datasets.info(ds.key)
    assert record.shape == (32, 32, 3) and record.subject == "your photos"
    assert record.its_images == "the photos of “Leaves”"      # not "Leaves's your photos"
    assert datasets.info("cifar10").its_images == "CIFAR-10's colour photos"
    assert record.augmentation == "flip-shift" and not record.digits
    loaded = data.load(ds.key)
    assert loaded.x_test.shape[1:] == (32, 32, 3) and loaded.size == 4


def test_a_deleted_or_made_up_key_is_refused_without_touching_the_disk():
    ds = sketches()
    od.delete(ds.key, ME)
    assert not datasets.known(ds.key) and data.availability(ds.key) == data.MISSING
    with pytest.raises(ValueError, match="no dataset"):
        datasets.info(ds.key)
    for bad in ("own-../../etc", "own-XYZ", "own-" + "0" * 13):
        with pytest.raises(ValueError, match="not the name"):
            datasets.own_folder(bad)
        with pytest.raises(ValueError):
            data.load(bad)


# ---------------------------------------------------------------- refusals when making one

@pytest.mark.parametrize("name, kind, classes, error, match", [
    ("", "sketch", ["a", "b"], OwnDatasetError, "name is empty"),
    ("x" * 41, "sketch", ["a", "b"], OwnDatasetError, "41 characters"),
    ("ok", "video", ["a", "b"], OwnDatasetError, "not a kind"),
    ("ok", "sketch", ["a"], OwnDatasetError, "^1 class: a dataset needs 2 classes at least"),
    ("ok", "sketch", [], OwnDatasetError, "^No class names: a dataset needs 2 classes at least"),
    ("ok", "sketch", [str(i) for i in range(11)], LimitError, "10 at most"),
    ("ok", "sketch", ["a", " a "], OwnDatasetError, "a appears twice"),
    ("ok", "sketch", ["a", "  "], OwnDatasetError, "Class name 2 is empty"),
    ("ok", "sketch", ["a", "b/c"], OwnDatasetError, "cannot"),
    ("ok", "sketch", ["a", "y" * 41], OwnDatasetError, "41 characters"),
])
def test_a_bad_dataset_is_refused_and_nothing_is_made(name, kind, classes, error, match):
    with pytest.raises(error, match=match):
        od.create(name, kind, classes, ME)
    assert od.all_datasets() == []


def test_names_are_stripped_and_may_hold_spaces_and_accents():
    ds = od.create("  Mes lettres  ", "sketch", [" é grand ", "ñ"], ME)
    assert ds.name == "Mes lettres" and ds.class_names == ("é grand", "ñ")
    assert od.get(ds.key) == ds


def test_ten_datasets_per_person():
    for i in range(od.PER_PERSON):
        od.create(f"d{i}", "sketch", ["a", "b"], ME)
    with pytest.raises(LimitError, match="10 datasets"):
        od.create("one more", "sketch", ["a", "b"], ME)
    assert len(od.all_datasets()) == od.PER_PERSON
    od.create("yours", "sketch", ["a", "b"], YOU)   # another person still may


def full_server(monkeypatch, n: int = 3) -> list[od.OwnDataset]:
    monkeypatch.setenv("DIGITLAB_MAX_DATASETS", str(n))
    made = []
    for i in range(n):
        made.append(od.create(f"d{i}", "sketch", ["a", "b"], f"{i:032x}"))
        time.sleep(0.01)
    return made


def test_the_server_keeps_fifty_and_the_longest_untouched_goes_first(monkeypatch):
    assert od.per_server() == 50
    old, middle, new = full_server(monkeypatch)
    od.set_shared(old.key, True, old.owner)          # touched now: no longer the oldest
    gone = od.make_room()
    assert [ds.key for ds in gone] == [middle.key]
    assert {ds.key for ds in od.all_datasets()} == {old.key, new.key}
    od.create("newest", "sketch", ["a", "b"], ME)     # room for it: nothing else goes
    assert len(od.all_datasets()) == 3


def test_one_trained_in_the_last_day_is_kept_unless_the_person_agrees(monkeypatch):
    made = full_server(monkeypatch)
    od.mark_trained(made[0].key)
    od.create("new", "sketch", ["a", "b"], ME)        # the untrained oldest went instead
    assert made[1].key not in {ds.key for ds in od.all_datasets()}
    order = [ds.key for ds in od.all_datasets()]
    for key in order:
        od.mark_trained(key)                            # touched too, in this order
        time.sleep(0.01)
    with pytest.raises(NeedsConsent, match="trained less than a day ago") as asked:
        od.create("another", "sketch", ["a", "b"], ME)
    assert asked.value.victim.key == order[0]           # the longest untouched of them
    assert [ds.key for ds in od.all_datasets()] == order
    od.create("another", "sketch", ["a", "b"], ME, confirm=True)
    assert order[0] not in {ds.key for ds in od.all_datasets()}


# ---------------------------------------------------------------- whose it is

def test_a_dataset_is_invisible_to_another_person_until_shared():
    mine = sketches()
    yours = od.create("Yours", "sketch", ["x", "y"], YOU)
    assert [ds.key for ds in od.visible(ME)] == [mine.key]
    assert [ds.key for ds in od.visible(YOU)] == [yours.key]
    od.set_shared(mine.key, True, ME)
    assert mine.key in {ds.key for ds in od.visible(YOU)}
    od.set_shared(mine.key, False, ME)
    assert mine.key not in {ds.key for ds in od.visible(YOU)}


def test_only_its_owner_changes_a_dataset():
    ds = sketches(per_class=2)
    od.set_shared(ds.key, True, ME)
    example = od.examples(ds.key).ids[0]
    for change in (lambda: oe.add_images(ds.key, "a", [drawing("a")], YOU),
                   lambda: oe.delete_example(ds.key, example, YOU),
                   lambda: od.set_shared(ds.key, False, YOU),
                   lambda: od.delete(ds.key, YOU)):
        with pytest.raises(NotYours, match="belongs to the person who made it"):
            change()
    assert len(od.examples(ds.key)) == 6 and od.get(ds.key).shared


# ---------------------------------------------------------------- examples and the split

def test_sketches_are_read_like_mnist_and_blank_ones_are_refused_by_name():
    ds = sketches()
    oe.add_images(ds.key, "a", [drawing("a", 1, size=400)], ME)
    x = od.examples(ds.key).x[0]
    assert x.shape == (28, 28) and x.dtype == np.uint8 and x[:2].max() == 0
    rgba = np.zeros((280, 280, 4), np.uint8)           # the canvas: black strokes, transparent
    rgba[100:200, 130:150, 3] = 255
    oe.add_images(ds.key, "a", [rgba], ME)
    with pytest.raises(OwnDatasetError, match="drawing 2 is blank"):
        oe.add_images(ds.key, "a", [drawing("a"), np.zeros((280, 280), np.uint8)], ME,
                      names=["drawing 1", "drawing 2"])
    assert len(od.examples(ds.key)) == 2                # all or none
    with pytest.raises(OwnDatasetError, match="has no class 'z'"):
        oe.add_images(ds.key, "z", [drawing("a")], ME)


def expected_tests(n: int) -> int:
    """Test examples of a class of n, each put in test while below max(2, round(0.2 k))."""
    t = 0
    for k in range(1, n + 1):
        t += t < max(2, round(0.2 * k))
    return t


def test_the_split_is_fixed_per_class_and_never_moved_by_other_classes():
    ds = sketches()
    oe.add_images(ds.key, "a", [drawing("a", s) for s in range(12)], ME)
    before = od.examples(ds.key)
    oe.add_images(ds.key, "b é", [drawing("b", s) for s in range(25)], ME)
    oe.add_images(ds.key, "c", [drawing("c", s) for s in range(3)], ME)
    oe.add_images(ds.key, "a", [drawing("a", s) for s in range(12, 14)], ME)
    after = od.examples(ds.key)
    np.testing.assert_array_equal(after.ids[:12], before.ids)
    np.testing.assert_array_equal(after.test[:12], before.test)
    assert od.counts(ds) == {"a": (14 - expected_tests(14), expected_tests(14)),
                             "b é": (25 - expected_tests(25), 5), "c": (1, 2)}
    assert expected_tests(25) == 5 and expected_tests(14) == 3


def test_deleting_an_example_moves_no_other():
    ds = sketches(per_class=4)
    ex = od.examples(ds.key)
    oe.delete_example(ds.key, ex.ids[1], ME)
    left = od.examples(ds.key)
    assert len(left) == 11 and ex.ids[1] not in left.ids
    np.testing.assert_array_equal(left.test, np.delete(ex.test, 1))
    with pytest.raises(OwnDatasetError, match="no example"):
        oe.delete_example(ds.key, ex.ids[1], ME)


def test_training_waits_for_ten_examples_per_class_and_warns_when_unequal():
    ds = sketches(per_class=10)
    oe.delete_example(ds.key, od.examples(ds.key).ids[-1], ME)
    assert od.training_problem(ds) == "Class 'c' needs 1 more example (10 at least)."
    oe.add_images(ds.key, "c", [drawing("c", 50)], ME)
    assert od.training_problem(ds.key) is None and od.imbalance_warning(ds) is None
    oe.add_prepared(ds.key, ME, [0] * 21, [np.zeros((28, 28), np.uint8)] * 21)
    assert "'a' has 31 examples and 'b é' only 10" in od.imbalance_warning(ds)
    ds2 = sketches(per_class=0)
    assert od.training_problem(ds2) == "Class 'a' needs 10 more examples (10 at least)."


def test_five_thousand_examples_at_most():
    ds = sketches()
    blank = np.zeros((28, 28), np.uint8)
    oe.add_prepared(ds.key, ME, [0] * 4_999, [blank] * 4_999)
    with pytest.raises(LimitError, match="5,001 examples.*5,000 at most"):
        oe.add_prepared(ds.key, ME, [1, 1], [blank] * 2)
    oe.add_prepared(ds.key, ME, [1], [blank])
    assert len(od.examples(ds.key)) == 5_000


def test_uploaded_files_are_decoded_checked_and_named_when_refused():
    ds = od.create("Leaves", "photo", ["oak", "maple"], ME)
    good = [("oak 1.png", png(photo(1))), ("oak 2.jpg", png(photo(2), "JPEG"))]
    assert len(oe.add_files(ds.key, "oak", good, ME)) == 2
    for name, content, match in [("notes.png", b"not an image", "notes.png: This file is not"),
                                 ("empty.png", b"", "empty.png: The file is empty"),
                                 ("bomb.png", png_header_only(30_000, 30_000), "bomb.png: .*pixels")]:
        with pytest.raises(OwnDatasetError, match=match):
            oe.add_files(ds.key, "maple", [good[0], (name, content)], ME)
    with pytest.raises(LimitError, match="20 MB at most"):
        oe.add_files(ds.key, "maple", [("big.png", bytes(21 * 2**20))], ME)
    assert len(od.examples(ds.key)) == 2


# ---------------------------------------------------------------- atomic saves

def test_a_save_that_dies_before_its_rename_leaves_the_dataset_as_it_was(monkeypatch):
    ds = sketches(per_class=3)
    before = od.examples(ds.key)

    def crash(*args):
        raise OSError("power cut")
    with monkeypatch.context() as m, pytest.raises(OSError, match="power cut"):
        m.setattr(os, "replace", crash)
        oe.add_images(ds.key, "a", [drawing("a", 7)], ME)
    assert not list(ds.folder.glob(".*.tmp"))           # its temp file went too
    np.testing.assert_array_equal(od.examples(ds.key).ids, before.ids)
    assert data.load(ds.key).size == 9 and od.get(ds.key).name == "Letters"


def test_a_half_written_temp_file_leaves_the_previous_dataset_readable():
    ds = sketches(per_class=3)
    half = ds.folder / ".examples.npz.dead0000.tmp"     # what a killed save leaves behind
    half.write_bytes(b"PK\x03\x04 half an npz")
    (ds.folder / ".dataset.json.dead0000.tmp").write_text('{"name": "Le')
    assert od.get(ds.key).name == "Letters" and len(od.examples(ds.key)) == 9
    assert data.load(ds.key).size == 9
    old = time.time() - 2 * 3600
    os.utime(half, (old, old))
    oe.add_images(ds.key, "a", [drawing("a", 8)], ME)   # a later save sweeps stale temp files
    assert not half.exists() and len(od.examples(ds.key)) == 10


def test_marking_a_dataset_trained_is_saved():
    ds = sketches()
    assert od.mark_trained(ds.key).trained_at == pytest.approx(time.time(), abs=60)
    assert od.get(ds.key).trained_at is not None


def test_the_model_store_knows_a_made_dataset_while_it_exists(tmp_path):
    ds = sketches()
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.npz").write_bytes(b"")
    (folder / "meta.json").write_text(json.dumps({"kind": "logreg", "dataset": ds.key}))
    assert model_store.read_meta(folder)["dataset"] == ds.key
    od.delete(ds.key, ME)
    with pytest.raises(model_store.StoreError, match="a dataset this app does not know"):
        model_store.read_meta(folder)


def test_the_revision_caches_key_on_changes_with_every_example():
    ds = sketches()
    assert data.revision("mnist") == 0
    first = data.revision(ds.key)
    time.sleep(0.01)
    oe.add_images(ds.key, "a", [drawing("a")], ME)
    assert data.revision(ds.key) != first
    od.delete(ds.key, ME)
    assert data.revision(ds.key) == -1


def test_what_a_killed_create_leaves_is_swept_and_broken_records_are_skipped(own_root):
    ds = sketches()
    left = own_root / ".own-000000000000.new.tmp"     # a create killed before its rename
    left.mkdir()
    (left / "dataset.json").write_text("{}")
    old = time.time() - 2 * 3600
    os.utime(left, (old, old))
    broken = own_root / "own-0123456789ab"
    broken.mkdir()
    (broken / "dataset.json").write_text(json.dumps({"name": "x", "kind": "sketch",
                                                     "class_names": ["a", "b"]}))
    assert [d.key for d in od.all_datasets()] == [ds.key]    # no owner: not a dataset here
    od.create("Next", "sketch", ["a", "b"], ME)
    assert not left.exists()


def test_prepared_examples_must_fit_the_dataset():
    ds = sketches()
    with pytest.raises(OwnDatasetError, match="name none of them"):
        oe.add_prepared(ds.key, ME, [3], [np.zeros((28, 28), np.uint8)])
    with pytest.raises(OwnDatasetError, match=r"is \(32, 32, 3\), not \(28, 28\)"):
        oe.add_prepared(ds.key, ME, [0], [np.zeros((32, 32, 3), np.uint8)])
    assert len(od.examples(ds.key)) == 0


def test_two_sessions_adding_at_once_lose_nothing():
    ds = sketches()
    x = oe.prepared("sketch", drawing("a"))

    def add(label: int) -> None:
        for _ in range(15):
            oe.add_prepared(ds.key, ME, [label], [x])
    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert od.counts(ds) == {"a": (12, 3), "b é": (12, 3), "c": (0, 0)}


def test_a_photo_that_is_no_image_is_refused_by_name():
    ds = od.create("Leaves", "photo", ["oak", "maple"], ME)
    with pytest.raises(OwnDatasetError, match="leaf.png cannot be used: expected a grey or colour"):
        oe.add_images(ds.key, "oak", [np.zeros(10, np.uint8)], ME, names=["leaf.png"])
