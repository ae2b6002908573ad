"""Transfer learning (issue 26): a CNN that starts from the built-in MNIST CNN's convolutions.

On a 3-class sketch dataset a person made (tests/tri.py's shapes): the convolutions of a
fresh transferred CNN equal the built-in's, "frozen" leaves them (and their batch-norm
statistics) as they were after training, "fine-tune" changes them only after the frozen
first half; a fine-tuned job trains through the real job runner and is saved and served with
3 outputs. Keras runs in subprocesses (as tests/unit/test_sprint.py does): this process never
imports TensorFlow. No timings are asserted (benchmarks/transfer.py measures accuracy).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import comparison, jobs, kinds, lite, runs, store, transfer
from core.kinds import Spec, recipe_spec
from core.serving import Serving
from tests import tri

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, sys, tempfile
from pathlib import Path
import numpy as np
from core import cnn, worker
from core.kinds import recipe_spec

key, found = sys.argv[1], {}
base = cnn.built_in()


def same_as_base(model):
    """Per convolution-block layer: are its weights (batch-norm statistics too) the built-in's?"""
    return [all(np.array_equal(a, b) for a, b in zip(old.get_weights(), new.get_weights()))
            for old, new in zip(cnn.convolution_layers(base), cnn.convolution_layers(model),
                                strict=True)]


first = cnn.convolution_layers(base)[0].get_weights()[0]   # kh x kw x 1 x F
first = np.moveaxis(first, -1, 0)[..., 0]
for start in ("fine-tune", "frozen"):
    spec = recipe_spec("Deeper", key, epochs=2, batch_size=32, start_from=start)
    fresh = cnn.build(spec, steps=6)
    found[start] = {"fresh": same_as_base(fresh), "outputs": int(fresh.output_shape[-1]),
                    "layers": len(cnn.convolution_layers(fresh))}
    points = []

    def emit(event):
        if event["type"] == "epoch":
            points.append([event["epoch"], bool(np.array_equal(event["learned"], first))])
    meta, write = worker.train_cnn(spec, emit, lambda: False)
    folder = Path(tempfile.mkdtemp())
    write(folder)
    import keras
    saved = keras.saving.load_model(folder / "model.keras")
    found[start] |= {"trained": same_as_base(saved), "points": points,
                     "settings": meta["settings"], "test": meta["test_accuracy"]}
print("RESULT " + json.dumps(found))
'''


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A 3-class sketch dataset made as a person makes one (90 examples): (key, its folder)."""
    from core import own_datasets, own_examples

    folder = tmp_path_factory.mktemp("datasets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITLAB_DATASETS", str(folder))
        dataset = own_datasets.create("Shapes", "sketch", tri.NAMES, owner="me")
        x, y = tri.images(90, seed=3)
        own_examples.add_prepared(dataset.key, "me", [int(label) for label in y], list(x))
    return dataset.key, folder


@pytest.fixture
def visible(made, monkeypatch):
    """The made dataset readable by this process and the workers it starts."""
    monkeypatch.setenv("DIGITLAB_DATASETS", str(made[1]))
    return made[0]


@pytest.fixture(scope="module")
def found(made, tmp_path_factory):
    """What the script found on both kinds of transfer, trained 2 epochs on the made dataset."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "DIGITLAB_DATASETS": str(made[1]),
           "DIGITLAB_MODELS": str(tmp_path_factory.mktemp("models"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT, made[0]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


@pytest.mark.parametrize("start", ["fine-tune", "frozen"])
def test_the_convolutions_start_as_the_built_ins_with_a_head_per_class(found, start):
    fresh = found[start]
    assert fresh["layers"] == 8   # Deeper: 4 convolutions, each with its batch normalisation
    assert fresh["fresh"] == [True] * 8 and fresh["outputs"] == 3


def test_frozen_convolutions_and_their_statistics_are_unchanged_after_training(found):
    frozen = found["frozen"]
    assert frozen["trained"] == [True] * 8
    assert all(same for _, same in frozen["points"]) and frozen["points"][-1][0] == 2
    assert frozen["settings"]["start_from"] == "frozen"


def test_fine_tuned_convolutions_change_only_after_the_frozen_first_half(found):
    points = found["fine-tune"]["points"]
    assert points and all(same for epoch, same in points if epoch <= 1)
    assert not any(same for epoch, same in points if epoch > 1)
    assert found["fine-tune"]["trained"][0] is False   # the first convolution was trained
    assert found["fine-tune"]["settings"]["start_from"] == "fine-tune"


def test_a_fine_tuned_run_trains_through_the_job_runner_saved_and_served_with_3_outputs(
        visible, tmp_path):
    runner = jobs.JobRunner(tmp_path / "models")
    spec = recipe_spec("Deeper", visible, epochs=2, batch_size=32, start_from="fine-tune")
    try:
        job = runner.wait(runner.start(spec).id, timeout=600)
    finally:
        runner.shutdown()
    assert job.status == "done", job.error
    model = store.get(job.model_id, root=tmp_path / "models")
    assert model.class_names == tri.NAMES and lite.LiteModel(model.file).classes == 3
    assert model.meta["settings"]["start_from"] == "fine-tune"
    serving = Serving()
    try:
        probs = serving.predict_proba(model, tri.images(6, seed=9)[0])
    finally:
        serving.predictor.close()
    assert probs.shape == (6, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert runs.name(model).startswith("CNN (Deeper) · from the built-in, fine-tuned")
    assert comparison.started_from_claim(model).startswith("the built-in MNIST CNN's")


def test_transfer_is_offered_for_sketches_and_fashion_mnist_not_mnist_nor_photos(visible):
    assert transfer.offered(visible) and transfer.offered("fashion_mnist")
    assert not transfer.offered("mnist") and not transfer.offered("cifar10")


def test_a_start_that_cannot_be_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="only a CNN of the Deeper recipe"):
        recipe_spec("Fast", "fashion_mnist", start_from="frozen")
    with pytest.raises(ValueError, match="offered for other datasets of that shape, not MNIST"):
        recipe_spec("Deeper", "mnist", start_from="fine-tune")
    with pytest.raises(ValueError, match="not CIFAR-10"):
        recipe_spec("Deeper", "cifar10", start_from="frozen")
    with pytest.raises(ValueError, match="fine-tuning needs at least 2 epochs"):
        recipe_spec("Deeper", "fashion_mnist", epochs=1, start_from="fine-tune")
    with pytest.raises(ValueError, match="only a CNN"):
        Spec("logreg", "fashion_mnist", start_from="frozen")


def test_the_setting_reads_in_names_and_is_saved_like_every_setting():
    spec = recipe_spec("Deeper", "fashion_mnist", start_from="frozen")
    assert spec.settings()["start_from"] == "frozen"
    assert kinds.settings_text(spec, ["start_from"]) == "from the built-in, frozen"
    assert "start_from" not in Spec("logreg").settings()
    assert kinds.SETTINGS["start_from"].glossary_term("cnn") == "transfer learning"
    assert transfer.frozen_epochs("fine-tune", 15) == 7 and transfer.frozen_epochs("frozen", 3) == 3
    assert "frozen for the first 7 epochs" in transfer.claim("fine-tune", 15)


def test_the_speed_estimate_of_a_transferred_cnn_is_its_recipes():
    scratch = recipe_spec("Deeper", "fashion_mnist")
    assert kinds.speed_key(scratch.replace(start_from="fine-tune")) == kinds.speed_key(scratch)
    assert kinds.speed_key(scratch) in {kinds.speed_key(s)
                                        for s in kinds.speed_cases("fashion_mnist")}
