"""Your data in a real browser: a sketch dataset of 3 classes made on the page, 12 examples
per class (the first 3 of each drawn with the mouse on the page, the others added as the
page would add them), downloaded as a zip, deleted, and made again from the zip
with the same classes, examples and split (screenshots at 1280 and 390 px); "New dataset…"
in the sidebar; and on a made dataset, Train refusing a short class, then both models
trained and a new drawing read on Draw by class name, with its three views."""

from __future__ import annotations

import re
import zipfile
from urllib.parse import parse_qs, urlparse

import numpy as np
from playwright.sync_api import Page, expect

from core import own_datasets as od
from core import own_examples as oe
from tests.strokes import placed, render

from .conftest import choose_cnn, screenshot, wait_idle
from .test_draw import CANVAS, strokes

CLASSES = {"zero": 0, "one": 1, "seven": 7}
PER_CLASS = 12
BY_MOUSE = 3     # of each class's examples: ~2 s each in the browser, 30 s for a whole class


def place(i: int) -> tuple[float, float, float]:
    """Where the i-th drawing of a class goes: left, top, height (a person varies them)."""
    return 40 + (i % 4) * 25, 20 + (i // 4) * 15, 150 + (i % 3) * 20


def create(page: Page, name: str, classes: list[str]) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Name", exact=True).press("Enter")
    wait_idle(page)
    names = page.get_by_label(re.compile(r"^Class names"))
    names.fill("\n".join(classes))
    names.press("Control+Enter")
    wait_idle(page)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def choose_class(page: Page, name: str) -> None:
    page.get_by_test_id("stRadio").filter(has_text="Class").get_by_text(name, exact=True).click()
    expect(page.get_by_role("button", name=f"Add to ‘{name}’")).to_be_visible()
    wait_idle(page)


def draw(page: Page, digit: int, i: int, tries: int = 4) -> None:
    """Draw a digit; again while a just-mounted canvas was not listening to the mouse yet
    (it takes a moment after it appears; a person never draws that soon)."""
    undo = page.get_by_role("button", name="Undo")
    page.locator(CANVAS).scroll_into_view_if_needed()      # the mouse reaches what is in view
    for _ in range(tries - 1):
        strokes(page, page.locator(CANVAS), digit, *place(i))
        try:
            expect(undo).to_be_enabled(timeout=3_000)
            return
        except AssertionError:
            continue
    strokes(page, page.locator(CANVAS), digit, *place(i))
    expect(undo).to_be_enabled()


def add_drawing(page: Page, name: str, digit: int, i: int) -> None:
    """Draw one example, press Add, and wait for the count and a fresh canvas."""
    old = page.locator(CANVAS).element_handle()
    draw(page, digit, i)
    expect(page.get_by_text("It will be kept like this")).to_be_visible()   # the server has it
    page.get_by_role("button", name=f"Add to ‘{name}’").click()
    expect(page.get_by_role("heading", name=re.compile(rf"^‘{name}’: its {i + 1} examples?$"))
           ).to_be_visible()
    page.wait_for_function("c => !c.isConnected", arg=old)
    expect(page.get_by_role("button", name="Undo")).to_be_disabled()


def test_draw_three_classes_export_delete_and_import_them_back(page: Page, own_server, browser,
                                                               tmp_path):
    page.goto(own_server + "/datasets")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Name", exact=True)).to_be_visible()
    screenshot(page, "own-data-empty")
    create(page, "Shapes", list(CLASSES))
    (ds,) = od.all_datasets()
    me = parse_qs(urlparse(page.url).query)["me"][0]      # the address keeps whose it is
    for name, digit in CLASSES.items():
        choose_class(page, name)
        for i in range(BY_MOUSE):
            add_drawing(page, name, digit, i)
        oe.add_images(ds.key, name, [render(placed(digit, *place(i)))   # as Add adds them
                                     for i in range(BY_MOUSE, PER_CLASS)], me)
    page.reload()
    expect(page.get_by_text("Ready to train")).to_be_visible(timeout=30_000)
    before = od.examples(ds.key)
    assert ds.class_names == tuple(CLASSES)
    assert [c[0] + c[1] for c in od.counts(ds).values()] == [PER_CLASS] * 3

    for width, height in ((1280, 4000), (390, 3000)):     # tall: the whole page at once
        context = browser.new_context(viewport={"width": width, "height": height})
        whole = context.new_page()
        whole.goto(f"{own_server}/datasets?dataset={ds.key}&me={me}")
        expect(whole.get_by_role("heading", name="Shapes", exact=True)).to_be_visible()
        expect(whole.get_by_role("button", name="Delete this dataset…")).to_be_visible()
        screenshot(whole, f"own-data-{width}")
        context.close()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download as zip").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as zf:
        pngs = [n for n in zf.namelist() if n.endswith(".png")]
    assert len(pngs) == 3 * PER_CLASS and all(n.startswith("Shapes/") for n in pngs)

    page.get_by_role("button", name="Delete this dataset…").click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("Deleted “Shapes”")).to_be_visible()
    assert od.all_datasets() == []

    page.get_by_role("tab", name="From a zip of class folders").click()
    panel = page.get_by_role("tabpanel", name="From a zip of class folders")
    panel.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(saved)
    panel.get_by_role("button", name="Create from the zip").click()
    expect(page.get_by_role("heading", name="Shapes", exact=True)).to_be_visible()
    (back,) = od.all_datasets()
    after = od.examples(back.key)
    assert back.class_names == tuple(CLASSES)
    np.testing.assert_array_equal(after.x, before.x)
    np.testing.assert_array_equal(after.y, before.y)
    np.testing.assert_array_equal(after.ids, before.ids)
    np.testing.assert_array_equal(after.test, before.test)
    screenshot(page, "own-data-imported")


def test_new_dataset_in_the_sidebar_opens_your_data_with_its_form_open(page: Page, own_server):
    page.goto(own_server)
    expect(page.get_by_role("heading", name="Digit Lab")).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="New dataset…").click()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_be_visible()       # ready to fill in
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(   # not "New dataset…"
        "MNIST (handwritten digits)")


def test_a_short_class_keeps_start_off_then_both_models_train_and_read_a_drawing(page: Page,
                                                                                 own_server):
    """Train refuses while a class has fewer than 10 examples; once they have them, a
    Logistic Regression and a CNN train on it (the first saved run marks the dataset trained:
    kept a day at least), and Draw reads a new drawing by class name, with the three views."""
    me = "c" * 32
    ds = od.create("Shapes", "sketch", list(CLASSES), me)
    for name, digit in CLASSES.items():
        drawn = [render(placed(digit, *place(i))) for i in range(PER_CLASS)]
        oe.add_images(ds.key, name, drawn[:9] if name == "seven" else drawn, me)
    page.goto(f"{own_server}/train?dataset={ds.key}&me={me}")
    expect(page.get_by_text("Class 'seven' needs 1 more example (10 at least).")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_role("button", name="Start training")).to_be_disabled()
    oe.add_images(ds.key, "seven", [render(placed(7, *place(11)))], me)
    page.reload()
    expect(page.get_by_role("button", name="Start training")).to_be_enabled(timeout=60_000)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Logistic Regression on Shapes is saved").first).to_be_visible(
        timeout=240_000)
    assert od.get(ds.key).trained_at is not None
    choose_cnn(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"CNN \(\w+\) on Shapes is saved")).first).to_be_visible(
        timeout=300_000)

    page.goto(f"{own_server}/draw?dataset={ds.key}&me={me}")
    expect(page.get_by_role("heading", name="Draw: Shapes")).to_be_visible(timeout=60_000)
    expect(page.locator(CANVAS)).to_be_visible()
    wait_idle(page)
    draw(page, CLASSES["one"], 5)
    for model in ("CNN", "Logistic Regression"):
        answer = page.get_by_test_id("stMetric").filter(has_text=f"{model} reads")
        expect(answer).to_be_visible(timeout=120_000)
        assert answer.get_by_test_id("stMetricValue").inner_text() in CLASSES
    for view, shows in (("Strokes used", "CNN: why"), ("Pixel evidence", "Logistic Regression"),
                        ("Inside the CNN", "Convolution 1")):
        page.get_by_role("tab", name=view).click()
        expect(page.get_by_role("tabpanel", name=view).get_by_text(shows).first).to_be_visible(
            timeout=60_000)
    screenshot(page, "own-data-draw")
