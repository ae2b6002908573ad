"""Every sentence Compare says about how a model was trained agrees with that model's meta.json:
for the built-ins, an uploaded model and fresh runs (made without training, tests/fake_runs.py).

The expected words are built here from meta.json itself, not with the functions the page uses.
"""

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core import data, scorecard, store
from tests.app.conftest import HOME
from tests.app.test_compare import open_sections, table_columns, table_rows
from tests.fake_runs import save_run

ROBUSTNESS_WORDS = {   # what each kind's augmentation is, in words a page must use
    "logreg": ("one pixel", "rotation"),     # (must say, must not say)
    "cnn": ("rotation", "one pixel"),        # MNIST's: rotation, shift and zoom
}


def builtin(kind: str) -> store.ModelInfo:
    return next(m for m in store.list_models()[0] if m.builtin and m.kind == kind)


def uploaded_lr(root) -> store.ModelInfo:
    """A Logistic Regression as an upload records it: no settings, sizes or curves of ours."""
    return save_run(root, "logreg", meta_settings={}, meta_train_size=None, meta_val_size=None,
                    meta_history=[], meta_uploaded={"file_name": "mine.skops", "format": ".skops",
                                                    "bytes": 4096, "scale": "0-1"})


def fresh_runs(root) -> tuple[store.ModelInfo, store.ModelInfo]:
    """A Logistic Regression run with shifted copies, and a CNN run without augmentation
    (the built-in CNN's network and answers under a fresh run's record, so it can be run)."""
    lr = save_run(root, "logreg", C=0.03, epochs=4, augment=True, train_size=1000,
                  meta_train_size=900, meta_val_size=100)
    cnn = save_run(root, "cnn", recipe="Classic", epochs=3, batch_size=64, learning_rate=0.001,
                   schedule="constant", augment=False, train_size=6000,
                   meta_train_size=5400, meta_val_size=600)
    for name in ("model.tflite", scorecard.FILE):
        shutil.copy(builtin("cnn").path / name, cnn.path / name)
    return store.get(lr.id, root), store.get(cnn.id, root)


def compare(a: store.ModelInfo, b: store.ModelInfo) -> AppTest:
    """The Compare page with A and B picked, every section open."""
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="compare-a").set_value(a).run()
    at.selectbox(key="compare-b").set_value(b).run()
    assert not at.exception, at.exception
    return open_sections(at)


def expected_sizes(meta: dict) -> str | None:
    """"54,001 training + 5,999 validation images (10% held out)", from meta.json's numbers."""
    n_train, n_val = meta.get("train_size"), meta.get("val_size")
    if meta.get("uploaded") or n_train is None:
        return None
    return (f"{n_train:,} training + {n_val:,} validation images "
            f"({round(100 * n_val / (n_train + n_val))}% held out)")


def check_claims(at: AppTest, models: tuple[store.ModelInfo, store.ModelInfo]) -> None:
    """Each claim in the table, the picker captions and the robustness list, against meta.json."""
    rows = table_rows(at)
    names = table_columns(at)
    robust = next(m.value for m in at.markdown if m.value.startswith("How each model was trained"))
    lines = dict(line.split("**")[1:3] for line in robust.splitlines()[1:])
    captions = [c.value for c in at.caption]
    for i, (model, name) in enumerate(zip(models, names)):
        meta = json.loads((model.path / "meta.json").read_text())
        settings = meta.get("settings") or {}
        trained, recipe, augmentation = (rows[k][i] for k in ("Trained on", "Settings",
                                                               "Augmentation"))
        sizes = expected_sizes(meta)
        if sizes is None:      # trained elsewhere: the page claims nothing about it
            assert trained == recipe == "trained elsewhere", (trained, recipe)
            assert augmentation.startswith("not recorded")
            assert "not recorded" in lines[name]
            continue
        assert trained == sizes
        assert any(sizes in c for c in captions), "the picker names the data it was trained on"
        unit = "rounds" if meta["kind"] == "logreg" else "epochs"
        assert f"{unit} {settings['epochs']}" in recipe
        if meta["kind"] == "cnn":
            assert f"recipe {settings['recipe']}" in recipe
            assert f"batch {settings['batch_size']}" in recipe
            assert f"lr {settings['learning_rate']:g}" in recipe
        else:
            assert f"C {settings['C']:g}" in recipe
        if settings["augment"]:
            say, never = ROBUSTNESS_WORDS[meta["kind"]]
            for claim in (augmentation, lines[name]):
                assert say in claim.lower() and never not in claim.lower(), claim
        else:
            assert augmentation == "none"
            assert lines[name].endswith("augmentation: none")


@pytest.mark.needs_builtins
def test_the_built_ins_are_described_as_their_records_say(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    models = builtin("logreg"), builtin("cnn")
    at = compare(*models)
    check_claims(at, models)
    assert "54,001 training + 5,999 validation images (10% held out)" in table_rows(at)["Trained on"]


@pytest.mark.needs_builtins
def test_an_uploaded_model_is_not_described_beyond_its_record(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    models = uploaded_lr(tmp_path), builtin("cnn")
    check_claims(compare(*models), models)


@pytest.mark.needs_builtins
def test_fresh_runs_are_described_as_their_records_say(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    models = fresh_runs(tmp_path)
    at = compare(*models)
    check_claims(at, models)
    assert table_rows(at)["Augmentation"][1] == "none"


@pytest.mark.needs_builtins
def test_stored_answers_are_used_only_for_the_test_set_they_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    ds = data.load("mnist", train_images=False)
    model = builtin("cnn")
    probs = scorecard.read(model, ds.y_test, ds.source)
    assert probs is not None and probs.shape == (len(ds.y_test), 10)
    assert float((probs.argmax(1) == ds.y_test).mean()) == pytest.approx(model.test_accuracy)
    assert scorecard.read(model, ds.y_test, "path") is None            # another source
    assert scorecard.read(model, ds.y_test[::-1], ds.source) is None   # other labels
