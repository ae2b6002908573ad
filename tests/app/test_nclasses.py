"""Compare and Draw on a dataset of 3 classes (tests/tri.py), with a Logistic Regression and a
CNN trained on it: class names everywhere, 3 x 3 matrices, and never a digit or 0-9."""

import json
import sys
import types

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import datasets, store
from tests import tri
from tests.app.conftest import HOME

DRAWING: dict = {"image": None}
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success")


@pytest.fixture(scope="module")
def tri_store(tmp_path_factory):
    """The dataset's file and a store holding both kinds trained on it (once per module)."""
    path = tri.make(tmp_path_factory.mktemp("tri") / "tri.npz")
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(datasets.DATASETS, tri.KEY, tri.RECORD)
        mp.setenv(tri.ENV, str(path))
        done = tri.train(root)
    assert all(job.status == "done" for job in done.values()), [j.error for j in done.values()]
    return path, root


@pytest.fixture
def on_tri(tri_store, monkeypatch, tmp_path):
    """A function that opens a page with "tri" chosen in the sidebar, its two models only."""
    path, root = tri_store
    monkeypatch.setitem(datasets.DATASETS, tri.KEY, tri.RECORD)
    monkeypatch.setenv(tri.ENV, str(path))
    monkeypatch.setattr(store, "BUILTIN_ROOT", tmp_path / "none")
    monkeypatch.setenv("DIGITLAB_MODELS", str(root))
    canvas = types.ModuleType("streamlit_drawable_canvas")
    canvas.st_canvas = lambda **kwargs: types.SimpleNamespace(image_data=DRAWING["image"])
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", canvas)
    DRAWING["image"] = None

    def open_(page: str | None) -> AppTest:
        at = AppTest.from_file(HOME, default_timeout=120)
        at.query_params["dataset"] = tri.KEY     # ?dataset=tri, as a shared link says
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at
    return open_


def rerun(at: AppTest) -> AppTest:
    """Run the page again on "tri": under AppTest a switched-to page loses the sidebar's
    widgets between runs (the dataset would fall back to MNIST), so the choice is set again."""
    at.session_state["dataset"] = tri.KEY
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    """Every sentence the page shows, and its metrics' labels and values."""
    found = [e.value for name in TEXT_ELEMENTS for e in getattr(at, name)]
    return found + [m.label for m in at.metric] + [m.value for m in at.metric]


def assert_no_digits(at: AppTest) -> None:
    """Nothing on the page speaks of digits or of the classes 0-9."""
    for text in texts(at):
        assert "digit" not in text.lower() and "0-9" not in text, text
    assert not any(m.value.isdigit() for m in at.metric)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def circle() -> np.ndarray:
    """A 280 x 280 RGBA canvas with a circle drawn on it, as the real component returns it."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    cv2.circle(rgba, (140, 140), 85, (255, 255, 255, 255), 18, cv2.LINE_AA)
    return rgba


def test_draw_asks_for_one_of_the_classes_and_answers_by_name(on_tri):
    at = on_tri("pages/draw.py")
    assert [t.value for t in at.title] == ["Draw: Tri"]
    assert any("Draw one of: circle, square, triangle" in i.value for i in at.info)
    assert_no_digits(at)
    DRAWING["image"] = circle()
    at = on_tri("pages/draw.py")
    readings = {m.label: m.value for m in at.metric}
    assert list(readings) == ["CNN reads", "Logistic Regression reads"]
    assert set(readings.values()) <= set(tri.NAMES)
    bars = [f for f in figures(at) if f["data"][0]["type"] == "bar"]
    assert [f["data"][0]["x"] for f in bars] == [list(tri.NAMES)] * 2
    assert_no_digits(at)


@pytest.mark.parametrize("tab", ["Strokes used", "Pixel evidence", "Inside the CNN"])
def test_the_three_why_views_work_on_three_classes(on_tri, tab):
    DRAWING["image"] = circle()
    at = on_tri("pages/draw.py")
    at.session_state["why-draw"] = tab
    rerun(at)
    if tab == "Strokes used":
        assert at.segmented_control(key="why-class-draw").options == [
            "each model's answer", *tri.NAMES]
        at.segmented_control(key="why-class-draw").set_value("triangle")
        rerun(at)
        assert "why not triangle?" in figures(at)[-1]["layout"]["title"]["text"]
    if tab == "Pixel evidence":
        assert sum(c.value.startswith("Sum of the 784 terms") for c in at.caption) == 2
    assert_no_digits(at)


def test_compare_scores_both_on_three_classes_in_every_section(on_tri):
    at = on_tri("pages/compare.py")
    assert any("150 held-out Tri test images" in m.value for m in at.markdown)
    for name in ("confusion_section", "per_class_section", "disagreement_section",
                 "robustness_section", "calibration_section", "inside_section"):
        at.session_state[f"open-{name}"] = True
    rerun(at)
    shown = figures(at)
    matrices = [f for f in shown if f["data"][0]["type"] == "heatmap" and len(f["data"]) == 2]
    assert len(matrices) == 2
    for figure in matrices:
        assert figure["data"][0]["x"] == figure["data"][0]["y"] == list(tri.NAMES)
        assert np.shape(figure["data"][0]["text"]) == (3, 3)     # a count in every cell
    bars = [f for f in shown if f["layout"].get("xaxis", {}).get("title", {}).get("text") == "class"]
    assert bars and bars[0]["data"][0]["x"] == list(tri.NAMES)
    weights = [a["text"] for f in shown for a in f["layout"].get("annotations", [])
               if a["text"] in tri.NAMES]
    assert weights == list(tri.NAMES)                     # one weight image per class
    assert_no_digits(at)


@pytest.mark.parametrize("page", ["pages/train.py", "pages/opencv_lab.py"])
def test_the_other_pages_open_on_three_classes(on_tri, page):
    assert_no_digits(on_tri(page))


def test_home_shows_the_dataset_and_its_two_models(on_tri):
    at = on_tri(None)
    assert {m.label: m.value for m in at.metric}["Dataset"] == "Tri"
    listed = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert listed.count("· Tri ·") == 2
