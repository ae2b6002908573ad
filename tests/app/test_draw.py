"""Draw page under AppTest, with the canvas component replaced by a stand-in.

`streamlit_drawable_canvas` only imports inside a running app (Components v2), so the
test installs a module with the same `st_canvas` that returns a drawing the test chose.
"""

import re
import sys
import types

import cv2
import numpy as np
import pytest
import streamlit as st

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
    named = [c.value for c in at.caption if c.value.endswith(" · built-in")]
    assert named == ["CNN \\(Deeper\\) · built-in", "Logistic Regression · built-in"]  # which ones
    assert len(at.get("plotly_chart")) == 2 + 2  # probabilities, then each model's saliency


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


def test_with_one_kind_of_model_the_hint_names_that_model_not_both(draw_page, monkeypatch,
                                                                  tmp_path):
    from tests.fake_runs import save_run

    monkeypatch.setattr(store, "BUILTIN_ROOT", tmp_path / "none")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    save_run(tmp_path / "models", "logreg")
    hint = next(i.value for i in draw_page().info if "Draw a digit (0-9)" in i.value)
    assert "the Logistic Regression reads it as soon as you lift the pen" in hint
    assert "both" not in hint


SEVEN = [((60, 50), (220, 50)), ((220, 50), (120, 240))]


def open_why_tab(at, label: str):
    """Open one of the "Why these answers" tabs, as a click on it does."""
    at.session_state["why-draw"] = label
    return at.run()


@pytest.mark.needs_builtins
def test_why_shows_the_strokes_each_model_used_for_its_answer_or_any_digit(draw_page):
    DRAWING["image"] = canvas_with(SEVEN)
    at = draw_page()
    assert [s.value for s in at.subheader] == ["Why these answers"]
    assert [t.label for t in at.tabs][1:4] == ["Strokes used", "Pixel evidence", "Inside the CNN"]
    assert len(at.get("plotly_chart")) == 4
    at.segmented_control(key="why-class-draw").set_value("9").run()
    assert not at.exception and len(at.get("plotly_chart")) == 4


@pytest.mark.needs_builtins
def test_pixel_evidence_adds_up_to_the_score_minus_the_intercept(draw_page):
    DRAWING["image"] = canvas_with(SEVEN)
    at = open_why_tab(draw_page(), "Pixel evidence")
    assert len(evidence_sums(at)) == 2
    for total, score, intercept in evidence_sums(at):
        assert total == pytest.approx(score - intercept, abs=2e-3)  # printed to 3 decimals
    at.segmented_control(key="why-other-draw").set_value("7").run()  # its own answer, twice
    assert not at.exception
    assert len(evidence_sums(at)) == 2


def evidence_sums(at) -> list[tuple[float, float, float]]:
    """(sum of the terms, score, intercept) under each evidence map, as the page prints them."""
    return [tuple(map(float, re.findall(r"[-+]\d+\.\d+", c.value)))
            for c in at.caption if c.value.startswith("Sum of the 784 terms")]


@pytest.mark.needs_builtins
def test_inside_the_cnn_shows_filters_and_every_convolution(draw_page):
    DRAWING["image"] = canvas_with(SEVEN)
    at = open_why_tab(draw_page(), "Inside the CNN")
    layers = [m.value for m in at.markdown if m.value.startswith("**Convolution")]
    assert layers == ["**Convolution 1: 32 filters of 3 x 3** → 28 x 28 x 32",
                      "**Convolution 2: 32 filters of 3 x 3** → 28 x 28 x 32",
                      "**Convolution 3: 64 filters of 3 x 3** → 14 x 14 x 64",
                      "**Convolution 4: 64 filters of 3 x 3** → 14 x 14 x 64"]
    mosaics = [i.captions[0] for i in at.get("image")][3:]  # after the three preprocessing steps
    assert [c.split(" maps")[0] for c in mosaics] == ["the strongest 16 of 32", "the strongest 16 of 32",
                                                     "the strongest 16 of 64", "the strongest 16 of 64"]
    at.toggle(key="why-all-draw").set_value(True).run()
    assert not at.exception
    mosaics = [i.captions[0] for i in at.get("image")][3:]
    assert [c.split(" maps")[0] for c in mosaics] == ["all 32", "all 32", "all 64", "all 64"]


@pytest.mark.needs_builtins
def test_a_cnn_whose_layers_cannot_be_read_says_so_and_keeps_its_answer(draw_page, monkeypatch):
    from core.predictor import PredictError, Predictor

    def fails(self, model_file, x, timeout=120.0):
        raise PredictError("cnn-default/model.tflite: the model has no convolution layers to show")
    monkeypatch.setattr(Predictor, "inside", fails)
    st.cache_data.clear()  # another test may have read this drawing's layers already
    DRAWING["image"] = canvas_with(SEVEN)
    at = open_why_tab(draw_page(), "Inside the CNN")
    assert [e.value for e in at.error] == [
        ("This CNN's layers cannot be shown: cnn-default/model.tflite: the model has no "
         "convolution layers to show")]
    assert {m.label: m.value for m in at.metric}["CNN reads"] == "7"


@pytest.mark.needs_builtins
def test_a_cnn_that_cannot_predict_says_so_and_the_other_model_still_answers(draw_page,
                                                                            monkeypatch):
    from core.predictor import PredictError
    from core.serving import Serving

    real = Serving.predict_proba

    def cnn_fails(self, model, x):
        if model.kind == "cnn":
            raise PredictError("cnn-default/model.tflite: unreadable")
        return real(self, model, x)
    monkeypatch.setattr(Serving, "predict_proba", cnn_fails)
    DRAWING["image"] = canvas_with(SEVEN)
    at = draw_page()
    assert [e.value for e in at.error] == [
        "CNN could not predict: cnn-default/model.tflite: unreadable"]
    assert {m.label: m.value for m in at.metric} == {"Logistic Regression reads": "7"}
