"""The Train page's Runs under AppTest: the table, ticking runs, the overlay, experiments,
Compare with two ticked runs, and Delete (never a built-in, nothing lost on failure).

Runs are made up (tests/fake_runs.py), in a store of the test's own; nothing trains.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import runs, store
from tests.app.conftest import HOME
from tests.fake_runs import save_run


@pytest.fixture
def stores(tmp_path, monkeypatch):
    """(user store, built-in store), both empty, used by the app for this test."""
    user, builtin = tmp_path / "user", tmp_path / "builtin"
    # Not DIGITLAB_MODELS: the server's job runner, made once, would keep saving there.
    monkeypatch.setattr(store, "user_root", lambda: user)
    monkeypatch.setattr(store, "BUILTIN_ROOT", builtin)
    return user, builtin


def train_page(ticked: list[store.ModelInfo] = ()) -> AppTest:
    """The Train page, opened through Home, with these runs ticked in the Runs table."""
    at = AppTest.from_file(HOME, default_timeout=60).run()
    at.session_state["runs-ticked-mnist"] = [m.id for m in ticked]
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def runs_table(at: AppTest):
    return next(d.value for d in at.dataframe if runs.RUN in d.value.columns)


def figures(at: AppTest) -> dict[str, dict]:
    """The page's Plotly figures by title, as the JSON the browser gets."""
    found = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {f["layout"].get("title", {}).get("text"): f for f in found}


def test_the_table_lists_every_run_with_its_settings(stores):
    user, builtin = stores
    save_run(builtin, "logreg", meta_test_accuracy=0.92)
    save_run(user, "cnn", learning_rate=0.001, meta_test_accuracy=0.97)
    save_run(user, "logreg", C=1.0, meta_test_accuracy=0.91)
    at = train_page()
    assert any(h.value == "Runs" for h in at.subheader)
    table = runs_table(at)
    assert len(table) == 3 and table[runs.BUILT_IN].tolist() == [True, False, False]
    assert sorted(table[runs.TEST].tolist()) == [0.91, 0.92, 0.97]
    assert at.button(key="runs-compare").disabled         # until exactly two are ticked
    assert any("Tick runs in the table" in c.value for c in at.caption)
    assert at.get("download_button")                      # the table as CSV


def test_two_ticked_runs_are_overlaid_named_by_what_differs(stores):
    user, _ = stores
    a = save_run(user, "cnn", learning_rate=0.001)
    b = save_run(user, "cnn", learning_rate=0.003)
    at = train_page(ticked=[a, b])
    shown = figures(at)
    accuracy = shown["Accuracy of each run"]
    assert sorted(t["name"] for t in accuracy["data"]) == ["lr 0.001"] * 2 + ["lr 0.003"] * 2
    assert "Loss (cross-entropy) of each run" in shown
    differences = next(d.value for d in at.dataframe if d.value.index.name == "Setting")
    assert list(differences.index) == ["Learning rate"]
    at.toggle(key="runs-differences").set_value(False).run()
    everything = next(d.value for d in at.dataframe if d.value.index.name == "Setting")
    assert "Batch size" in everything.index and len(everything) == 9   # "Started from" too
    at.segmented_control(key="runs-x").set_value("time").run()
    assert figures(at)["Accuracy of each run"]["layout"]["xaxis"]["title"]["text"] == \
        "seconds since training began"


def test_showing_an_experiment_ticks_all_its_runs(stores):
    user, _ = stores
    sweep = {"id": "learning_rate-abc123", "swept": "learning_rate"}
    for lr in (0.001, 0.003, 0.01):
        save_run(user, "cnn", learning_rate=lr, meta_experiment=sweep)
    save_run(user, "logreg")
    at = train_page()
    assert sorted(runs_table(at)[runs.EXPERIMENT].dropna()) == ["sweep of learning rate"] * 3
    at.selectbox(key="runs-experiment-mnist").set_value("learning_rate-abc123").run()
    names = [t["name"] for t in figures(at)["Accuracy of each run"]["data"]][::2]
    assert sorted(names) == ["lr 0.001", "lr 0.003", "lr 0.01"]


def test_two_ticked_runs_open_in_compare_as_a_and_b(stores):
    user, _ = stores
    a = save_run(user, "logreg", C=0.1, meta_test_accuracy=0.9)
    b = save_run(user, "logreg", C=1.0, meta_test_accuracy=0.91)
    save_run(user, "logreg", C=10.0)                      # not ticked
    at = train_page(ticked=[b, a])
    assert not at.button(key="runs-compare").disabled
    at.button(key="runs-compare").click().run(timeout=120)
    assert not at.exception, at.exception
    assert at.title[0].value == "Compare two models"
    chosen = {at.selectbox(key="compare-a").value.id, at.selectbox(key="compare-b").value.id}
    assert chosen == {a.id, b.id}
    assert {at.query_params["a"], at.query_params["b"]} == {a.id, b.id}   # a link keeps them


def test_delete_removes_ticked_runs_but_never_a_built_in(stores):
    user, builtin = stores
    shipped = save_run(builtin, "logreg")
    mine = save_run(user, "cnn", learning_rate=0.001)
    kept = save_run(user, "cnn", learning_rate=0.003)
    at = train_page(ticked=[shipped, mine])
    assert any(c.value.startswith("Not deleted: Logistic Regression · rounds 3 · 3,000 images · "
                                  "built-in (built-in "
                                  "models ship with the app and are read-only)")
               for c in at.caption)
    at.button(key="runs-delete").click().run()
    assert not at.exception and not at.error
    left = [m.id for m in store.list_models()[0]]
    assert shipped.id in left and kept.id in left and mine.id not in left
    assert len(runs_table(at)) == 2


def test_a_delete_that_fails_says_so_and_keeps_the_run(stores, monkeypatch):
    user, _ = stores
    mine = save_run(user, "cnn")

    def refuse(model_id, root=None):
        raise OSError("Permission denied")

    monkeypatch.setattr(store, "delete", refuse)
    at = train_page(ticked=[mine])
    at.button(key="runs-delete").click().run()
    assert "Permission denied" in at.error[0].value and "it is kept" in at.error[0].value
    assert [m.id for m in store.list_models()[0]] == [mine.id]
    assert len(runs_table(at)) == 1


def test_a_runs_record_downloads_beside_its_model_files(stores):
    """The model files and its meta.json (class names in output order, settings, scores)."""
    user, _ = stores
    save_run(user, "cnn")
    at = train_page()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download its record (.json)" in labels
    files = [i for i, label in enumerate(labels) if label.startswith("Download .")]
    assert files and labels.index("Download its record (.json)") == files[-1] + 1
