"""Your data with photos in a real browser: a photo dataset of 3 classes made on the page,
13 images per class uploaded at once (red discs, green squares, blue triangles drawn here on
assorted backgrounds and sizes, PNG and JPEG), its counts checked; both models trained on it
(the smallest settings); and Draw reading a new photo by class name, with its three views.
Screenshots of Your data and of Draw's answer at 1280 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from playwright.sync_api import Page, expect

from core import own_datasets as od

from .conftest import choose_cnn, screenshot, set_slider, wait_idle
from .test_own_data import create

SHAPES = ("red disc", "green square", "blue triangle")
COLOURS = {"red disc": (220, 30, 30), "green square": (30, 180, 40),
           "blue triangle": (30, 50, 220)}                                   # RGB
PER_CLASS = 13          # 3 go to the test split (20 %, 2 at least): 10 train, as Train needs
SIZES = ((48, 64), (100, 100), (64, 48), (80, 120))                         # height, width
WHOLE = "e => [e, ...e.querySelectorAll('*')].every(d => d.scrollWidth <= d.clientWidth + 1)"


def shape_photo(name: str, i: int) -> np.ndarray:
    """The i-th "photo" of a class: its shape in its colour, centred near the middle, on a
    pale background of varied tint and noise, at one of SIZES (RGB uint8)."""
    rng = np.random.default_rng(1000 * SHAPES.index(name) + i)
    h, w = SIZES[i % len(SIZES)]
    ground = rng.integers(150, 250, 3)
    image = np.clip(ground + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    side = min(h, w)
    r = int(side * rng.uniform(0.25, 0.35))
    cy, cx = h // 2 + int(rng.integers(-side // 10, side // 10 + 1)), \
        w // 2 + int(rng.integers(-side // 10, side // 10 + 1))
    colour = tuple(int(c) for c in np.clip(np.array(COLOURS[name]) + rng.integers(-25, 26, 3),
                                           0, 255))
    if name == "red disc":
        cv2.circle(image, (cx, cy), r, colour, -1, cv2.LINE_AA)
    elif name == "green square":
        cv2.rectangle(image, (cx - r, cy - r), (cx + r, cy + r), colour, -1, cv2.LINE_AA)
    else:
        corners = np.array([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], np.int32)
        cv2.fillPoly(image, [corners], colour, cv2.LINE_AA)
    return image


def save(image: np.ndarray, path: Path) -> Path:
    """Write an RGB image as PNG or JPEG (by the path's suffix), as a camera or editor would."""
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def photos(folder: Path, name: str) -> list[Path]:
    """PER_CLASS files of class `name`, every third one a JPEG."""
    folder.mkdir(exist_ok=True)
    stem = name.replace(" ", "-")
    return [save(shape_photo(name, i), folder / f"{stem}-{i}.{'jpg' if i % 3 == 2 else 'png'}")
            for i in range(PER_CLASS)]


def upload_to(page: Page, name: str, files: list[Path]) -> None:
    """Choose class `name`, upload its files at once, add them, and see them counted."""
    page.get_by_test_id("stRadio").filter(has_text="Class").get_by_text(name, exact=True).click()
    expect(page.get_by_role("heading", name=f"Add to ‘{name}’")).to_be_visible()
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=f"Images of ‘{name}’")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    page.get_by_role("button", name=f"Add {len(files)} images to ‘{name}’").click()
    expect(page.get_by_text(re.compile(rf"^Added {len(files)} examples to ‘{name}’"))
           ).to_be_visible()
    expect(page.get_by_role("heading", name=f"‘{name}’: its {len(files)} examples")
           ).to_be_visible()
    wait_idle(page)


def train(page: Page, kind: str, setting: str, done: str) -> None:
    """Train one model with its `setting` slider at 1; wait until it is saved."""
    if kind == "CNN":
        choose_cnn(page)
    set_slider(page, setting, "Home", value="1")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(done)).first).to_be_visible(timeout=300_000)


def test_a_photo_dataset_uploaded_trains_both_models_and_reads_a_new_photo(page: Page, own_server,
                                                                          browser, tmp_path):
    page.goto(own_server + "/datasets")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible(timeout=60_000)
    page.get_by_role("tabpanel", name="Name its classes").get_by_text(
        re.compile(r"^Photos: colour 32 x 32")).click()
    create(page, "Shapes in colour", list(SHAPES))
    expect(page.get_by_text(re.compile(r"^Photos: colour 32 x 32, .* · 3 classes · yours"))
           ).to_be_visible()
    for name in SHAPES:
        upload_to(page, name, photos(tmp_path / "photos", name))
    expect(page.get_by_text("Ready to train")).to_be_visible()
    screenshot(page, "own-photos-added")             # the last class's images as kept
    for name in SHAPES:                      # the page's table: train, test, all
        expect(page.get_by_role("row", name=f"{name} 10 3 {PER_CLASS}")).to_be_visible()
    (ds,) = od.all_datasets()
    assert ds.kind == "photo" and ds.class_names == SHAPES
    assert list(od.counts(ds).values()) == [(10, 3)] * 3
    me = re.search(r"[?&]me=(\w+)", page.url)[1]     # the address keeps whose it is
    screens(browser, f"{own_server}/datasets?dataset={ds.key}&me={me}", "own-photos",
            lambda p: expect(p.get_by_role("button", name="Delete this dataset…")).to_be_visible())

    page.goto(f"{own_server}/train?dataset={ds.key}&me={me}")
    expect(page.get_by_role("button", name="Start training")).to_be_enabled(timeout=60_000)
    train(page, "Logistic Regression", "Rounds", "Logistic Regression on Shapes in colour is saved")
    train(page, "CNN", "Epochs", r"CNN \(\w+\) on Shapes in colour is saved")

    new = save(shape_photo("green square", 99), tmp_path / "new-square.jpg")
    screens(browser, f"{own_server}/draw?dataset={ds.key}&me={me}", "own-photos-draw",
            lambda p: read_photo(p, new))


def read_photo(page: Page, photo: Path) -> None:
    """On Draw: upload `photo`, see both answers by class name and the three "why" views."""
    expect(page.get_by_role("heading", name="Show a photo: Shapes in colour")
           ).to_be_visible(timeout=60_000)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo)
    for model, says in (("CNN", "|".join(SHAPES)), ("Logistic Regression", "green square")):
        answer = page.get_by_test_id("stMetric").filter(has_text=f"{model} reads")
        value = answer.get_by_test_id("stMetricValue")
        expect(value).to_have_text(re.compile(f"^({says})$"), timeout=120_000)
        assert value.evaluate(WHOLE), f"{model}'s answer is cut short"   # on a phone too
    for view, shows in (("Pixel evidence", "Sum of the 3,072 terms"),
                        ("Inside the CNN", "What the first layer looks for"),
                        ("Places used", "small square of it covered")):
        page.get_by_role("tab", name=view).click()
        expect(page.get_by_role("tabpanel", name=view).get_by_text(shows).first).to_be_visible(
            timeout=60_000)


def screens(browser, url: str, name: str, ready) -> None:
    """`url` at 1280 and 390 px in tall viewports (a whole page at once), once `ready(page)`."""
    for width, height in ((1280, 4000), (390, 3000)):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(30_000)
        whole = context.new_page()
        whole.goto(url)
        ready(whole)
        screenshot(whole, f"{name}-{width}")
        context.close()
