"""Zips of class folders in and out of datasets a person makes (core.own_zip): the layout both
ways (spaces, accents, PNG and JPEG, a nested top folder), the .npz, and every refusal."""

import io
import unicodedata
import zipfile

import numpy as np
import pytest

from core import data
from core import own_datasets as od
from core import own_examples as oe
from core import own_zip as oz
from core.own_datasets import LimitError, NotYours, OwnDatasetError
from tests.unit.test_imageops import png_header_only
from tests.unit.test_own_datasets import ME, YOU, drawing, own_root, photo, png  # noqa: F401


def zipped(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buf.getvalue()


def keras_zip(top: str = "", per_class: int = 3) -> dict[str, bytes]:
    """image_dataset_from_directory's layout: PNG and JPEG of any size, odd names."""
    entries = {}
    for c, name in enumerate(["grand A", "lettre é", "ñ"]):
        for i in range(per_class):
            img = 255 - drawing(name[0].upper(), i, size=100 + 40 * i)   # dark ink on paper
            fmt, ext = ("JPEG", "jpg") if i % 2 else ("PNG", "png")
            entries[f"{top}{name}/{name} {i}.{ext}"] = png(img, fmt)
    return entries


def test_a_keras_layout_zip_in_a_top_folder_makes_a_dataset():
    entries = keras_zip("mes lettres/") | {"__MACOSX/mes lettres/._x.png": b"junk",
                                            "mes lettres/.DS_Store": b"junk"}
    done = oz.import_zip(zipped(entries), ME, kind="sketch", file_name="upload.zip")
    ds = done.dataset
    assert ds.name == "mes lettres" and ds.class_names == ("grand A", "lettre é", "ñ")
    assert (done.added, done.skipped) == (9, 0) and ds.owner == ME
    assert od.counts(ds) == {"grand A": (1, 2), "lettre é": (1, 2), "ñ": (1, 2)}
    assert data.load(ds.key).x_train.shape == (3, 28, 28)


def test_a_photo_zip_without_a_top_folder_takes_the_file_name():
    entries = {f"{c}/{i}.{ext}": png(photo(i, 50 + i, 70), fmt) for c in ("oak", "maple")
               for i, (fmt, ext) in enumerate([("PNG", "png"), ("JPEG", "jpeg")])}
    ds = oz.import_zip(zipped(entries), ME, kind="photo", file_name="leaves.zip").dataset
    assert ds.name == "leaves" and ds.kind == "photo" and ds.class_names == ("oak", "maple")
    assert od.examples(ds.key).x.shape == (4, 32, 32, 3)


def test_a_downloaded_zip_uploads_back_the_same_examples():
    ds = od.create("Mes lettres é", "sketch", ["z dernier", "a accentué é", "empty"], ME)
    for name in ("z dernier", "a accentué é"):
        oe.add_images(ds.key, name, [drawing(name[0], s) for s in range(6)], ME)
    oe.delete_example(ds.key, od.examples(ds.key).ids[0], ME)
    before = od.examples(ds.key)
    exported = oz.export_zip(ds.key)
    names = zipfile.ZipFile(io.BytesIO(exported)).namelist()
    assert "Mes lettres é/a accentué é/" in names and "Mes lettres é/empty/" in names
    assert all(n.endswith((".png", "/")) for n in names)

    again = oz.import_zip(exported, ME, into=ds.key)    # into the same dataset: nothing new
    assert (again.added, again.skipped) == (0, 11)
    od.delete(ds.key, ME)
    back = oz.import_zip(exported, ME, kind="sketch").dataset
    assert back.name == ds.name and back.class_names == ds.class_names   # order kept
    after = od.examples(back.key)
    for field in ("x", "y", "ids"):
        np.testing.assert_array_equal(getattr(after, field), getattr(before, field))
    assert od.counts(back)["empty"] == (0, 0)


def test_zip_names_from_macos_and_old_windows_tools_keep_their_accents():
    decomposed = unicodedata.normalize("NFD", "lettre é/1.png")
    assert oz.member_name(zipfile.ZipInfo(decomposed)) == "lettre é/1.png"
    raw = zipfile.ZipInfo("lettre é/1.png".encode().decode("cp437"))   # UTF-8, flag not set
    assert oz.member_name(raw) == "lettre é/1.png"


def test_a_zip_adds_to_an_existing_dataset_of_the_same_classes_only():
    ds = od.create("Letters", "sketch", ["grand A", "lettre é", "ñ"], ME)
    assert oz.import_zip(zipped(keras_zip()), ME, into=ds.key).added == 9
    with pytest.raises(OwnDatasetError, match="folders x are not classes of “Letters”"):
        oz.import_zip(zipped({"x/1.png": png(drawing("x"))}), ME, into=ds.key)
    with pytest.raises(NotYours):
        oz.import_zip(zipped(keras_zip()), YOU, into=ds.key)
    assert len(od.examples(ds.key)) == 9


def test_the_npz_export_holds_the_split_and_the_class_names():
    ds = od.create("Letters", "sketch", ["a", "b"], ME)
    for name in ("a", "b"):
        oe.add_images(ds.key, name, [drawing(name, s) for s in range(5)], ME)
    with np.load(io.BytesIO(oz.export_npz(ds.key)), allow_pickle=False) as f:
        assert list(f["class_names"]) == ["a", "b"]
        assert f["x_train"].shape == (6, 28, 28) and f["x_test"].shape == (4, 28, 28)
        assert list(f["y_test"]) == [0, 0, 1, 1]
    assert oz.download_name(ds, ".zip") == "Letters.zip"


def bomb_member(megabytes: int) -> bytes:
    """A zip whose one image declares `megabytes` of zeros (a few KB packed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/1.png", png(drawing("a")))
        with zf.open("b/huge.png", "w") as entry:
            for _ in range(megabytes):
                entry.write(bytes(2**20))
    return buf.getvalue()


GOOD = {"a/1.png": png(drawing("a")), "b/1.png": png(drawing("b"))}


@pytest.mark.parametrize("entries, match", [
    ({"../evil/1.png": png(drawing("a"))}, r"\.\./evil/1\.png: its path leads out"),
    ({"a/../../1.png": png(drawing("a"))}, r"a/\.\./\.\./1\.png: its path leads out"),
    ({"/etc/a/1.png": png(drawing("a"))}, r"/etc/a/1\.png: its path leads out"),
    ({"a/inner.zip": zipped(GOOD)}, "a/inner.zip: an archive inside the zip"),
    ({"a/sneaky.png": zipped(GOOD)}, "a/sneaky.png: an archive inside the zip"),
    ({"readme.txt": b"hello"}, "readme.txt: not inside a class folder"),
    ({"a/deeper/1.png": png(drawing("a"))}, "a/deeper/1.png: in a folder inside a class folder"),
    ({"a/notes.png": b"plain text"}, "a/notes.png: This file is not an image"),
    ({"a/empty.png": b""}, "a/empty.png: The file is empty"),
    ({"a/bomb.png": png_header_only(30_000, 30_000)}, "a/bomb.png: The image declares"),
    ({"a/blank.png": png(np.zeros((50, 50), np.uint8))}, "a/blank.png is blank"),
])
def test_a_bad_zip_is_refused_with_the_file_named_and_nothing_changes(entries, match):
    mine = od.create("Mine", "sketch", ["a", "b"], ME)
    with pytest.raises(OwnDatasetError, match=match):
        oz.import_zip(zipped(GOOD | entries), ME, kind="sketch")
    with pytest.raises(OwnDatasetError, match=match):
        oz.import_zip(zipped(GOOD | entries), ME, into=mine.key)
    assert [ds.key for ds in od.all_datasets()] == [mine.key]
    assert len(od.examples(mine.key)) == 0


def test_a_zip_bomb_is_refused_from_the_sizes_it_declares(monkeypatch):
    bomb = bomb_member(21)
    assert len(bomb) < 100_000
    with pytest.raises(OwnDatasetError, match="b/huge.png: it unpacks to 21.0 MB"):
        oz.import_zip(bomb, ME, kind="sketch")
    monkeypatch.setattr(oz, "MAX_MEMBER_BYTES", 2 * 2**20)
    monkeypatch.setattr(oz, "MAX_TOTAL_BYTES", 3 * 2**20)
    with pytest.raises(OwnDatasetError, match="unpack to 4 MB.*zip bomb"):
        oz.import_zip(zipped({"a/1.png": bytes(2**20), "a/2.png": bytes(2**20),
                              "b/1.png": bytes(2**20), "b/2.png": bytes(2**20)}), ME, kind="sketch")
    assert od.all_datasets() == []


def test_too_big_too_many_or_not_a_zip_is_refused():
    with pytest.raises(LimitError, match="up.zip is 20.0 MB; one upload is 20 MB at most"):
        oz.import_zip(bytes(20 * 2**20 + 1), ME, kind="sketch", file_name="up.zip")
    with pytest.raises(OwnDatasetError, match="not a zip file"):
        oz.import_zip(b"hello", ME, kind="sketch")
    many = zipped({f"{'ab'[i % 2]}/{i}.png": b"" for i in range(5_001)})
    with pytest.raises(LimitError, match="more than 5,000 files"):
        oz.import_zip(many, ME, kind="sketch")
    with pytest.raises(OwnDatasetError, match="Choose the kind"):
        oz.import_zip(zipped(GOOD), ME)
    with pytest.raises(OwnDatasetError, match="needs 2 classes at least"):
        oz.import_zip(zipped({"a/1.png": GOOD["a/1.png"]}), ME, kind="sketch")
    assert od.all_datasets() == []


def test_a_long_file_name_is_cut_to_a_dataset_name():
    ds = oz.import_zip(zipped(GOOD), ME, kind="sketch", file_name="x" * 60 + ".zip").dataset
    assert ds.name == "x" * od.MAX_NAME
