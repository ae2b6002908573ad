"""Your data (pages/datasets.py) and the sidebar's menu of datasets people make, under AppTest:
making a dataset, adding examples by drawing and by upload, a refusal that changes nothing,
a dataset offered only to its owner (and to others once shared, by its link), deleting one,
and the Train page refusing to start while a class is short.

The canvas component is replaced by a stand-in (as in tests/app/test_draw.py); datasets live
in a folder of the test's own (DIGITLAB_DATASETS).
"""

import io
import sys
import types

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import own_datasets as od
from core import own_examples as oe
from tests.app.conftest import HOME
from tests.app.test_draw import canvas_with
from tests.unit.test_own_datasets import drawing

ME, YOU = "a" * 32, "b" * 32
DRAWN: dict = {"image": None}


@pytest.fixture(autouse=True)
def own_root(tmp_path, monkeypatch):
    """Datasets in a folder of this test's own; the canvas replaced by a stand-in."""
    monkeypatch.setenv("DIGITLAB_DATASETS", str(tmp_path / "datasets"))
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: types.SimpleNamespace(image_data=DRAWN["image"])
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    DRAWN["image"] = None
    return tmp_path / "datasets"


def open_as(person: str, page: str | None = "pages/datasets.py", dataset: str | None = None,
            timeout: float = 60) -> AppTest:
    """The app opened by a person whose address carries `?me=person` (and `?dataset=`)."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    at.query_params["me"] = person
    if dataset:
        at.query_params["dataset"] = dataset
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def made(owner: str = ME, in_first: int = 0, classes=("a", "b", "c")) -> od.OwnDataset:
    """A sketch dataset of `owner`'s, with `in_first` drawings in its first class."""
    ds = od.create("Letters", "sketch", list(classes), owner)
    if in_first:
        oe.add_images(ds.key, 0, [drawing(classes[0], s) for s in range(in_first)], owner)
    return ds


def png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, [b.label for b in at.button]
    return found[0]


def test_a_dataset_is_made_from_its_name_kind_and_class_names():
    at = open_as(ME)
    assert at.title[0].value == "Your data"
    assert any("test split" in m.value for m in at.markdown)
    at.text_input(key="new-name-0").input("Letters")
    at.text_area(key="new-classes-0").input("a\nb é\nc")
    button(at, "Create").click().run()
    assert not at.exception, at.exception
    (ds,) = od.all_datasets()
    assert (ds.name, ds.kind, ds.class_names, ds.owner) == ("Letters", "sketch",
                                                            ("a", "b é", "c"), ME)
    assert at.session_state["chosen_dataset"] == ds.key == at.query_params["dataset"]  # chosen
    assert at.header[0].value == "Letters"
    assert any("Made “Letters”" in s.value for s in at.success)
    assert any("needs 10 more examples" in w.value for w in at.warning)   # can't train yet
    assert at.query_params["me"] == ME          # a reload of this address keeps whose it is
    assert at.text_input(key="new-name-1").value == ""    # the form is empty for the next one


def test_a_refused_dataset_says_why_and_nothing_is_made():
    at = open_as(ME)
    at.text_input(key="new-name-0").input("Letters")
    at.text_area(key="new-classes-0").input("only one")
    button(at, "Create").click().run()
    assert [e.value for e in at.error] == ["1 class: a dataset needs 2 classes at least."]
    assert od.all_datasets() == []


def test_images_uploaded_to_a_class_are_added_and_shown_as_kept():
    ds = made()
    at = open_as(ME, dataset=ds.key)
    at.radio(key=f"own-class-{ds.key}").set_value(1).run()          # class "b"
    at.radio(key="own-way-sketch").set_value("files").run()
    files = [(f"b{i}.png", png(drawing("b", i)), "image/png") for i in range(3)]
    at.file_uploader(key="own-files-0").set_value(files).run()
    button(at, "Add 3 images to ‘b’").click().run()
    assert not at.exception, at.exception
    assert od.counts(ds.key)["b"] == (1, 2)        # the honest split: 2 test examples first
    assert any(s.value.startswith("Added 3 examples to ‘b’, 2 kept for testing, 1 for "
                                  "training") for s in at.success)
    assert at.file_uploader(key="own-files-1").value in (None, [])   # a fresh picker
    assert at.radio(key=f"own-class-{ds.key}").value == 1          # still adding to "b"


def test_more_images_than_the_note_shows_are_said_to_be_the_last_ones():
    ds = made()
    at = open_as(ME, dataset=ds.key)
    at.radio(key="own-way-sketch").set_value("files").run()
    files = [(f"a{i}.png", png(drawing("a", i)), "image/png") for i in range(13)]
    at.file_uploader(key="own-files-0").set_value(files).run()
    button(at, "Add 13 images to ‘a’").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Added 13 examples to ‘a’, 3 kept for testing, 10 for training. "
                          "The last 12 as kept:" for s in at.success)
    assert max(len(image.value) for image in at.get("image")) == 12    # the note's row


def test_a_file_that_is_no_image_is_refused_by_name_and_nothing_is_added():
    ds = made()
    at = open_as(ME, dataset=ds.key)
    at.radio(key="own-way-sketch").set_value("files").run()
    files = [("good.png", png(drawing("a", 0)), "image/png"),
             ("notes.png", b"these are not pixels", "image/png")]
    at.file_uploader(key="own-files-0").set_value(files).run()
    button(at, "Add 2 images to ‘a’").click().run()
    assert len(at.error) == 1 and at.error[0].value.startswith("notes.png:")
    assert sum(a + b for a, b in od.counts(ds.key).values()) == 0


def test_a_drawing_is_added_with_one_click_and_the_canvas_starts_afresh():
    ds = made()
    at = open_as(ME, dataset=ds.key)
    assert any("Draw one ‘a’" in c.value for c in at.caption)     # what to do
    assert len(at.get("image")) == 0
    DRAWN["image"] = canvas_with([((140, 40), (140, 240)), ((100, 60), (140, 40))])
    at.run()
    assert len(at.get("image")) == 1                               # as it will be kept
    button(at, "Add to ‘a’").click().run()
    assert not at.exception, at.exception
    assert od.counts(ds.key)["a"] == (0, 1)
    assert at.session_state["fresh-canvas"] == 1                 # a new, empty canvas
    DRAWN["image"] = canvas_with([])                              # nothing drawn: refused
    at.run()
    button(at, "Add to ‘a’").click().run()
    assert [e.value for e in at.error] == ["The drawing is blank: there is nothing drawn in it."]
    assert od.counts(ds.key)["a"] == (0, 1)


def test_an_example_is_deleted_from_the_gallery():
    ds = made(in_first=3)
    at = open_as(ME, dataset=ds.key)
    first = od.examples(ds.key).ids[0]
    button_keyed = [b for b in at.button if b.key == f"own-delete-{first}"]
    button_keyed[0].click().run()
    assert first not in od.examples(ds.key).ids and len(od.examples(ds.key)) == 2


def test_the_menu_offers_a_dataset_only_to_its_owner_then_to_whoever_has_its_link():
    ds = made()
    mine = open_as(ME, page=None)
    assert mine.sidebar.selectbox(key="dataset").options[3:] == ["Letters (your sketches)",
                                                                 "New dataset…"]
    assert mine.query_params["me"] == ME        # it made a dataset: the address keeps who
    yours = open_as(YOU, page=None)
    assert not any("Letters" in o for o in yours.sidebar.selectbox(key="dataset").options)
    linked = open_as(YOU, page=None, dataset=ds.key)           # not shared: refused
    assert linked.sidebar.selectbox(key="dataset").value == "mnist"
    assert any("has not shared" in w.value for w in linked.warning)
    od.set_shared(ds.key, True, ME)
    linked = open_as(YOU, page=None, dataset=ds.key)
    assert linked.sidebar.selectbox(key="dataset").value == ds.key
    assert "Letters (shared sketches)" in linked.sidebar.selectbox(key="dataset").options
    shown = open_as(YOU, dataset=ds.key)       # seen, not changed: no adding, no deleting
    assert shown.header[0].value == "Letters"
    assert not [b for b in shown.button if b.label.startswith(("Add", "Delete"))]


def test_a_dataset_is_deleted_once_its_owner_confirms():
    ds = made(in_first=2)
    at = open_as(ME, dataset=ds.key)
    button(at, "Delete this dataset…").click().run()
    assert any("Delete “Letters” and its 2 examples for good?" in w.value for w in at.warning)
    button(at, "Keep it").click().run()
    assert [d.key for d in od.all_datasets()] == [ds.key]
    button(at, "Delete this dataset…").click().run()
    button(at, "Delete for good").click().run()
    assert not at.exception, at.exception
    assert od.all_datasets() == []
    assert at.session_state["chosen_dataset"] == "mnist"
    assert any("Deleted “Letters”" in s.value for s in at.success)


def test_new_dataset_in_the_menu_opens_the_page_that_makes_one():
    at = open_as(ME, page=None)
    at.sidebar.selectbox(key="dataset").select("new-dataset").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Your data"
    assert at.session_state["chosen_dataset"] == "mnist"       # the menu went back to it


def test_training_waits_until_every_class_has_ten_examples():
    ds = made(in_first=4)
    at = open_as(ME, page="pages/train.py", dataset=ds.key, timeout=90)
    assert any("Class 'a' needs 6 more examples (10 at least)." in w.value for w in at.warning)
    assert button(at, "Start training").disabled


def test_photos_are_uploaded_first_and_kept_as_colour_32_by_32():
    ds = od.create("Leaves", "photo", ["oak", "ash"], ME)
    at = open_as(ME, dataset=ds.key)
    assert at.radio(key="own-way-photo").value == "files"    # no camera prompt unasked
    assert at.file_uploader(key="own-files-0").label.endswith(
        "many at once, 20 MB together at most)")            # the widget says 20 MB per file
    rng = np.random.default_rng(0)
    files = [(f"oak{i}.jpg", png(rng.integers(0, 256, (90, 120, 3), np.uint8)), "image/png")
             for i in range(2)]
    at.file_uploader(key="own-files-0").set_value(files).run()
    button(at, "Add 2 images to ‘oak’").click().run()
    assert not at.exception, at.exception
    assert od.examples(ds.key).x.shape == (2, 32, 32, 3)
    assert od.counts(ds.key)["oak"] == (0, 2)


def test_its_owner_shares_it_and_the_page_gives_its_link():
    ds = made()
    at = open_as(ME, dataset=ds.key)
    at.toggle(key=f"share-{ds.key}-False").set_value(True).run()
    assert od.get(ds.key).shared
    assert any(c.value.endswith(f"?dataset={ds.key}") for c in at.code)


def test_a_full_server_asks_before_it_deletes_a_dataset_trained_today(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_DATASETS", "1")
    theirs = made(owner=YOU)
    od.mark_trained(theirs.key)
    at = open_as(ME)
    at.text_input(key="new-name-0").input("Mine")
    at.text_area(key="new-classes-0").input("x, y")
    button(at, "Create").click().run()
    assert any("Delete it to make room?" in w.value for w in at.warning)
    assert [d.key for d in od.all_datasets()] == [theirs.key]       # nothing changed yet
    button(at, "Delete it and make mine").click().run()
    assert not at.exception, at.exception
    assert [(d.name, d.class_names) for d in od.all_datasets()] == [("Mine", ("x", "y"))]


def test_examples_added_show_at_once_on_pages_that_load_the_dataset():
    ds = made(in_first=3)
    at = open_as(ME, page=None, dataset=ds.key)          # Home: the dataset's numbers
    assert {m.label: m.value for m in at.metric}["Test images"] == "2"
    oe.add_images(ds.key, "b", [drawing("b", s) for s in range(2)], ME)
    at.run()
    assert {m.label: m.value for m in at.metric}["Test images"] == "4"   # not the cached 2
