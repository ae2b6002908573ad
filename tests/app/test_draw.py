"""Draw page under AppTest, with the canvas component replaced by a stand-in.

`streamlit_drawable_canvas` only imports inside a running app (Components v2), so the
test installs a module with the same `st_canvas` that returns a drawing the test chose.
"""

import sys
import types

import cv2
import numpy as np
import pytest

from core import store

DRAWING: dict = {"image": None}


@pytest.fixture(autouse=True)
def fake_canvas(monkeypatch):
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: types.SimpleNamespace(image_data=DRAWING["image"])
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    DRAWING["image"] = None


def canvas_with(strokes) -> np.ndarray:
    """A 280x280 RGBA canvas, white strokes on black, like the real component returns."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    for (x0, y0), (x1, y1) in strokes:
        cv2.line(rgba, (x0, y0), (x1, y1), (255, 255, 255, 255), 18, cv2.LINE_AA)
    return rgba


@pytest.fixture
def draw_page(open_page):
    return lambda: open_page("pages/draw.py")


@pytest.mark.needs_builtins
def test_empty_canvas_shows_a_hint_and_no_prediction(draw_page):
    at = draw_page()
    assert any("Draw a digit (0-9)" in i.value for i in at.info)
    assert len(at.metric) == 0


@pytest.mark.needs_builtins
def test_a_drawn_one_is_read_by_both_models(draw_page):
    DRAWING["image"] = canvas_with([((140, 40), (140, 240))])
    at = draw_page()
    readings = {m.label: m.value for m in at.metric}
    assert list(readings) == ["CNN reads", "Logistic Regression reads"]
    assert readings["CNN reads"] == "1"
    assert len(at.get("plotly_chart")) == 2


@pytest.mark.needs_builtins
def test_a_tiny_dot_asks_for_a_bigger_digit(draw_page):
    DRAWING["image"] = canvas_with([((100, 100), (101, 101))])
    at = draw_page()
    assert any("too small" in i.value for i in at.info)


def test_without_models_the_page_points_to_training(draw_page, monkeypatch, tmp_path):
    monkeypatch.setattr(store, "BUILTIN_ROOT", tmp_path / "none")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "empty"))
    at = draw_page()
    assert any("No MNIST models yet" in w.value for w in at.warning)
