"""Finer training curves: every run draws at least events.MIN_POINTS points per curve."""

from pathlib import Path

import numpy as np
import pytest

from core import data, events, jobs, kinds, logreg, store
from core.kinds import Spec

CURVE_KEYS = {"epoch", "time", "accuracy", "loss", "val_accuracy", "val_loss"}


def assert_a_fine_curve(history: list[dict], epochs: int, n_val: int) -> None:
    """At least MIN_POINTS points, epoch and time increasing, the last at `epochs`, and every
    validation accuracy a share of the same `n_val` images."""
    assert len(history) >= events.MIN_POINTS
    assert all(h.keys() == CURVE_KEYS for h in history)
    epochs_done, times = [h["epoch"] for h in history], [h["time"] for h in history]
    assert epochs_done == sorted(set(epochs_done)) and times == sorted(set(times))
    assert epochs_done[-1] == epochs and times[0] > 0
    right = [h["val_accuracy"] * n_val for h in history]
    assert np.allclose(right, np.round(right), atol=1e-3)   # k of the same n_val images


def val_size(runner: jobs.JobRunner, job: jobs.Job) -> int:
    """How many validation images the job's saved model records."""
    return store.get(job.model_id, root=Path(runner.models_root)).meta["val_size"]


def test_points_per_epoch_give_every_run_at_least_min_points():
    for epochs in range(1, 31):
        assert epochs * events.points_per_epoch(epochs) >= events.MIN_POINTS
    assert events.points_per_epoch(2) == 4 and events.points_per_epoch(8) == 1
    assert events.point_steps(422, 4) == [106, 211, 317, 422]   # evenly spaced, last at the end
    assert events.point_steps(3, 8) == [1, 2, 3]                 # never more than the steps


def test_a_two_epoch_fast_cnn_draws_eight_points_on_the_same_validation_images(runner):
    job = runner.wait(runner.start(kinds.recipe_spec("Fast", train_size=1000)).id, timeout=180)
    assert job.status == "done", job.error
    assert_a_fine_curve(job.history, 2, val_size(runner, job))
    assert [h["epoch"] for h in job.history] == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]


def test_a_two_round_logreg_draws_eight_points_on_the_same_validation_images(runner):
    job = runner.wait(runner.start(Spec("logreg", epochs=2, C=1.0, train_size=1000)).id,
                      timeout=120)
    assert job.status == "done", job.error
    assert_a_fine_curve(job.history, 2, val_size(runner, job))


def test_points_inside_rounds_leave_the_fit_as_it_was():
    ds = data.load("mnist")
    x, y, xv, yv = ds.x_train[:1000], ds.y_train[:1000], ds.x_test[:200], ds.y_test[:200]
    coarse, fine = logreg.build(C=1.0), logreg.build(C=1.0)
    ends, points = [], []
    logreg.fit_rounds(coarse, x, y, xv, yv, 2, lambda p, _: ends.append(p))
    logreg.fit_rounds(fine, x, y, xv, yv, 2, lambda p, _: points.append(p), points_per_round=4)
    assert [p["epoch"] for p in points] == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert np.array_equal(coarse.coef_, fine.coef_)          # the same L-BFGS iterations
    assert [p["loss"] for p in points[3::4]] == [p["loss"] for p in ends]
    assert not hasattr(fine, "_skl_callbacks")               # a saved model keeps no callback


def point(epoch, time):
    return {"type": "epoch", "epochs": 2, "epoch": epoch, "time": time, "accuracy": 0.9,
            "loss": 0.3, "val_accuracy": 0.9, "val_loss": 0.3}


def test_a_job_reads_progress_time_left_and_speed_from_fractional_points():
    job = jobs.Job("j", kinds.recipe_spec("Fast"), status="running", n_train=1000)
    job.apply(point(0.25, 2.0))
    assert job.progress == pytest.approx(0.125)
    assert job.eta_seconds == pytest.approx(8.0 * 1.75)      # 8 s an epoch, 1.75 epochs to go
    assert job.images_per_s == pytest.approx(1000 * 0.25 / 2.0)
    job.apply(events.progress(1, 0.5))                       # halfway through the first epoch
    assert job.progress == pytest.approx(0.25) and job.eta_seconds == pytest.approx(12.0)
    job.apply(point(0.5, 4.0))
    assert len(job.history) == 2 and job.epochs_done == 0.5
