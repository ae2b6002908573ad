"""core.jobs: training in a worker process, events in order, stop, failures, one at a time."""

import os
import signal
import time
from pathlib import Path

import pytest

from core import jobs, kinds, store
from core.kinds import Spec

LR = Spec("logreg", "mnist", epochs=3, C=1.0, train_size=1000)
FAILS = LR.replace(source="nowhere")   # no such source of MNIST: the job fails at once


def test_logreg_job_reports_every_point_in_order_and_saves(runner):
    job = runner.wait(runner.start(LR, owner="me").id, timeout=120)
    assert job.status == "done", job.error
    assert [h["epoch"] for h in job.history] == pytest.approx(   # 3 points a round: 7, 13, 20
        [0.35, 0.65, 1, 1.35, 1.65, 2, 2.35, 2.65, 3])              # of its 20 L-BFGS iterations
    assert all(0 < h["val_accuracy"] <= 1 and h["time"] > 0 for h in job.history)
    assert abs(job.n_train - 900) <= 5  # 1,000 images minus the 10 % validation split (per-class rounding)
    saved = store.get(job.model_id, root=Path(runner.models_root))
    assert saved.meta["history"] == job.history
    assert saved.meta["test_accuracy"] == pytest.approx(job.test_accuracy)
    assert saved.meta["dataset_source"] == "canonical"
    assert runner.latest("me") is job and runner.latest("someone else") is None


def test_stop_ends_a_cnn_mid_epoch_and_saves_nothing(runner):
    job = runner.start(kinds.recipe_spec("Classic", epochs=30, batch_size=32))
    deadline = time.monotonic() + 120
    while job.status != "running" or job.n_train is None:
        assert time.monotonic() < deadline and job.active, job.message
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the first epoch
    runner.stop(job.id)
    runner.wait(job.id, timeout=10)  # how fast it stops is measured in benchmarks/train.py
    assert job.status == "stopped" and job.model_id is None
    assert not [p for p in Path(runner.models_root).glob("*") if not p.name.startswith(".")]


def test_a_failing_job_reports_its_error(runner):
    job = runner.wait(runner.start(FAILS).id, timeout=60)
    assert job.status == "failed"
    assert "No source of mnist worked" in job.error


def test_a_spec_with_an_unknown_dataset_or_recipe_is_refused():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        Spec("logreg", "cifar")
    with pytest.raises(ValueError, match="unknown CNN recipe 'Huge'"):
        Spec("cnn", "mnist", "Huge")


def test_a_killed_worker_is_reported_and_the_next_job_runs(runner):
    job = runner.start(LR.replace(epochs=50, train_size=None))
    while job.status == "starting":
        time.sleep(0.05)
    os.kill(runner.runs[job.id].pid, signal.SIGKILL)
    runner.wait(job.id, timeout=10)
    assert job.status == "failed" and "killed by signal 9" in job.error
    assert runner.wait(runner.start(LR).id, timeout=120).status == "done"


def test_only_the_latest_ended_jobs_are_remembered(runner, monkeypatch):
    monkeypatch.setattr(jobs, "KEEP_ENDED", 1)
    first = runner.wait(runner.start(FAILS).id, timeout=60)
    second = runner.wait(runner.start(FAILS).id, timeout=60)
    third = runner.start(FAILS)
    assert first.id not in runner.jobs and second.id in runner.jobs and third.id in runner.jobs
    runner.wait(third.id, timeout=60)


def test_a_speed_check_measures_every_recipe_and_gives_way_to_a_job(runner):
    runner.check_speed()
    check = runner.speed_check()
    assert check is not None and runner.current() is None   # it is not a training job
    job = runner.start(LR)                                   # a person's job ends it at once
    assert runner.speed_check() is None                      # (the page stops saying it runs)
    assert runner.wait(job.id, timeout=120).status == "done"
    assert check.status == "stopped"
    assert runner.speeds["28x28x1:logreg"] > 0               # the job measured its own speed

    runner.check_speed()                                     # idle again: measured now
    assert runner.wait(runner.speed_check().id, timeout=600).status == "done"   # 13 cases: long under load
    assert runner.speeds.keys() == {kinds.speed_key(s) for s in kinds.speed_cases("mnist")}
    assert all(v > 0 for v in runner.speeds.values()) and runner.startup_s > 0
    runner.check_speed()
    assert runner.speed_check() is None                      # once is enough


def test_a_server_set_not_to_check_speeds_starts_no_check(runner, monkeypatch):
    monkeypatch.setenv("DIGITLAB_SPEED_CHECK", "off")
    runner.check_speed()
    assert runner.speed_check() is None and not runner.jobs


def test_the_estimate_is_epochs_times_images_over_measured_speed(runner):
    fast = kinds.recipe_spec("Fast")
    assert runner.estimate(fast, 54_000) is None
    runner.speeds = {"28x28x1:cnn/Fast": 10_000.0, "28x28x1:logreg/augment": 900.0,
                     "32x32x3:cnn/Fast": 2_500.0}
    runner.startup_s = 5.0
    assert runner.estimate(fast, 54_000) == pytest.approx(5.0 + 2 * 5.4)
    assert runner.estimate(fast.replace(augment=True), 54_000) is None
    assert runner.estimate(fast.replace(dataset="cifar10"), 45_000) == pytest.approx(5.0 + 2 * 18)
    assert runner.estimate(fast.replace(dataset="fashion_mnist"), 54_000) == pytest.approx(15.8)
    lr = Spec("logreg", epochs=10, augment=True)
    assert runner.estimate(lr, 9_000) == pytest.approx(100.0)   # no TensorFlow to start
