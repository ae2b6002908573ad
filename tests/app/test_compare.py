"""Compare page under AppTest: no models, the built-ins, and models a person cannot use."""

import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from streamlit.testing.v1 import AppTest

from core import logreg, store


@pytest.fixture
def compare_page(open_page):
    return lambda: open_page("pages/compare.py", timeout=90)


SECTIONS = ("confusion_section", "per_class_section", "disagreement_section", "robustness_section",
            "calibration_section", "inside_section")


def open_sections(at: AppTest, *names: str) -> AppTest:
    """Open Compare's sections (all by default), as a click on each expander does."""
    for name in names or SECTIONS:
        at.session_state[f"open-{name}"] = True
    at.run()
    assert not at.exception, at.exception
    return at


def table_cells(at: AppTest) -> list[list[str]]:
    """Compare's table (a Markdown table) as rows of cells, Markdown escapes removed."""
    table = next(m.value for m in at.markdown if m.value.startswith("| "))
    lines = [line for i, line in enumerate(table.splitlines()) if i != 1]   # not the |---| row
    return [[re.sub(r"\\(.)", r"\1", cell).strip().strip("*")
             for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def table_columns(at: AppTest) -> list[str]:
    """The names of the models the table's columns are about."""
    return table_cells(at)[0][1:]


def table_rows(at: AppTest) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table_cells(at)[1:]}


def user_logreg(root: Path, model_id: str, n_classes: int, test_accuracy: float,
                corrupt: bool = False) -> None:
    """A Logistic Regression folder in the user store, claiming to be an MNIST model."""
    folder = root / model_id
    folder.mkdir(parents=True)
    if corrupt:
        (folder / "model.npz").write_bytes(b"not a zip file")
    else:
        rng = np.random.default_rng(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)   # random data: any fit will do
            lr = LogisticRegression(max_iter=20).fit(rng.random((30, 784)), np.arange(30) % n_classes)
        logreg.save_weights(lr, folder / "model.npz")
    meta = {"kind": "logreg", "dataset": "mnist", "dataset_source": "canonical",
            "test_accuracy": test_accuracy, "created_at": "2026-01-01T00:00:00+00:00",
            "history": []}
    (folder / "meta.json").write_text(json.dumps(meta))


def test_without_models_the_page_says_how_to_get_some(compare_page, monkeypatch, tmp_path):
    monkeypatch.setattr(store, "BUILTIN_ROOT", tmp_path / "none")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "empty"))
    at = compare_page()
    hint = " ".join(i.value for i in at.info)
    assert "No MNIST models yet" in hint and "Train" in hint and "built-in" in hint
    assert not at.get("plotly_chart")


def test_with_one_model_the_page_asks_for_another_and_claims_no_pair(compare_page, monkeypatch,
                                                                     tmp_path):
    from tests.fake_runs import save_run

    monkeypatch.setattr(store, "BUILTIN_ROOT", tmp_path / "none")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    save_run(tmp_path / "models", "logreg")
    at = compare_page()
    assert any("Only one MNIST model is stored" in i.value for i in at.info)
    assert not [c.value for c in at.caption if "Both models" in c.value]   # there is one


@pytest.mark.needs_builtins
def test_the_built_ins_are_compared_with_numbers_and_figures(compare_page):
    at = compare_page()
    assert not at.error
    picker_a, picker_b = at.selectbox(key="compare-a"), at.selectbox(key="compare-b")
    assert picker_a.options[picker_a.index].startswith("Logistic Regression")
    assert picker_b.options[picker_b.index].startswith("CNN")
    rows = table_rows(at)
    lr, cnn = rows["Test accuracy"]
    assert lr.endswith("%") and cnn.endswith("%")
    assert float(cnn.rstrip("%")) > float(lr.rstrip("%"))
    assert rows["Published reference for this kind of model"][1].startswith("~99 % (keras.io")
    assert rows["Single-image latency (p50)"] == ["press Measure speed"] * 2
    assert not at.get("plotly_chart"), "the sections below the headline start closed"
    open_sections(at)
    # 2 confusion matrices, per class, robustness, calibration, LR weights, 2 training curves
    assert len(at.get("plotly_chart")) == 8
    assert any(m.value.startswith("#### True ") for m in at.markdown)   # the cell gallery
    assert "tensorflow" not in sys.modules, "the CNN must be evaluated in the worker"

    next(b for b in at.button if b.label == "Measure speed").click().run()
    assert not at.exception, at.exception
    latency = table_rows(at)["Single-image latency (p50)"]
    assert all(v.endswith(" ms") for v in latency), latency


@pytest.mark.needs_builtins
def test_a_mistake_button_opens_that_cell(compare_page):
    at = open_sections(compare_page(), "confusion_section")
    button = next(b for b in at.button if b.key and b.key.startswith("top-1-"))
    _, _, true, pred = button.key.split("-")
    button.click().run()
    heading = next(m.value for m in at.markdown if m.value.startswith("#### True "))
    assert heading.startswith(f"#### True {true}, predicted {pred} by CNN")


@pytest.mark.needs_builtins
def test_every_view_switch_keeps_the_page_working(compare_page):
    at = open_sections(compare_page())
    at.segmented_control(key="cm-mode").set_value("% of the true class").run()
    at.segmented_control(key="per-class-metric").set_value("recall").run()
    at.segmented_control(key="disagree-kind").set_value("both_wrong").run()
    assert not at.exception, at.exception
    assert not at.error
    assert len(at.get("plotly_chart")) == 8
    assert any(c.value.startswith("Each image with both models' answers") for c in at.caption)


@pytest.mark.needs_builtins
@pytest.mark.parametrize("n_classes,corrupt,words", [
    (3, False, "3 scores per image"),        # trained on something with other classes
    (10, True, "was refused"),               # a file that does not load
])
def test_an_unusable_model_gets_a_plain_error(compare_page, monkeypatch, tmp_path, n_classes, corrupt,
                                              words):
    root = tmp_path / "models"
    user_logreg(root, f"logreg-mnist-bad-{n_classes}", n_classes, 0.999, corrupt)
    monkeypatch.setenv("DIGITLAB_MODELS", str(root))
    at = compare_page()   # the broken model is the "best" LR, so it is model A by default
    assert any("could not be scored" in e.value and words in e.value for e in at.error), \
        [e.value for e in at.error]
    assert not at.get("plotly_chart")
    picker = at.selectbox(key="compare-a")
    builtin_lr = next(i for i, label in enumerate(picker.options)
                      if label.startswith("Logistic Regression") and label.endswith("built-in"))
    picker.select_index(builtin_lr).run()
    open_sections(at)
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 8


@pytest.mark.needs_builtins
def test_a_model_trained_on_other_files_says_so(compare_page, monkeypatch, tmp_path):
    """Scored on the canonical test set, a model trained from someone's MNIST_PATH is named as such."""
    builtin = next(m for m in store.list_models()[0] if m.builtin and m.kind == "logreg")
    folder = tmp_path / "models" / "logreg-mnist-mine"
    shutil.copytree(builtin.path, folder)
    meta = {**builtin.meta, "id": folder.name, "dataset_source": "path", "test_accuracy": 0.999,
            "dataset_description": "MNIST, 70,000 images, from /data/mnist.npz"}
    (folder / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    at = compare_page()
    notes = [i.value for i in at.info]
    assert any("from /data/mnist.npz" in n and "canonical split" in n and "99.9%" in n
               for n in notes), notes


@pytest.mark.needs_builtins
def test_the_same_model_twice_asks_for_two(compare_page):
    at = compare_page()
    at.selectbox(key="compare-b").select_index(at.selectbox(key="compare-a").index).run()
    assert any("same model" in w.value for w in at.warning)


@pytest.mark.needs_builtins
def test_the_table_says_where_each_model_trained(compare_page, monkeypatch, tmp_path):
    """From meta.json's "trained_on", written when the job was saved (core.jobs)."""
    builtin = next(m for m in store.list_models()[0] if m.builtin and m.kind == "logreg")
    folder = tmp_path / "models" / "logreg-mnist-on-a-node"
    shutil.copytree(builtin.path, folder)
    meta = {**builtin.meta, "id": folder.name, "test_accuracy": 0.999, "trained_on": "10.0.0.5"}
    (folder / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    rows = table_rows(compare_page())
    assert rows["Trained where"] == ["the cluster node 10.0.0.5", "not recorded"]
