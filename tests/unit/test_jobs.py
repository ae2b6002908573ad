"""core.jobs: training in a worker process, events in order, stop, failures, one at a time."""

import os
import signal
import time
from pathlib import Path

import pytest

from core import jobs, store

LR = {"kind": "logreg", "dataset": "mnist", "epochs": 3, "C": 1.0, "train_size": 1000}


@pytest.fixture
def runner(tmp_path):
    r = jobs.JobRunner(tmp_path / "models")
    yield r
    r.shutdown()


def test_logreg_job_reports_every_epoch_in_order_and_saves(runner):
    job = runner.wait(runner.start(LR, owner="me").id, timeout=120)
    assert job.status == "done", job.error
    assert [h["epoch"] for h in job.history] == [1, 2, 3]
    assert all(0 < h["val_accuracy"] <= 1 and h["seconds"] > 0 for h in job.history)
    assert job.n_train == 900  # 1,000 images minus the 10 % validation split
    saved = store.get(job.model_id, root=Path(runner.models_root))
    assert saved.meta["history"] == job.history
    assert saved.meta["test_accuracy"] == pytest.approx(job.test_accuracy)
    assert saved.meta["dataset_source"] == "canonical"
    assert runner.latest("me") is job and runner.latest("someone else") is None


def test_one_job_at_a_time(runner):
    first = runner.start({**LR, "epochs": 50, "train_size": None})
    with pytest.raises(jobs.Busy, match="Logistic Regression on MNIST is already training"):
        runner.start(LR)
    runner.stop(first.id)
    runner.wait(first.id, timeout=30)
    assert runner.current() is None


def test_stop_ends_a_cnn_mid_epoch_and_saves_nothing(runner):
    job = runner.start({"kind": "cnn", "dataset": "mnist", "epochs": 30, "batch_size": 32,
                        "preset": "Classic"})
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
    job = runner.wait(runner.start({**LR, "dataset": "cifar"}).id, timeout=60)
    assert job.status == "failed"
    assert "unknown dataset 'cifar'" in job.error


def test_a_killed_worker_is_reported_and_the_next_job_runs(runner):
    job = runner.start({**LR, "epochs": 50, "train_size": None})
    while job.status == "starting":
        time.sleep(0.05)
    os.kill(runner._processes[job.id].pid, signal.SIGKILL)
    runner.wait(job.id, timeout=10)
    assert job.status == "failed" and "killed by signal 9" in job.error
    assert runner.wait(runner.start(LR).id, timeout=120).status == "done"


def test_only_the_latest_ended_jobs_are_remembered(runner, monkeypatch):
    monkeypatch.setattr(jobs, "KEEP_ENDED", 1)
    first = runner.wait(runner.start({**LR, "dataset": "cifar"}).id, timeout=60)
    second = runner.wait(runner.start({**LR, "dataset": "cifar"}).id, timeout=60)
    third = runner.start({**LR, "dataset": "cifar"})
    assert first.id not in runner.jobs and second.id in runner.jobs and third.id in runner.jobs
    runner.wait(third.id, timeout=60)
