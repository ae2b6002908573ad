"""OpenCV Lab in a real browser: upload, Canny, download, threshold, augment, bad files."""

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from core import images
from core import imageops as ops

from .conftest import ROOT, screenshot, wait_idle

SHAPES = ROOT / "assets" / "samples" / "shapes.png"
# The upload is the sample's left 640 columns, so nothing on the page can be mistaken for
# the sample that shows before the upload: the download button names 640×540.
UPLOAD = images.decode_image(SHAPES.read_bytes())[:, :640]
RESULT = 15_000      # ms: an upload is sent, decoded and processed; generous on a busy machine
FIRST_LOAD = 30_000  # ms


def open_lab(page: Page, app_url: str) -> None:
    page.goto(app_url + "/opencv_lab")
    # The first visit to a fresh server also imports the app and loads the dataset.
    expect(page.get_by_role("heading", name="OpenCV Lab")).to_be_visible(timeout=FIRST_LOAD)
    wait_idle(page)


def upload(page: Page, name: str, data: bytes) -> None:
    page.get_by_test_id("stRadio").get_by_text("Upload", exact=True).click()
    dropzone = page.get_by_test_id("stFileUploaderDropzoneInput")
    expect(dropzone).to_have_count(1)
    wait_idle(page)
    dropzone.set_input_files(files=[{"name": name, "mimeType": "image/png", "buffer": data}])


def code_block(page: Page):
    return page.get_by_test_id("stCode").first


def test_upload_canny_download_threshold_and_augment(page: Page, app_url: str, tmp_path: Path):
    open_lab(page, app_url)
    upload(page, "shapes.png", images.encode_png(UPLOAD))
    download_button = page.get_by_role("button", name="Download result (PNG, 640×540)")
    expect(download_button).to_be_visible(timeout=RESULT)
    expect(page.get_by_text(re.compile(r"Canny edges: [\d.]+% of pixels"))).to_be_visible()
    expect(code_block(page)).to_contain_text("cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 50, 150)")
    screenshot(page, "opencv_lab_upload")

    # Edges is the open tab; nudge the low threshold with the keyboard, like a person would.
    page.get_by_role("tab", name="Edges").click()
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowRight")
    expect(code_block(page)).to_contain_text("(5, 5), 0), 51, 150)")
    wait_idle(page)
    code_block(page).scroll_into_view_if_needed()
    screenshot(page, "opencv_lab_canny")

    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == "shapes-canny.png"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    edges = images.decode_image(saved.read_bytes())
    expected = ops.canny(UPLOAD, 51, 150, blur_ksize=5)
    np.testing.assert_array_equal(edges, expected)

    page.get_by_role("tab", name="Threshold").click()
    page.get_by_test_id("stSelectbox").filter(has_text="Method").click()
    page.get_by_role("option", name="Otsu (chooses the threshold)").click()
    expect(page.get_by_text(re.compile(r"Otsu chose the threshold \d+"))).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible()
    page.get_by_test_id("stPlotlyChart").scroll_into_view_if_needed()
    screenshot(page, "opencv_lab_threshold")

    page.get_by_role("tab", name="Augment").click()
    expect(page.get_by_role("heading", name="Random augmentations")).to_be_visible()
    page.get_by_text("Flip left to right", exact=True).click()
    expect(code_block(page)).to_contain_text("out = cv2.flip(img, 1)")
    wait_idle(page)
    screenshot(page, "opencv_lab_augment")
    page.get_by_role("heading", name="Random augmentations").scroll_into_view_if_needed()
    screenshot(page, "opencv_lab_augment_grid")


def test_non_image_upload_shows_an_error_and_the_page_keeps_working(page: Page, app_url: str):
    open_lab(page, app_url)
    upload(page, "notes.png", b"These are my notes, not a picture.\n" * 20)
    error = page.get_by_test_id("stAlert").filter(has_text="notes.png cannot be used")
    expect(error).to_be_visible(timeout=RESULT)
    expect(error).to_contain_text("not an image")
    expect(page.get_by_role("tab", name="Edges")).to_have_count(0)
    screenshot(page, "opencv_lab_error")

    upload(page, "shapes.png", images.encode_png(UPLOAD))
    expect(page.get_by_role("button", name="Download result (PNG, 640×540)")).to_be_visible(
        timeout=RESULT)
    expect(error).to_have_count(0)


def test_a_file_name_is_shown_as_typed_never_as_markdown(page: Page, app_url: str):
    name = "notes [prize](https:example.com) ![x](https:example.com) *bold*.png"
    open_lab(page, app_url)
    upload(page, name, b"These are my notes, not a picture.\n" * 20)
    error = page.get_by_test_id("stAlert").filter(has_text="cannot be used")
    expect(error).to_contain_text(name, timeout=RESULT)
    expect(error.locator("a, img, em")).to_have_count(0)


@pytest.mark.parametrize("shape", [(1, 3000), (1, 290), (290, 1)])
def test_an_image_of_extreme_proportions_is_processed(page: Page, app_url: str, shape):
    strip = np.full(shape, 200, np.uint8)
    strip[:, : shape[1] // 2] = 20
    open_lab(page, app_url)
    upload(page, "strip.png", images.encode_png(strip))
    size = f"{min(shape[1], 1400)}×{min(shape[0], 1400)}"  # the lab works at 1,400 px at most
    expect(page.get_by_role("button", name=f"Download result (PNG, {size})")).to_be_visible(
        timeout=RESULT)
    expect(page.get_by_test_id("stException")).to_have_count(0)
