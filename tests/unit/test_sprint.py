"""The Sprint recipe (issue 27): what it adds to Fast does what it says.

A short Sprint job on 2,000 MNIST images (1,800 to train: 15 steps) trains through the worker
as the Train page's would; its saved model.keras is then loaded with plain Keras, and its loss,
learning-rate schedule, dense layer and batch-normalisation statistics are checked. Keras runs
in a subprocess, as in the app's workers: the test process never imports TensorFlow. No
timings are asserted (benchmarks/time_to_accuracy.py measures those).
"""

import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from core import kinds, verdict

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, sys, tempfile
from pathlib import Path
import keras
import numpy as np
from core import cnn, data, worker
from core.batchnorm import PopulationStatistics, batch_norms
from core.kinds import recipe_spec

found = {}
spec = recipe_spec("Sprint", train_size=2000)
meta, write = worker.train_cnn(spec, lambda event: None, lambda: False)
found["test"] = meta["test_accuracy"]
folder = Path(tempfile.mkdtemp())
write(folder)
model = keras.saving.load_model(folder / "model.keras")   # plain Keras, compiled: no custom objects

found["loss"] = [type(model.loss).__name__, model.loss.get_config()["label_smoothing"]]
schedule = model.optimizer._learning_rate
steps = int(model.optimizer.iterations.numpy())
found["steps"] = steps
found["rates"] = [float(schedule(i)) for i in range(steps + 1)]

x = data.load("mnist").x_test[:64]
y = data.load("mnist").y_test[:64]
proba = model.predict(x[..., None] / 255, verbose=0)
one_hot = np.eye(10)[y]
smoothed = 0.9 * one_hot + 0.1 / 10
found["smoothed_loss"] = [float(model.loss(one_hot, proba)),
                          float(np.mean(-(smoothed * np.log(proba)).sum(1)))]

labels = [t for _, t in cnn.batches(x, y, 32, classes=cnn.label_classes(spec)).take(1)][0]
found["pipeline_labels"] = [list(labels.shape), float(labels.numpy().sum())]
found["fast_labels"] = cnn.label_classes(recipe_spec("Fast"))

dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
found["dense"] = [[l.units, l.use_bias] for l in dense]
found["convolutions"] = [l.filters for l in model.layers if isinstance(l, keras.layers.Conv2D)]
norms = batch_norms(model)
found["last_norm_after_dense"] = model.layers.index(norms[-1]) == model.layers.index(dense[0]) + 1
sample = x[:200, ..., None]
PopulationStatistics(sample, images=200).apply(model)
upto = keras.Sequential(model.layers[:model.layers.index(dense[0]) + 1])
out = upto(sample.astype(np.float32) / 255, training=False).numpy()
found["dense_stats_match"] = [bool(np.allclose(norms[-1].moving_mean.numpy(), out.mean(0), atol=1e-4)),
                              bool(np.allclose(norms[-1].moving_variance.numpy(), out.var(0),
                                               rtol=1e-3, atol=1e-5))]

fresh = cnn.build(spec, steps=4)
logs = fresh.fit(cnn.batches(x, y, 16, classes=10), verbose=0).history
found["fit_logs"] = sorted(logs)
val = cnn.Validation(x, y, 64)
stats = PopulationStatistics(x[..., None], images=64)
progress = cnn.Progress(lambda e: None, lambda: False, 1, 4, val, stats)
progress.set_model(fresh)
progress.on_train_begin()
progress.on_epoch_begin(0)
point = progress.point(4, {"accuracy": 0.5, "loss": 0.9, cnn.TRAINING_LOSS: 0.3})
found["curve_loss"] = point["loss"]
print("RESULT " + json.dumps(found))
'''


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    """What the script measured on a short Sprint job and its saved model."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "DIGITLAB_MODELS": str(tmp_path_factory.mktemp("models"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_a_short_run_learns(found):
    assert found["test"] > 0.8   # 15 steps on 1,800 images; chance is 0.1


def test_the_loss_is_keras_own_label_smoothed_cross_entropy(found):
    assert found["loss"] == ["CategoricalCrossentropy", 0.1]
    keras_loss, by_hand = found["smoothed_loss"]
    assert keras_loss == pytest.approx(by_hand, rel=1e-3)   # 0.9 on the label, 0.01 on every class


def test_the_training_labels_are_one_hot_only_for_a_smoothing_recipe(found):
    assert found["pipeline_labels"] == [[32, 10], 32.0]
    assert found["fast_labels"] is None


def test_the_one_cycle_schedule_peaks_at_0_01_and_ends_at_zero_within_the_one_epoch(found):
    rates, steps = found["rates"], found["steps"]
    assert steps == 15                                     # ceil(1,800 / 128): the whole run
    peak = max(range(len(rates)), key=rates.__getitem__)
    assert rates[peak] == pytest.approx(0.01) and peak == 2   # warm-up: 15 % of the steps
    assert rates[0] == pytest.approx(0.001)                # from a tenth of the peak
    assert all(a <= b for a, b in pairwise(rates[:peak + 1]))
    assert all(a >= b for a, b in pairwise(rates[peak:]))
    assert rates[-1] < 1e-9                                # the last step at zero


def test_fasts_convolutions_then_a_256_unit_dense_layer_with_batch_normalisation(found):
    assert found["convolutions"] == [16, 32, 48]
    assert found["dense"] == [[256, False], [10, True]]
    assert found["last_norm_after_dense"]


def test_the_dense_layers_statistics_are_recomputed_like_the_convolutions(found):
    assert found["dense_stats_match"] == [True, True]


def test_the_training_curve_keeps_the_plain_cross_entropy(found):
    assert "crossentropy" in found["fit_logs"] and "loss" in found["fit_logs"]
    assert found["curve_loss"] == 0.3   # the metric, not Keras' "loss" (the smoothed one)


def test_sprint_is_offered_with_its_own_settings_and_timed_by_the_speed_check():
    sprint = kinds.recipe_spec("Sprint")
    assert (sprint.epochs, sprint.batch_size, sprint.learning_rate, sprint.schedule) == \
        (1, 128, 0.01, "one-cycle")
    assert kinds.speed_key(sprint) in {kinds.speed_key(c) for c in kinds.speed_cases("mnist")}
    assert kinds.default_recipe("mnist") == "Fast"
    assert verdict.likely_to_fail(sprint, 54_000) is None
    assert "tensorflow" not in sys.modules
