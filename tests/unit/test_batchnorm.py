"""core.batchnorm: a short CNN run with batch normalisation scores what its weights learned.

Before the statistics were recomputed, a 500-image, 1-epoch Fast run reached 54 % training
accuracy but scored 12 % on validation and 11.35 % on test (chance): the running averages
had not caught up with 4 steps of training. Keras runs in a subprocess, as in the app's
workers: the test process (like the server) never imports TensorFlow.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json
import numpy as np
from core import cnn, worker
from core.batchnorm import PopulationStatistics, batch_norms, pooled
from core.kinds import recipe_spec

found = {}
meta, _ = worker.train_cnn(recipe_spec("Fast", epochs=1, train_size=500),
                           lambda event: None, lambda: False)
found["val"] = [p["val_accuracy"] for p in meta["history"]]
found["test"] = meta["test_accuracy"]

x = np.random.default_rng(0).integers(0, 256, (300, 28, 28, 1), dtype=np.uint8)
model = cnn.build(recipe_spec("Fast"))
PopulationStatistics(x, images=300).apply(model)
first = batch_norms(model)[0]
conv = model.layers[0](x.astype(np.float32) / 255).numpy()
found["mean_matches"] = bool(np.allclose(first.moving_mean.numpy(), conv.mean((0, 1, 2)), atol=1e-4))
found["variance_matches"] = bool(np.allclose(first.moving_variance.numpy(), conv.var((0, 1, 2)),
                                             rtol=1e-3))
mean, variance = pooled([(2, (np.array([0.0]), np.array([1.0]))),
                         (2, (np.array([2.0]), np.array([1.0])))])
found["pooled"] = [float(mean[0]), float(variance[0])]

model = cnn.build(recipe_spec("Classic"))
before = [w.copy() for w in model.get_weights()]
PopulationStatistics(np.zeros((10, 28, 28, 1), np.uint8)).apply(model)
found["no_bn_unchanged"] = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
print("RESULT " + json.dumps(found))
'''


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    """What the script measured: a Fast run on 500 MNIST images for 1 epoch (4 steps), as a
    job trains it, and the statistics of a sample and of a model without batch normalisation."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "DIGITLAB_MODELS": str(tmp_path_factory.mktemp("models"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_a_short_run_scores_well_above_chance_on_unseen_images(found):
    assert found["val"][-1] > 0.4 and found["test"] > 0.4   # chance: 0.1
    assert abs(found["test"] - found["val"][-1]) < 0.1


def test_the_validation_points_climb_as_the_weights_learn(found):
    assert found["val"][-1] > found["val"][0] + 0.2


def test_the_statistics_are_those_of_the_sample(found):
    assert found["mean_matches"] and found["variance_matches"]
    assert found["pooled"] == [1.0, 2.0]


def test_a_model_without_batch_normalisation_is_left_alone(found):
    assert found["no_bn_unchanged"]
    assert "tensorflow" not in sys.modules
