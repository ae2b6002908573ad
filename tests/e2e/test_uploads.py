"""Bring your own model, in a real browser: a notebook-style Keras CNN saved as .h5 is uploaded
on the Train page, scored, chosen on Draw to read a drawn digit and explain it, and compared.

The .h5 is made here by a subprocess (the pytest process never imports TensorFlow): the classic
notebook network (Conv2D, MaxPooling2D, Flatten, Dense softmax), two epochs on 8,000 MNIST images.
"""

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from core import store

from .conftest import ROOT, open_section, screenshot, wait_idle
from .test_draw import draw, open_draw, reading

FILE = "notebook_cnn.h5"
pytestmark = pytest.mark.skipif(not any(m.builtin for m in store.list_models()[0]),
                                reason="built-in models missing: run `make models`")

NOTEBOOK = r'''
import sys
import keras
from keras import layers
from core import data

keras.utils.set_random_seed(0)
ds = data.load("mnist", train_images=True)
x, y = ds.x_train[:8000].astype("float32") / 255, ds.y_train[:8000]
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(16, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=2, batch_size=32, verbose=0)
model.save(sys.argv[1])
'''


@pytest.fixture(scope="module")
def notebook_h5(tmp_path_factory):
    path = tmp_path_factory.mktemp("notebook") / FILE
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", NOTEBOOK, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return path


def add_model(page: Page, app_url: str, path) -> str:
    """Upload the file on the Train page and add it; the page's sentence about it."""
    page.goto(app_url + "/train")
    panel = page.get_by_test_id("stExpander").filter(has_text="Add a model you trained elsewhere")
    panel.get_by_text("Add a model you trained elsewhere").click()
    panel.locator('[data-testid="stFileUploaderDropzone"] input[type=file]').set_input_files(path)
    expect(panel.get_by_text(re.compile(r"^A CNN with convolutions: reads 28 x 28 x 1"))
           ).to_be_visible(timeout=120_000)
    expect(panel.get_by_text("0-1 (pixels divided by 255)")).to_be_visible()
    panel.get_by_role("button", name="Add to the store").click()
    added = panel.get_by_test_id("stAlertContentSuccess")
    expect(added).to_contain_text(f"Added {FILE} as CNN (uploaded: {FILE})", timeout=180_000)
    return added.inner_text()


def choose(page: Page, label: str, option: re.Pattern) -> None:
    """Pick an option of a select box by its label."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option).click()
    wait_idle(page)


def test_a_notebook_cnn_is_uploaded_read_on_draw_and_compared(page, app_url, notebook_h5):
    page.set_viewport_size({"width": 1280, "height": 3000})
    sentence = add_model(page, app_url, notebook_h5)
    accuracy = float(re.search(r"([\d.]+)% test accuracy on MNIST's 10,000 test images",
                               sentence)[1])
    assert accuracy > 90, sentence          # two epochs on 8,000 images read digits
    assert "parameters" in sentence and "KB" in sentence
    runs_table = page.get_by_test_id("stDataFrame").first
    expect(runs_table).to_be_visible()
    screenshot(page, "upload-added-1280")
    page.set_viewport_size({"width": 390, "height": 3000})
    screenshot(page, "upload-added-390")

    page.set_viewport_size({"width": 1280, "height": 3000})
    canvas = open_draw(page, app_url)
    choose(page, "CNN model", re.compile(re.escape(f"uploaded: {FILE}")))
    draw(page, canvas, 7, 30, 30, 110)
    expect(reading(page)).to_have_text("7", timeout=60_000)
    expect(page.get_by_text("CNN: why 7?")).to_be_visible()
    page.get_by_role("tab", name="Inside the CNN").click()
    expect(page.get_by_text("Convolution 1: 16 filters of 3 x 3")).to_be_visible(timeout=60_000)
    screenshot(page, "upload-draw-1280")
    page.set_viewport_size({"width": 390, "height": 3000})
    screenshot(page, "upload-draw-390")

    page.set_viewport_size({"width": 1280, "height": 3000})
    page.goto(app_url + "/compare")
    expect(page.get_by_role("heading", name="Compare two models")).to_be_visible()
    choose(page, "Model B", re.compile(re.escape(f"uploaded: {FILE}")))
    open_section(page, "Inside the models")
    expect(page.get_by_text(f"CNN (uploaded: {FILE}): trained elsewhere: no training curves."
                            )).to_be_visible(timeout=120_000)
    table = page.get_by_test_id("stMarkdown").filter(has=page.locator("table"))   # the scores
    expect(table).to_contain_text(f"{accuracy:.2f}%")
    expect(table).to_contain_text("trained elsewhere")
    screenshot(page, "upload-compare-1280")
    page.get_by_text("trained elsewhere: no training curves").scroll_into_view_if_needed()
    screenshot(page, "upload-compare-curves-1280")
    page.set_viewport_size({"width": 390, "height": 3000})
    screenshot(page, "upload-compare-390")
