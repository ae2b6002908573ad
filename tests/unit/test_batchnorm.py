"""core.batchnorm: a short CNN run with batch normalisation scores what its weights learned.

Before the statistics were recomputed, a 500-image, 1-epoch Fast run reached 54 % training
accuracy but scored 12 % on validation and 11.35 % on test (chance): the running averages
had not caught up with 4 steps of training.
"""

import numpy as np
import pytest

from core import worker
from core.kinds import recipe_spec


@pytest.fixture(scope="module")
def short_run():
    """A Fast run on 500 MNIST images for 1 epoch (4 steps), as a job trains it."""
    spec = recipe_spec("Fast", epochs=1, train_size=500)
    meta, _ = worker.train_cnn(spec, lambda event: None, lambda: False)
    return meta


def test_a_short_run_scores_well_above_chance_on_unseen_images(short_run):
    last = short_run["history"][-1]
    assert last["val_accuracy"] > 0.4 and short_run["test_accuracy"] > 0.4   # chance: 0.1
    assert abs(short_run["test_accuracy"] - last["val_accuracy"]) < 0.1


def test_the_validation_points_climb_as_the_weights_learn(short_run):
    val = [p["val_accuracy"] for p in short_run["history"]]
    assert val[-1] > val[0] + 0.2


def test_the_statistics_are_those_of_the_sample():
    from core import cnn
    from core.batchnorm import PopulationStatistics, batch_norms, pooled

    x = np.random.default_rng(0).integers(0, 256, (300, 28, 28, 1), dtype=np.uint8)
    model = cnn.build(recipe_spec("Fast"))
    PopulationStatistics(x, images=300).apply(model)
    first = batch_norms(model)[0]
    conv = model.layers[0](x.astype(np.float32) / 255).numpy()
    assert np.allclose(first.moving_mean.numpy(), conv.mean((0, 1, 2)), atol=1e-4)
    assert np.allclose(first.moving_variance.numpy(), conv.var((0, 1, 2)), rtol=1e-3)
    mean, variance = pooled([(2, (np.array([0.0]), np.array([1.0]))),
                             (2, (np.array([2.0]), np.array([1.0])))])
    assert mean[0] == 1.0 and variance[0] == 2.0


def test_a_model_without_batch_normalisation_is_left_alone():
    from core import cnn
    from core.batchnorm import PopulationStatistics

    model = cnn.build(recipe_spec("Classic"))
    before = [w.copy() for w in model.get_weights()]
    PopulationStatistics(np.zeros((10, 28, 28, 1), np.uint8)).apply(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
