"""Train page in a real browser: live curves, Stop, and a finished model in the store."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, set_slider, start_server, stop_server


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A server of this module's own that measures its speeds, as a fresh server does."""
    proc, url = start_server(tmp_path_factory.mktemp("train"), speed_check=True)
    yield url
    stop_server(proc)


def open_train(page, app_url):
    page.goto(app_url + "/train")
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()


def test_cnn_curves_grow_then_stop_saves_nothing(page, app_url):
    open_train(page, app_url)
    page.get_by_role("radiogroup", name="Model", exact=True).get_by_role("radio", name="CNN").click()
    page.get_by_test_id("stRadio").get_by_text("Classic", exact=True).click()
    expect(page.get_by_text("keras.io's mnist_convnet", exact=False)).to_be_visible()
    set_slider(page, "Training images used", "Home", *["ArrowRight"] * 11, value="6000")
    page.get_by_role("button", name="Start training").click()
    progress = page.get_by_text(re.compile(r"Epoch [3-9] of 12"))
    expect(progress).to_be_visible(timeout=120_000)     # two epochs done: the charts have points
    points = page.locator(".js-plotly-plot .scatterlayer .point")
    assert points.count() >= 4                          # train + validation, 2+ epochs, 1st chart
    filters = page.get_by_text(re.compile(r"The first layer's 32 filters after epoch \d+$"))
    expect(filters.first).to_be_visible()   # Classic: 32 3x3 filters, live (twice as it redraws)
    screenshot(page, "train-cnn-running")
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()  # not the header's
    expect(page.get_by_text("Stopped. Nothing was saved.")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Download a run's files")).to_have_count(0)  # no model of ours
    screenshot(page, "train-cnn-stopped")


def test_logreg_trains_to_the_end_and_is_listed(page, app_url):
    open_train(page, app_url)
    expect(page.get_by_text(re.compile(r"About .* on this machine"))).to_be_visible(
        timeout=120_000)                               # the speed check has measured it
    set_slider(page, "Training images used", "Home", *["ArrowRight"] * 23, value="12000")
    page.get_by_role("button", name="Start training").click()   # ~5 s: 3,000 took 1.2 s, too
    live = page.get_by_text(re.compile(r"What each class's weights look like after round [1-9]$"))
    expect(live.first).to_be_visible(timeout=120_000)  # updated while it trains (and redrawn)
    screenshot(page, "train-logreg-running")
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(
        timeout=120_000)
    expect(page.get_by_text("Download a run's files")).to_be_visible(timeout=30_000)
    final = page.get_by_text("What each class's weights look like after round 10")
    expect(final).to_be_visible()                      # the finished model keeps the last ones
    screenshot(page, "train-logreg-done")
    page.set_viewport_size({"width": 420, "height": 900})   # a phone
    page.locator(".stPlotlyChart").filter(has=final).scroll_into_view_if_needed()  # it redraws
    screenshot(page, "train-logreg-done-phone")
