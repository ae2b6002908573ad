"""Models trained elsewhere, under AppTest: added on the Train page's Runs (checked, asked for
what the file cannot tell, scored, listed), refused with one plain sentence, and then used on
Draw and Compare like the app's own models.

The model files are made by tests/upload_files.py's subprocess (small models trained on
600 MNIST images); the pytest process never imports TensorFlow.
"""

import json
import pickle

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import runs, store, uploads
from core.kinds import Spec
from tests.app.conftest import HOME
from tests.app.test_compare import open_sections, table_rows
from tests.app.test_draw import SEVEN, canvas_with, fake_canvas, DRAWING  # noqa: F401 (fixture)


@pytest.fixture
def user_store(tmp_path, monkeypatch):
    """An empty user store of the test's own (the built-in models stay listed)."""
    root = tmp_path / "user"
    monkeypatch.setattr(store, "user_root", lambda: root)
    return root


def train_page() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Give the panel's file picker a file, as a person choosing it does."""
    at.file_uploader[0].set_value((name, content, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def as_read(markdown: str) -> str:
    """Markdown as the page shows it: what common.plain escaped, unescaped."""
    return markdown.replace("\\", "")


def user_models(root) -> list[store.ModelInfo]:
    return [m for m in store.list_models(root)[0] if not m.builtin]


def test_a_notebook_cnn_is_checked_asked_for_added_and_listed(made, user_store):
    at = upload(train_page(), "cnn.h5", (made / "cnn.h5").read_bytes())
    assert any(as_read(m.value).startswith("A CNN with convolutions: reads 28 x 28 x 1")
               for m in at.markdown)
    assert at.selectbox(key="upload-dataset").value == "mnist"
    assert at.radio(key="upload-scale").value == 1
    at.button(key="upload-add").click().run()
    assert not at.exception, at.exception
    [model] = user_models(user_store)
    expected = json.loads((made / "expected.json").read_text())["cnn.h5"]
    assert model.test_accuracy == pytest.approx(expected, abs=1e-6)
    [added] = [as_read(s.value) for s in at.success]
    assert added.startswith("Added cnn.h5 as CNN (uploaded: cnn.h5): ")
    assert f"{expected:.2%}" in added and "parameters" in added
    table = next(d.value for d in at.dataframe if runs.RUN in d.value.columns)
    row = table[table[runs.RUN].str.startswith("CNN (uploaded: cnn.h5)")]
    assert len(row) == 1 and row[runs.TEST].item() == pytest.approx(expected)
    assert row[runs.SECONDS].isna().item() and row[runs.IMAGES].isna().item()
    assert at.file_uploader[0].value is None   # a fresh picker: no second Add of the same file


def test_a_file_waits_while_a_model_trains_and_is_checked_when_asked_again(made, user_store,
                                                                          monkeypatch):
    from pages import upload_panel as runs_section
    from tests.app.test_train import idle_runner
    monkeypatch.setattr(runs_section, "WAIT_FOR_TRAINER_S", 0.5)
    runner = idle_runner()
    training = runner.start(Spec("logreg", epochs=50, train_size=60_000), owner="someone")
    at = upload(train_page(), "cnn.h5", (made / "cnn.h5").read_bytes())
    [info] = [as_read(i.value) for i in at.info if "A model is training" in i.value]
    assert "Your file stays chosen: press **Check it now** when the training has ended" in info
    assert not at.error and not [b for b in at.button if b.key == "upload-add"]
    runner.cancel(training.id)
    runner.wait(training.id, timeout=30)
    at.button(key="upload-retry").click().run()
    assert any(as_read(m.value).startswith("A CNN with convolutions") for m in at.markdown)
    assert not [i for i in at.info if "A model is training" in i.value]


def test_a_pickle_is_refused_with_its_sentence_before_any_worker(made, user_store, monkeypatch):
    monkeypatch.setattr(uploads, "inspect", lambda *a: pytest.fail("a pickle reached the worker"))
    at = upload(train_page(), "model.pkl", pickle.dumps({"weights": [1, 2, 3]}))
    [error] = [as_read(e.value) for e in at.error]
    assert "model.pkl was refused" in error and "run code" in error
    assert not [b for b in at.button if b.key == "upload-add"]
    assert user_models(user_store) == []


def test_a_lambda_layer_is_refused_and_nothing_is_added(made, user_store):
    at = upload(train_page(), "lambda.h5", (made / "lambda.h5").read_bytes())
    [error] = [as_read(e.value) for e in at.error]
    assert "lambda.h5 was refused" in error and "Lambda layer" in error
    assert user_models(user_store) == [] and not (made / "lambda-ran.txt").exists()
    assert any(s.value == "Runs" for s in at.subheader)   # the page goes on


def test_a_file_name_with_markdown_is_shown_as_typed(user_store):
    at = upload(train_page(), "[click](http://x.example) **bold**.exe", b"MZ\x90\x00")
    [error] = at.error
    assert as_read(error.value).startswith("x.example) __bold__.exe was refused: ")
    assert r"x.example\) \_\_bold\_\_.exe" in error.value   # escaped: no link, no bold


def fake_inspection(fits=("mnist", "fashion_mnist")) -> uploads.Inspection:
    return uploads.Inspection("m.h5", ".h5", "cnn", (28, 28, 1), 10, 1234, 5000, True, fits)


def test_a_file_is_inspected_once_however_often_the_page_reruns(user_store, monkeypatch):
    calls = []
    monkeypatch.setattr(uploads, "precheck", lambda name, content: ".h5")
    monkeypatch.setattr(uploads, "inspect", lambda name, content, also=(): calls.append(name)
                        or fake_inspection())
    at = upload(train_page(), "m.h5", b"\x89HDF\r\n\x1a\nfake")
    at.radio(key="upload-scale").set_value(255).run()
    at.selectbox(key="upload-dataset").set_value("fashion_mnist").run()
    assert calls == ["m.h5"] and not at.exception


def test_the_dataset_chosen_in_the_sidebar_is_preselected_when_it_fits(user_store, monkeypatch):
    monkeypatch.setattr(uploads, "precheck", lambda name, content: ".h5")
    monkeypatch.setattr(uploads, "inspect", lambda name, content, also=(): fake_inspection())
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at.selectbox(key="dataset").set_value("fashion_mnist").run()
    at.switch_page("pages/train.py").run()
    if at.exception or not at.file_uploader:   # Fashion-MNIST is not available here
        pytest.skip("Fashion-MNIST is not available on this machine")
    at = upload(at, "m.h5", b"\x89HDF\r\n\x1a\nfake")
    assert at.selectbox(key="upload-dataset").value == "fashion_mnist"


def test_the_suggested_dataset_is_preselected_when_the_chosen_one_does_not_fit(user_store,
                                                                               monkeypatch):
    monkeypatch.setattr(uploads, "precheck", lambda name, content: ".h5")
    monkeypatch.setattr(uploads, "inspect", lambda name, content, also=(): fake_inspection(
        ("fashion_mnist",)))
    at = upload(train_page(), "m.h5", b"\x89HDF\r\n\x1a\nfake")   # on MNIST
    assert at.selectbox(key="upload-dataset").value == "fashion_mnist"


def test_near_chance_accuracy_suggests_the_other_scale(user_store, monkeypatch):
    from tests.fake_runs import save_run

    monkeypatch.setattr(uploads, "precheck", lambda name, content: ".skops")
    monkeypatch.setattr(uploads, "inspect", lambda name, content, also=(): fake_inspection())
    monkeypatch.setattr(uploads, "add", lambda name, content, dataset, scale: save_run(
        user_store, "logreg", meta_test_accuracy=0.11, meta_params=7850,
        meta_uploaded={"file_name": name, "format": ".skops", "bytes": 4096, "scale": scale}))
    at = upload(train_page(), "lr.skops", b"PK\x03\x04fake")
    at.button(key="upload-add").click().run()
    assert not at.exception, at.exception
    assert any("11.00% test accuracy" in as_read(s.value) for s in at.success)
    assert any("try the other one" in w.value for w in at.warning)


# ---------------------------------------------------------------- used like the others

@pytest.fixture(scope="module")
def added(made, tmp_path_factory):
    """A store holding the notebook CNN and the flat network without convolutions."""
    root = tmp_path_factory.mktemp("uploaded")
    return root, {name: uploads.add(name, (made / name).read_bytes(), "mnist", scale, root)
                  for name, scale in (("cnn.h5", 1), ("flat.h5", 255))}


@pytest.fixture
def uploaded(added, monkeypatch):
    root, models = added
    monkeypatch.setattr(store, "user_root", lambda: root)
    return models


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.needs_builtins
def test_draw_reads_with_an_uploaded_cnn_and_explains_it(uploaded):
    DRAWING["image"] = canvas_with(SEVEN)
    at = open_page("pages/draw.py")
    at.selectbox(key="draw-cnn").set_value(uploaded["cnn.h5"]).run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["CNN reads", "Logistic Regression reads"]
    assert len(at.get("plotly_chart")) == 4   # probabilities and strokes used of both
    at.session_state["why-draw"] = "Inside the CNN"
    at.run()
    assert not at.exception, at.exception
    layers = [m.value for m in at.markdown if m.value.startswith("**Convolution")]
    assert layers == ["**Convolution 1: 8 filters of 3 x 3** → 26 x 26 x 8"]


@pytest.mark.needs_builtins
def test_draw_says_a_network_without_convolutions_has_no_maps(uploaded):
    DRAWING["image"] = canvas_with(SEVEN)
    at = open_page("pages/draw.py")
    at.selectbox(key="draw-cnn").set_value(uploaded["flat.h5"]).run()
    at.session_state["why-draw"] = "Inside the CNN"
    at.run()
    assert not at.exception and not at.error
    assert any("has no convolution layers" in c.value for c in at.caption)
    assert [m.label for m in at.metric] == ["CNN reads", "Logistic Regression reads"]


@pytest.mark.needs_builtins
def test_compare_scores_an_uploaded_model_and_says_it_has_no_curves(uploaded):
    st.cache_data.clear()
    at = open_page("pages/compare.py")
    at.selectbox(key="compare-b").set_value(uploaded["cnn.h5"]).run()
    assert not at.exception, at.exception
    assert not at.error
    rows = table_rows(at)
    assert rows["Trained on"][1] == "trained elsewhere"
    assert rows["Training time"][1] == "trained elsewhere"
    expected = f"{uploaded['cnn.h5'].test_accuracy:.2%}"
    assert rows["Test accuracy"][1] == expected   # scored now = scored when added
    open_sections(at)
    assert any(c.value.endswith("trained elsewhere: no training curves.") for c in at.caption)
    assert len([c for c in at.get("plotly_chart")
                if "Training curves" in c.proto.spec]) == 2   # the Logistic Regression's curves
