"""Draw page in a real browser: mouse strokes on the canvas, predictions, Clear, a photo."""

import re

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from core import store
from tests.strokes import placed

from .conftest import screenshot, wait_idle

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'
pytestmark = pytest.mark.skipif(not any(m.builtin for m in store.list_models()[0]),
                                reason="built-in models missing: run `make models`")


def open_draw(page: Page, app_url: str):
    page.goto(app_url + "/draw")
    expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible()
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible()
    return canvas


def strokes(page: Page, canvas, digit: int, left: float, top: float, height: float) -> None:
    """Replay the stroke set's strokes for `digit` with the mouse, at a place on the canvas."""
    box = canvas.bounding_box()
    for stroke in placed(digit, left, top, height):
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
        page.mouse.up()


def draw(page: Page, canvas, digit: int, left: float, top: float, height: float) -> None:
    """Draw a digit; once more if a just-mounted canvas was not listening to the mouse yet.

    The canvas takes a moment after it appears before it handles mouse events: a test
    that draws within milliseconds of a Clear sometimes loses its strokes; a person never does.
    """
    undo = page.get_by_role("button", name="Undo")
    strokes(page, canvas, digit, left, top, height)
    try:
        expect(undo).to_be_enabled(timeout=3_000)
    except AssertionError:
        strokes(page, canvas, digit, left, top, height)
    expect(undo).to_be_enabled()  # the canvas took the strokes


def reading(scope, model: str = "CNN"):
    """The digit a model shows, as a locator (its metric's value)."""
    return scope.get_by_test_id("stMetric").filter(has_text=f"{model} reads").get_by_test_id("stMetricValue")


def clear(page: Page) -> None:
    """Press Clear and wait until the fresh (remounted) canvas is ready for the mouse."""
    old = page.locator(CANVAS).element_handle()
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_text("Draw a digit (0-9)")).to_be_visible()
    page.wait_for_function("c => !c.isConnected", arg=old)
    expect(page.locator(CANVAS)).to_be_visible()
    expect(page.get_by_role("button", name="Undo")).to_be_disabled()


def test_a_one_and_a_seven_are_read_and_clear_empties_the_canvas(page, app_url):
    canvas = open_draw(page, app_url)
    for digit, place in ((1, (110, 40, 200)), (7, (30, 30, 110))):
        expect(page.get_by_text("Draw a digit (0-9)")).to_be_visible()
        draw(page, canvas, digit, *place)
        expect(reading(page)).to_have_text(str(digit), timeout=60_000)  # 1st call starts TF
        expect(reading(page, "Logistic Regression")).to_be_visible()
        screenshot(page, f"draw-{digit}")
        clear(page)
        expect(reading(page)).to_have_count(0)


# Every digit twice, at sizes and places a person might use: big and central, small
# in a corner, medium and off-centre.
BROWSER_SET = [(d, place) for d in range(10)
               for place in ((60, 30, 210), (170, 150, 90) if d % 2 else (20, 150, 100))]


def test_drawn_digits_are_read_95_percent_of_the_time(page, app_url):
    canvas = open_draw(page, app_url)
    read = []
    for digit, place in BROWSER_SET:
        draw(page, canvas, digit, *place)
        expect(reading(page)).to_be_visible(timeout=60_000)
        read.append((digit, place, reading(page).inner_text()))
        clear(page)
    wrong = [r for r in read if r[2] != str(r[0])]
    assert len(wrong) <= 0.05 * len(read), wrong


def test_photo_upload_is_read(page, app_url, tmp_path):
    """A 'photo': dark ink on grey paper with uneven light, as a phone would take it."""
    h, w = 300, 240
    paper = np.tile(np.linspace(150, 230, w, dtype=np.float32), (h, 1))
    photo = paper.copy()
    cv2.line(photo, (120, 50), (120, 250), 40, 14, cv2.LINE_AA)
    cv2.line(photo, (95, 80), (120, 50), 40, 14, cv2.LINE_AA)
    path = tmp_path / "digit.jpg"
    cv2.imwrite(str(path), photo.astype(np.uint8))
    open_draw(page, app_url)
    page.get_by_role("tab", name="Upload a photo").click()
    page.locator('[data-testid="stFileUploaderDropzone"] input[type=file]').set_input_files(path)
    expect(page.get_by_text(re.compile(r"thresholded \("))).to_be_visible(timeout=60_000)
    photo_panel = page.get_by_role("tabpanel", name="Upload a photo")
    expect(reading(photo_panel)).to_have_text("1", timeout=60_000)
    expect(photo_panel.get_by_text("CNN: why 1?")).to_be_visible()  # explained like a drawing
    photo_panel.get_by_role("tab", name="Inside the CNN").click()
    expect(photo_panel.get_by_text("Convolution 1:")).to_be_visible()
    screenshot(page, "draw-photo")


def test_not_an_image_is_refused_clearly(page, app_url, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    open_draw(page, app_url)
    page.get_by_role("tab", name="Upload a photo").click()
    page.locator('[data-testid="stFileUploaderDropzone"] input[type=file]').set_input_files(path)
    expect(page.get_by_test_id("stAlertContentError")).to_be_visible()
    screenshot(page, "draw-photo-error")


@pytest.mark.parametrize("shape", [(1, 3000), (2, 290), (3000, 1)])
def test_a_photo_of_extreme_proportions_gets_an_answer_not_a_traceback(page, app_url, tmp_path,
                                                                        shape):
    strip = np.full(shape, 230, np.uint8)
    strip[:, shape[1] // 3: shape[1] // 3 + max(1, shape[1] // 40)] = 30  # some ink on it
    path = tmp_path / "strip.png"
    cv2.imwrite(str(path), strip)
    open_draw(page, app_url)
    page.get_by_role("tab", name="Upload a photo").click()
    page.locator('[data-testid="stFileUploaderDropzone"] input[type=file]').set_input_files(path)
    photo_panel = page.get_by_role("tabpanel", name="Upload a photo")
    expect(photo_panel.get_by_text("your photo")).to_be_visible(timeout=60_000)
    expect(photo_panel.get_by_test_id("stAlertContentWarning")).to_be_visible()  # no digit
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_on_a_phone_both_answers_are_right_under_the_canvas(browser, app_url):
    """390 x 844, a phone: after a drawing, the first answer starts within the first screen
    (its place in the page, whatever the main block has scrolled), and both are shown."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        canvas = open_draw(page, app_url)
        picker = page.get_by_role("combobox", name="CNN model")   # on the page, name whole
        expect(picker).to_have_value(re.compile(r"^CNN \(Deeper\) · \d+\.\d% · built-in$"))
        draw(page, canvas, 7, 60, 30, 210)
        expect(reading(page)).to_have_text("7", timeout=60_000)
        expect(reading(page, "Logistic Regression")).to_be_visible()
        wait_idle(page)
        first = page.get_by_test_id("stMetric").first
        scrolled = page.get_by_test_id("stMain").evaluate("main => main.scrollTop")
        assert first.bounding_box()["y"] + scrolled <= 844
        screenshot(page, "draw-7-390")
    finally:
        context.close()
