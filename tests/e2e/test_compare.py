"""Compare page in a real browser: the built-ins side by side, a clicked confusion-matrix cell."""

import re

import pytest
from playwright.sync_api import Page, expect

from core import store

from .conftest import open_section, screenshot, wait_idle

pytestmark = pytest.mark.skipif(not any(m.builtin for m in store.list_models()[0]),
                                reason="built-in models missing: run `make models`")
GALLERY = re.compile(r"True \d, predicted \d by ")


PHONE_MAX_HEIGHT = 6000   # px: Compare at 390 px wide, every section closed
MAIN_HEIGHT = 'document.querySelector(\'[data-testid="stMain"]\').scrollHeight'


def open_compare(page: Page, app_url: str) -> None:
    page.goto(app_url + "/compare")
    expect(page.get_by_role("heading", name="Compare two models")).to_be_visible()


def click_cell(page: Page, matrix: int, true: int, pred: int) -> None:
    """Click the (true, predicted) cell of a confusion matrix where a person would: its centre.

    Each cell has an invisible marker (plotted row by row), so its box is the cell's centre.
    """
    chart = page.locator(".js-plotly-plot").nth(matrix)
    chart.scroll_into_view_if_needed()
    marker = chart.locator(".scatterlayer .point").nth(true * 10 + pred)
    box = marker.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_clicking_a_cell_shows_its_images(page, app_url):
    open_compare(page, app_url)
    expect(page.get_by_text("Test accuracy", exact=True)).to_be_visible(timeout=90_000)
    wait_idle(page)
    open_section(page, "Confusion matrices")
    gallery_title = page.get_by_role("heading", name=GALLERY)
    expect(gallery_title).to_be_visible(timeout=90_000)     # the first visit starts the CNN worker
    expect(page.get_by_text("Test accuracy", exact=True)).to_be_visible()
    expect(page.locator(".js-plotly-plot .scatterlayer .point")).not_to_have_count(0)
    wait_idle(page)
    screenshot(page, "compare-default")

    click_cell(page, matrix=1, true=7, pred=7)               # CNN's matrix, a right answer
    expect(gallery_title).to_have_text(re.compile(r"^True 7, predicted 7 by CNN"))
    click_cell(page, matrix=0, true=4, pred=4)               # then Logistic Regression's
    expect(gallery_title).to_have_text(re.compile(r"^True 4, predicted 4 by Logistic Regression"))
    gallery = page.get_by_test_id("stImage")
    expect(gallery.first).to_be_visible()
    assert gallery.count() >= 8
    page.set_viewport_size({"width": 1280, "height": 1500})   # matrices and gallery in one shot
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "compare-clicked")


def test_a_dataset_without_models_says_how_to_get_some(page, app_url):
    open_compare(page, app_url)
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=re.compile(r"^Fashion-MNIST")).click()  # (clothing), or
                                                           # (download) / (not available) offline
    hint = page.get_by_text("No Fashion-MNIST models yet").or_(page.get_by_text("is not available here"))
    expect(hint.first).to_be_visible(timeout=30_000)
    screenshot(page, "compare-no-models")


def test_on_a_phone_the_page_is_short_and_says_who_wins_first(page, app_url):
    page.set_viewport_size({"width": 390, "height": 844})
    open_compare(page, app_url)
    expect(page.get_by_text("Test accuracy", exact=True)).to_be_visible(timeout=90_000)
    wait_idle(page)
    height = page.evaluate(MAIN_HEIGHT)
    assert height <= PHONE_MAX_HEIGHT, f"Compare is {height} px tall at 390 px"
    expect(page.get_by_text(re.compile(r"^On [\d,]+ held-out")).first).to_be_visible()
    screenshot(page, "compare-phone")
    open_section(page, "Confusion matrices")
    link = page.locator('[class*="st-key-top-"] button').first
    expect(link).to_be_visible()
    colour = link.get_by_text(re.compile("→")).last.evaluate("e => getComputedStyle(e).color")
    text = page.get_by_role("heading", name="Compare two models").evaluate(
        "e => getComputedStyle(e).color")
    assert colour != text   # link-coloured, not the colour of text
