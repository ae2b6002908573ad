"""A dataset of 3 classes (tests/tri.py) end to end: both kinds train on it through the real
job runner, are saved with 3 outputs and their class names, answer N x 3 probabilities as the
app serves them, and are scored with a 3 x 3 confusion matrix. Nothing assumes 10 classes."""

from pathlib import Path

import numpy as np
import pytest

from core import (
    charts,
    data,
    datasets,
    jobs,
    kinds,
    lite,
    metrics,
    scorecard,
    store,
    verdict,
)
from core.kinds import Spec
from core.serving import Serving
from tests import tri


@pytest.fixture(scope="module")
def tri_file(tmp_path_factory) -> Path:
    return tri.make(tmp_path_factory.mktemp("tri") / "tri.npz")


@pytest.fixture
def registered(tri_file, monkeypatch):
    """"tri" is a dataset of this process, read from its file (worker processes: tri.worker)."""
    monkeypatch.setitem(datasets.DATASETS, tri.KEY, tri.RECORD)
    monkeypatch.setenv(tri.ENV, str(tri_file))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tri_file):
    """Both kinds trained on "tri" through the real job runner: ({kind: Job}, store root)."""
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(datasets.DATASETS, tri.KEY, tri.RECORD)
        mp.setenv(tri.ENV, str(tri_file))
        return tri.train(root), root


def test_the_dataset_is_read_through_its_variable_with_its_class_names(registered):
    ds = data.load(tri.KEY)
    assert ds.source == "path" and ds.class_names == tri.NAMES
    assert len(ds.y_train) == 600 and len(ds.y_test) == 150
    assert set(np.unique(ds.y_test)) == {0, 1, 2}
    assert tri.RECORD.drawn == "drawing" and datasets.info("mnist").drawn == "digit"


@pytest.mark.parametrize("kind", ["logreg", "cnn"])
def test_each_kind_trains_saves_three_outputs_and_its_class_names(trained, registered, kind):
    jobs_done, root = trained
    job = jobs_done[kind]
    assert job.status == "done", job.error
    model = store.get(job.model_id, root=root)
    assert model.meta["class_names"] == list(tri.NAMES) and model.class_names == tri.NAMES
    if kind == "cnn":
        assert lite.LiteModel(model.file).classes == 3
    else:
        estimator = store.load_skops(model.path)
        assert estimator.coef_.shape == (3, 28 * 28) and list(estimator.classes_) == [0, 1, 2]


@pytest.mark.parametrize("kind", ["logreg", "cnn"])
def test_each_kind_is_served_and_scored_over_three_classes(trained, registered, kind):
    jobs_done, root = trained
    model = store.get(jobs_done[kind].model_id, root=root)
    ds = data.load(tri.KEY, train_images=False)
    serving = Serving()
    try:
        probs = serving.predict_proba(model, ds.x_test)
        one = serving.predict_proba(model, ds.x_test[:1])
    finally:
        serving.predictor.close()
    assert probs.shape == (150, 3) and one.shape == (1, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)
    ev = metrics.evaluate(ds.y_test, probs, n_classes=len(ds.class_names))
    assert ev.confusion.shape == (3, 3) and ev.confusion.sum() == 150
    assert all(len(v) == 3 for v in ev.per_class.values())
    assert ev.accuracy == pytest.approx(model.test_accuracy, abs=1e-6)
    assert ev.accuracy > 0.5, "the shapes are easy: well above a third"
    kept = scorecard.read(model, ds.y_test, ds.source)   # what Compare reads, with 3 columns
    assert kept is not None and kept.shape == (150, 3)
    with pytest.raises(ValueError, match="3 scores per image, but this dataset has 10"):
        metrics.evaluate(ds.y_test, probs, n_classes=10)


def test_a_run_is_judged_against_a_third_not_a_tenth(registered):
    meta = {"dataset": tri.KEY, "kind": "logreg", "class_names": list(tri.NAMES),
            "history": [{"epoch": 1.0, "accuracy": 0.36, "val_accuracy": 0.35, "loss": 1.1,
                         "val_loss": 1.1, "time": 1.0}], "test_accuracy": 0.36}
    name, sentence = verdict.record_verdict(meta)
    assert name == "did not learn" and "the 33% of guessing among 3 classes" in sentence


def test_uploads_fit_a_dataset_by_its_number_of_classes(registered, monkeypatch):
    from core import upload_rules

    assert upload_rules.check_fits((28, 28, 1), 3, also=(tri.KEY,)) == (tri.KEY,)
    assert upload_rules.check_fits((784,), 10, also=(tri.KEY,)) == ("mnist", "fashion_mnist")
    monkeypatch.delitem(datasets.DATASETS, tri.KEY)   # then no dataset has 3 classes
    with pytest.raises(upload_rules.Refused, match="it gives 3 outputs.*have 10 classes"):
        upload_rules.check_fits((784,), 3)


def test_the_weights_chart_and_default_recipe_follow_the_dataset(registered):
    fig = charts.logreg_weights(np.zeros((3, 28, 28)), tri.NAMES, "t", "data")
    titles = [a.text for a in fig.layout.annotations if a.text in tri.NAMES]
    assert titles == list(tri.NAMES) and len(fig.data) == 3
    assert kinds.default_recipe(tri.KEY) == "Fast"          # as for MNIST's shape
    assert kinds.default_recipe("cifar10") == "Airbench" and kinds.default_recipe("mnist") == "Fast"


def test_a_model_without_recorded_classes_has_its_datasets():
    assert datasets.model_classes({"dataset": "cifar10"})[0] == "airplane"
    assert datasets.model_classes({"dataset": "mnist", "class_names": ["a", "b"]}) == ("a", "b")


def test_labels_beyond_the_classes_are_refused_with_the_file_named(registered, tmp_path,
                                                                   monkeypatch):
    x, y = tri.images(30, seed=2)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=x, y_train=np.where(y == 2, 5, y), x_test=x, y_test=y)
    monkeypatch.setenv(tri.ENV, str(bad))
    with pytest.raises(data.DataError, match="bad.npz: labels go up to 5, but Tri has 3 classes"):
        data.load(tri.KEY)


def own_examples_of(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """90 examples of the three shapes as a dataset of `kind` holds them: sketches 28 x 28
    grey, photos 32 x 32 colour (the shapes in red on a dark ground)."""
    x, y = tri.images(90, seed=3)
    if kind == "photo":
        x = np.stack([np.pad(img, 2)[..., None] * np.array([1.0, 0.3, 0.2]) for img in x])
    return x.astype(np.uint8), y


@pytest.mark.parametrize("kind", ["sketch", "photo"])
def test_a_dataset_a_person_made_trains_with_its_own_classes(tmp_path, monkeypatch, kind):
    from core import own_datasets, own_examples

    monkeypatch.setenv("DIGITLAB_DATASETS", str(tmp_path / "datasets"))   # workers see it too
    made = own_datasets.create("Shapes", kind, tri.NAMES, owner="me")
    x, y = own_examples_of(kind)
    own_examples.add_prepared(made.key, "me", [int(label) for label in y], list(x))
    runner = jobs.JobRunner(tmp_path / "models")   # the app's own worker: no registration
    try:
        job = runner.wait(runner.start(Spec("logreg", made.key, epochs=2)).id, timeout=300)
    finally:
        runner.shutdown()
    assert job.status == "done", job.error
    model = store.get(job.model_id, root=tmp_path / "models")
    assert model.class_names == tri.NAMES and model.meta["dataset_title"] == "Shapes"
    assert store.load_logreg(model).coef_.shape == (3, int(np.prod(made.shape)))
    assert kinds.default_recipe(made.key) == ("Fast" if kind == "sketch" else "Airbench")


def test_a_class_without_training_images_fails_the_job_with_its_name(tmp_path, monkeypatch):
    lopsided = tri.make(tmp_path / "lopsided.npz")
    with np.load(lopsided) as f:
        arrays = dict(f)
    keep = arrays["y_train"] != 2            # triangles in the test set only
    np.savez(lopsided, **arrays | {"x_train": arrays["x_train"][keep],
                                   "y_train": arrays["y_train"][keep]})
    monkeypatch.setitem(datasets.DATASETS, tri.KEY, tri.RECORD)
    monkeypatch.setenv(tri.ENV, str(lopsided))
    job = tri.train(tmp_path / "models", kinds=("logreg",))["logreg"]
    assert job.status == "failed" and "no training images of triangle" in job.error
