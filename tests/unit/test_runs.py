"""core.runs and the Runs charts: rows from stored runs, legend names, CSV, overlays."""

import io
import json

import pandas as pd
import pytest

from core import charts, runs, runs_charts, store
from tests.fake_runs import curve, save_run


@pytest.fixture
def root(tmp_path):
    return tmp_path / "models"


def listed(root):
    return store.list_models(root, root.parent / "no-builtins")[0]


def test_a_row_holds_the_whole_record(root):
    save_run(root, "cnn", learning_rate=0.001, batch_size=64, meta_test_accuracy=0.97,
             meta_history=curve(4, val_accuracy=0.96), meta_train_seconds=12.0,
             meta_experiment={"id": "learning_rate-abc123", "swept": "learning_rate"})
    row = runs.row(listed(root)[0], runs.experiment_names(listed(root)))
    assert row[runs.RUN] == "CNN (Fast) · batch 64 · lr 0.001 · 3,000 images"
    assert row[runs.KIND] == "CNN" and row["Recipe"] == "Fast"
    assert row["Learning rate"] == 0.001 and row["Batch size"] == 64
    assert row["Regularisation C"] is None               # not a setting of a CNN
    assert row[runs.IMAGES] == 2700 and row["Epochs"] == 2
    assert row[runs.SPEED] == pytest.approx(2700 * 2 / 12.0)
    assert row[runs.BEST_VAL] == pytest.approx(0.96) and row[runs.TEST] == 0.97
    assert row[runs.VERDICT] in ("converging", "underfitting", "overfitting", "done")
    assert row[runs.EXPERIMENT] == "sweep of learning rate"
    assert row[runs.BUILT_IN] is False and row[runs.ID].startswith("cnn-mnist-")


def test_a_run_with_little_recorded_still_has_a_row(root):
    meta = {"kind": "logreg", "dataset": "mnist"}      # no settings, history, scores, sizes
    store.save(meta, lambda folder: (folder / "model.npz").write_bytes(b"x"), root)
    row = runs.row(listed(root)[0])
    assert row[runs.RUN] == "Logistic Regression"          # alone: nothing to tell apart
    assert row[runs.TEST] is None and row[runs.BEST_VAL] is None and row[runs.VERDICT] is None
    assert row[runs.SPEED] is None and row["Regularisation C"] is None
    assert row[runs.EXPERIMENT] is None


def test_all_training_images_count_as_their_number(root):
    save_run(root, "logreg", train_size=None)
    (model,) = listed(root)
    assert runs.setting_value(model, "train_size") == 3000     # 2,700 trained + 300 validation
    assert runs.setting_text(model, "train_size") == "3,000"


def test_legend_names_say_only_what_differs(root):
    a = save_run(root, "cnn", learning_rate=0.001, batch_size=64)
    b = save_run(root, "cnn", learning_rate=0.003, batch_size=64)
    c = save_run(root, "cnn", learning_rate=0.003, batch_size=128)
    names = runs.legend_names([a, b, c])
    assert names == {a.id: "batch 64 · lr 0.001", b.id: "batch 64 · lr 0.003",
                     c.id: "batch 128 · lr 0.003"}
    assert runs.legend_names([a, b]) == {a.id: "lr 0.001", b.id: "lr 0.003"}


def test_legend_names_lead_with_the_kind_when_kinds_differ(root):
    cnn = save_run(root, "cnn", epochs=2)
    lr = save_run(root, "logreg", epochs=5)
    names = runs.legend_names([cnn, lr])
    assert names == {cnn.id: "CNN (Fast) · epochs 2", lr.id: "Logistic Regression · rounds 5"}


def test_runs_that_differ_in_nothing_still_get_unique_names(root):
    same = [save_run(root, "cnn", meta_created_at="2026-12-01T10:30:00+00:00") for _ in range(2)]
    other = save_run(root, "cnn", meta_created_at="2026-12-02T09:00:00+00:00")
    names = runs.legend_names([*same, other])
    assert len(set(names.values())) == 3
    assert names[other.id] == "2026-12-02 09:00"
    assert all(names[m.id].startswith("2026-12-01 10:30 · ") for m in same)


def test_differences_keep_only_differing_settings(root):
    a = save_run(root, "cnn", learning_rate=0.001, augment=True,
                 meta_created_at="2026-12-01T10:00:00+00:00")
    b = save_run(root, "cnn", learning_rate=0.003, augment=False,
                 meta_created_at="2026-12-01T10:05:00+00:00")
    diff = runs.differences([b, a])                                 # a column per run, oldest first
    assert list(diff.index) == ["Learning rate", "Augmentation"]
    assert list(diff.columns) == ["lr 0.001 · augment on", "lr 0.003 · augment off"]
    assert diff.loc["Augmentation"].tolist() == ["on", "off"]
    everything = runs.settings_table([a, b])
    assert len(everything) == 9 and "Regularisation C" not in everything.index
    assert everything.loc["Started from"].tolist() == ["from scratch"] * 2   # as every CNN did


def test_the_table_round_trips_through_csv(root):
    save_run(root, "cnn", learning_rate=0.001)
    save_run(root, "logreg", C=1.0)
    frame = runs.table(listed(root))
    back = pd.read_csv(io.BytesIO(runs.to_csv(frame)))
    assert list(back.columns) == list(frame.columns)
    assert back[runs.ID].tolist() == frame[runs.ID].tolist()
    cnn, lr = sorted(back.to_dict("records"), key=lambda r: r["Kind"])
    assert (cnn["Learning rate"], cnn["Batch size"], cnn["Recipe"]) == (0.001, 128, "Fast")
    assert (lr["Regularisation C"], lr["Kind"]) == (1.0, "Logistic Regression")
    assert pd.isna(lr["Learning rate"]) and not lr[runs.BUILT_IN]
    assert back[runs.TEST].tolist() == pytest.approx(frame[runs.TEST].astype(float).tolist())


def test_the_runs_of_an_experiment_are_grouped(root):
    sweep = {"id": "C-abc123", "swept": "C"}
    first = save_run(root, "logreg", C=0.1, meta_experiment=sweep,
                     meta_created_at="2026-12-01T10:00:00+00:00")
    between = save_run(root, "cnn", meta_created_at="2026-12-01T10:01:00+00:00")
    second = save_run(root, "logreg", C=1.0, meta_experiment=sweep,
                      meta_created_at="2026-12-01T10:02:00+00:00")
    models = listed(root)                    # newest first: second, between, first
    assert [m.id for m in runs.grouped(models)] == [second.id, first.id, between.id]
    assert runs.experiment_names(models) == {"C-abc123": "sweep of regularisation C"}


def test_two_sweeps_of_one_setting_are_told_apart_by_their_start(root):
    for n, when in (("1", "2026-12-01T10:00:00+00:00"), ("2", "2026-12-02T10:00:00+00:00")):
        save_run(root, "cnn", meta_experiment={"id": f"lr-{n}", "swept": "learning_rate"},
                 meta_created_at=when)
    assert runs.experiment_names(listed(root)) == {
        "lr-1": "sweep of learning rate (2026-12-01 10:00)",
        "lr-2": "sweep of learning rate (2026-12-02 10:00)"}


def test_the_overlay_draws_two_lines_per_run_named_by_run(root):
    b = save_run(root, "cnn", learning_rate=0.003, epochs=3,
                 meta_created_at="2026-12-01T10:05:00+00:00")
    a = save_run(root, "cnn", learning_rate=0.001, epochs=3,
                 meta_created_at="2026-12-01T10:00:00+00:00")
    fig = runs_charts.runs_overlay(runs.curves([b, a]), "accuracy", x="time")   # oldest run first
    assert len(fig.data) == 4
    assert [t.name for t in fig.data] == ["lr 0.001"] * 2 + ["lr 0.003"] * 2
    assert [t.line.dash for t in fig.data] == ["solid", "dot"] * 2
    assert fig.data[0].line.color != fig.data[2].line.color
    assert list(fig.data[0].x) == [2.0, 4.0, 6.0]                    # seconds, not epochs
    assert [t.showlegend for t in fig.data] == [True, False] * 2    # one legend entry per run


def test_the_overlay_has_a_colour_for_each_of_ten_runs():
    curves = {f"run {i}": curve(2) for i in range(10)}
    fig = runs_charts.runs_overlay(curves, "loss")
    assert len({t.line.color for t in fig.data}) == 10


def test_a_setting_against_test_accuracy(root):
    for lr, acc in ((0.001, 0.97), (0.003, 0.98), (0.01, 0.95)):
        save_run(root, "cnn", learning_rate=lr, meta_test_accuracy=acc)
    save_run(root, "logreg")                                        # another kind: left out
    values, accuracies, names = runs.setting_points(listed(root), "cnn", "learning_rate")
    assert sorted(zip(values, accuracies)) == [(0.001, 0.97), (0.003, 0.98), (0.01, 0.95)]
    fig = runs_charts.setting_scatter(values, accuracies, names, "Learning rate", "t", "n", log=True)
    assert fig.layout.xaxis.type == "log" and list(fig.data[0].text) == names
    on_off, _, _ = runs.setting_points(listed(root), "cnn", "augment")
    assert on_off == ["off"] * 3


def test_history_in_meta_json_is_read_through_the_store(root):
    """Old histories (per-epoch "seconds", no "time") still overlay against seconds."""
    old = [{"epoch": 1, "seconds": 5.0, "accuracy": 0.8, "loss": 0.5, "val_accuracy": 0.85,
            "val_loss": 0.4},
           {"epoch": 2, "seconds": 4.0, "accuracy": 0.9, "loss": 0.3, "val_accuracy": 0.88,
            "val_loss": 0.35}]
    model = save_run(root, "logreg", meta_history=old)
    fig = runs_charts.runs_overlay(runs.curves([model]), "loss", x="time")
    assert list(fig.data[0].x) == [5.0, 9.0]
    assert json.loads((model.path / "meta.json").read_text())["history"] == old


# ---------------------------------------------------------------- run names and units

def test_a_run_is_named_by_what_it_changed_from_the_defaults(root):
    plain = save_run(root, "logreg", epochs=10, C=0.1, train_size=60_000)   # the Train page's
    small = save_run(root, "logreg", epochs=10, C=0.01, train_size=500)
    cnn = save_run(root, "cnn", recipe="Classic", epochs=12, learning_rate=1e-3,
                   schedule="constant", train_size=60_000, augment=True)
    names = runs.names([plain, small, cnn], all_images=60_000)
    assert names == {plain.id: "Logistic Regression",
                     small.id: "Logistic Regression · C 0.01 · 500 images",
                     cnn.id: "CNN (Classic) · augment on"}   # Classic's own epochs, lr, schedule


def test_runs_with_the_same_name_are_told_apart_by_date_then_id(root):
    early = [save_run(root, "logreg", C=1.0, meta_created_at="2026-12-02T07:01:00+00:00")
             for _ in range(2)]
    later = save_run(root, "logreg", C=1.0, meta_created_at="2026-12-02T07:05:00+00:00")
    seeded = save_run(root, "logreg", C=1.0, seed=1, meta_created_at="2026-12-02T07:01:00+00:00")
    names = runs.names([*early, later, seeded])
    assert len(set(names.values())) == 4
    assert names[later.id] == "Logistic Regression · rounds 3 · C 1 · 3,000 images · 2026-12-02 07:05"
    assert names[seeded.id] == "Logistic Regression · rounds 3 · C 1 · 3,000 images · seed 1"
    assert all(names[m.id].startswith("Logistic Regression · rounds 3 · C 1 · 3,000 images · "
                                      "2026-12-02 07:01 · ") for m in early)


def test_built_in_runs_say_so(tmp_path):
    builtin = tmp_path / "builtin"
    model = save_run(builtin, "logreg", epochs=15, augment=True, train_size=None)
    (shipped,) = store.list_models(tmp_path / "user", builtin)[0]
    assert shipped.id == model.id
    assert runs.name(shipped) == "Logistic Regression · rounds 15 · augment on · built-in"


def test_the_table_leads_with_name_accuracy_verdict_and_what_differs(root):
    save_run(root, "logreg", C=0.01, meta_created_at="2026-12-01T10:00:00+00:00")
    save_run(root, "logreg", C=1.0, meta_created_at="2026-12-01T10:01:00+00:00")
    frame = runs.table(listed(root))
    assert list(frame.columns[:4]) == [runs.RUN, runs.TEST, runs.VERDICT, "Regularisation C"]
    assert "Rounds" in frame.columns and "Epochs" not in frame.columns   # only LR runs here
    save_run(root, "cnn")
    mixed = runs.table(listed(root))
    assert "Epochs (CNN) / rounds (LR)" in mixed.columns


def test_the_setting_chart_holds_the_number_of_images_constant(root):
    for c, size, acc in ((0.01, 500, 0.80), (1.0, 500, 0.84), (0.01, 60_000, 0.92)):
        save_run(root, "logreg", C=c, train_size=size, meta_test_accuracy=acc)
    models = listed(root)
    assert runs.image_counts(models, "logreg") == {500: 2, 60_000: 1}
    values, accuracies, _ = runs.setting_points(models, "logreg", "C", images=500)
    assert sorted(zip(values, accuracies)) == [(0.01, 0.80), (1.0, 0.84)]
    assert runs.also_differing(models, "logreg", "C", 500) == []
    save_run(root, "logreg", C=0.1, train_size=500, augment=True, meta_test_accuracy=0.83)
    assert runs.also_differing(listed(root), "logreg", "C", 500) == ["augment"]


def test_a_logistic_regression_counts_rounds_on_every_chart(root):
    lr = save_run(root, "logreg", C=0.1)
    cnn = save_run(root, "cnn")
    fig = runs_charts.runs_overlay(runs.curves([lr]), "loss", kinds_of=runs.curve_kinds([lr]))
    assert fig.layout.xaxis.title.text == "rounds"
    assert fig.data[0].hovertemplate.count("round %{x")
    both = runs_charts.runs_overlay(runs.curves([lr, cnn]), "loss",
                                    kinds_of=runs.curve_kinds([lr, cnn]))
    assert both.layout.xaxis.title.text == "epochs (CNN) / rounds (LR)"
    curve_fig = charts.training_curve(lr.history, "accuracy", 3, unit="round")
    assert curve_fig.layout.xaxis.title.text == "rounds"
    assert "round %{x" in curve_fig.data[0].hovertemplate and "epoch" not in str(curve_fig.data)
    two = charts.training_curves({"a": lr.history, "b": cnn.history}, "loss", "t", "n",
                                 {"a": "logreg", "b": "cnn"})
    assert "round %{x}" in two.data[0].hovertemplate and "epoch %{x}" in two.data[2].hovertemplate
