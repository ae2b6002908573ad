"""What a model has learned, sent with every epoch: LR weight images and CNN first-layer filters."""

import json
import time
from pathlib import Path

import numpy as np

from core import charts, events, kinds, store
from core.kinds import Spec

LR = Spec("logreg", "mnist", epochs=2, C=1.0, train_size=1000)


def test_a_curve_point_leaves_the_learned_images_out():
    point = {"epoch": 0.25, "time": 0.5, "accuracy": 0.9, "loss": 0.3, "val_accuracy": 0.8,
             "val_loss": 0.4}
    event = events.epoch(point, 3, learned=np.ones((4, 3, 3)))
    assert event["learned"].dtype == np.float32 and event["learned"].shape == (4, 3, 3)
    assert events.curve_point(event) == point
    assert "learned" not in events.epoch(point, 3)


def test_a_logreg_job_keeps_its_weight_images_and_saves_plain_numbers(runner):
    job = runner.wait(runner.start(LR).id, timeout=120)
    assert job.status == "done", job.error
    assert job.learned.shape == (10, 28, 28) and job.learned.dtype == np.float32
    assert np.abs(job.learned).max() > 0                     # trained weights, not zeros
    saved = store.get(job.model_id, root=Path(runner.models_root))
    meta = json.loads((saved.path / "meta.json").read_text())
    assert [h["epoch"] for h in meta["history"]] == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert all(isinstance(v, (int, float)) for h in meta["history"] for v in h.values())


def test_a_cnn_sends_its_first_layer_filters_even_behind_augmentation(runner):
    job = runner.start(kinds.recipe_spec("Fast", batch_size=64, augment=True, train_size=500))
    deadline = time.monotonic() + 120
    while job.learned is None:
        assert time.monotonic() < deadline and job.active, job.message
        time.sleep(0.05)
    runner.stop(job.id)                                       # one point is enough to look at
    assert job.learned.shape == (16, 5, 5) and job.learned.dtype == np.float32   # Fast: 16 5x5
    assert job.history[0]["epoch"] == 0.25                    # 8 batches an epoch, 4 points
    assert all(isinstance(v, (int, float)) for v in job.history[0].values())
    runner.wait(job.id, timeout=10)


def test_filters_are_drawn_eight_to_a_row_on_one_symmetric_scale():
    kernels = np.arange(10 * 3 * 3, dtype=np.float32).reshape(10, 3, 3) - 40
    heatmap = charts.first_layer_filters(kernels, "t", "n").data[0]
    z = np.array(heatmap.z, dtype=float)
    assert z.shape == (2 * 4 - 1, 8 * 4 - 1)                 # 2 rows of 8, 1-cell gutters
    assert heatmap.zmin == -heatmap.zmax == -49               # the largest |weight|
    assert np.array_equal(z[:3, 4:7], kernels[1]) and np.array_equal(z[4:7, 4:7], kernels[9])
    assert np.isnan(z[3]).all() and np.isnan(z[4:, 8:]).all()  # gutters and unused cells blank
