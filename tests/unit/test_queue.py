"""core.jobs' queue: one job trains at a time, the others wait first in, first out and start
by themselves; cancel, the two limits, a failing or dying job does not stop the queue; sweeps.

The jobs here run a stand-in worker (`pretend_to_train`), so the queue is tested in a second
rather than in minutes of real training; tests/unit/test_jobs.py runs real ones.
"""

import os
import time
from pathlib import Path

import pytest

from core import events, jobs, kinds
from core.kinds import Spec

DIES, FAILS = 666, 13   # seeds the stand-in worker reads as "die" and "fail"


def pretend_to_train(spec: Spec, channel, stop_flag, models_root: str) -> None:
    """A worker that logs its seed when it starts, 'trains' for spec.epochs tenths of a
    second, then ends as its seed says: done, failed, or dead without a word."""
    with open(Path(models_root) / "started.log", "a") as log:
        log.write(f"{spec.seed}\n")
    channel.put(events.status("Training", n_train=100))
    deadline = time.monotonic() + spec.epochs / 10
    while time.monotonic() < deadline and not stop_flag.is_set():
        time.sleep(0.01)
    if stop_flag.is_set():
        channel.put(events.stopped())
    elif spec.seed == DIES:
        os._exit(3)
    else:
        channel.put(events.failed("made to fail") if spec.seed == FAILS else events.done())


@pytest.fixture
def runner(tmp_path):
    r = jobs.JobRunner(tmp_path, worker=pretend_to_train)
    yield r
    r.shutdown()


def job(seed: int, tenths: int = 3) -> Spec:
    return Spec("logreg", "mnist", epochs=tenths, seed=seed, train_size=1000)


def started(runner) -> list[int]:
    log = Path(runner.models_root) / "started.log"
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def until_running(job, timeout=60):
    """Wait until `job`'s worker has said it trains (starting a process can take seconds)."""
    deadline = time.monotonic() + timeout
    while job.status != "running":
        assert time.monotonic() < deadline, f"job still {job.status} after {timeout} s"
        time.sleep(0.05)


def wait_all(runner, queued, timeout=60):
    for j in queued:
        runner.wait(j.id, timeout=timeout)


def test_jobs_wait_their_turn_and_start_by_themselves_in_order(runner):
    first = runner.start(job(1), owner="anna")
    second, third = runner.start(job(2), owner="ben"), runner.start(job(3), owner="anna")
    assert first.status != "queued" and second.waiting and third.waiting
    assert [runner.place(second), runner.place(third), runner.place(first)] == [1, 2, None]
    assert runner.waiting("anna") == [third]
    wait_all(runner, [first, second, third])
    assert started(runner) == [1, 2, 3]
    assert [j.status for j in (first, second, third)] == ["done"] * 3
    assert second.started_at >= first.ended_at and third.started_at >= second.ended_at


def test_a_cancelled_job_never_starts_and_the_line_moves_up(runner):
    first = runner.start(job(1), owner="anna")
    second, third = runner.start(job(2), owner="anna"), runner.start(job(3), owner="ben")
    runner.cancel(second.id)
    assert second.status == "cancelled" and runner.place(third) == 1
    wait_all(runner, [first, third])
    assert started(runner) == [1, 3]
    assert second.status == "cancelled"


def test_cancelling_a_running_job_stops_it_and_the_next_starts(runner):
    first = runner.start(job(1, tenths=300))
    second = runner.start(job(2))
    while first.status == "starting":
        time.sleep(0.02)
    runner.cancel(first.id)
    wait_all(runner, [first, second])
    assert first.status == "stopped" and second.status == "done"


def test_a_failing_or_dying_job_does_not_stop_the_queue(runner):
    queued = [runner.start(job(seed)) for seed in (FAILS, DIES, 4)]
    wait_all(runner, queued)
    assert [j.status for j in queued] == ["failed", "failed", "done"]
    assert "made to fail" in queued[0].error and "exit code 3" in queued[1].error
    assert started(runner) == [FAILS, DIES, 4]


def test_one_session_may_have_five_jobs_waiting(runner):
    runner.start(job(0, tenths=300), owner="anna")            # trains; the next five wait
    for seed in range(1, 6):
        runner.start(job(seed), owner="anna")
    with pytest.raises(jobs.QueueFull, match="at most 5 jobs waiting"):
        runner.start(job(6), owner="anna")
    assert runner.start(job(7), owner="ben").waiting            # others still can
    assert len(runner.waiting("anna")) == 5


def test_the_server_holds_a_class_worth_of_waiting_jobs(runner):
    assert jobs.fair_queue.MAX_WAITING >= 60     # 30 people, two jobs each (issue 25)
    runner.start(job(0, tenths=300), owner="anna")
    for n in range(jobs.fair_queue.MAX_WAITING):
        runner.start(job(n + 1), owner=f"person {n // 5}")
    with pytest.raises(jobs.QueueFull, match="queue of this server is full"):
        runner.start(job(999), owner="someone new")
    assert len(runner.queue) == jobs.fair_queue.MAX_WAITING


def test_a_sweep_that_does_not_fit_is_refused_whole(runner):
    runner.start(job(0, tenths=300), owner="anna")
    runner.start(job(1), owner="anna")
    sweep = kinds.sweep(job(2), "C", [0.01, 0.1, 1.0, 10.0, 100.0])   # 5 more: 6 waiting
    with pytest.raises(jobs.QueueFull):
        runner.start_all(sweep, owner="anna")
    assert len(runner.waiting("anna")) == 1


def test_a_sweep_on_an_idle_trainer_starts_one_and_queues_the_rest(runner):
    sweep = kinds.sweep(job(0, tenths=1), "C", [0.01, 0.1, 1.0])
    queued = runner.start_all(sweep, owner="anna")
    assert [runner.place(j) for j in queued] == [None, 1, 2]
    wait_all(runner, queued)
    assert [j.spec.C for j in queued] == [0.01, 0.1, 1.0]
    assert all(j.status == "done" for j in queued)


def test_when_a_waiting_job_starts_is_estimated_from_the_speeds_measured(runner):
    runner.speeds[kinds.speed_key(job(0))] = 900.0   # 900 training images: 1 s an epoch
    first = runner.start(job(1, tenths=300))           # estimated 300 s, before its first epoch
    second, third = runner.start(job(2, tenths=5)), runner.start(job(3, tenths=5))
    assert runner.starts_in(second) == pytest.approx(300 - first.seconds, abs=0.5)
    assert runner.starts_in(third) == pytest.approx(runner.starts_in(second) + 5, abs=0.5)
    assert runner.starts_in(first) is None


def test_a_task_that_borrows_the_trainer_waits_for_the_running_job_and_goes_before_the_queue(
        runner):
    first, second = runner.start(job(1, tenths=5)), runner.start(job(2))
    with runner.lend(wait_s=30):
        assert first.ended and runner._training == set()   # its worker has exited
        third = runner.start(job(3))                        # waits while the memory is lent
        time.sleep(0.3)
        assert second.waiting and third.waiting and started(runner) == [1]
    wait_all(runner, [second, third])
    assert started(runner) == [1, 2, 3]


def test_a_task_that_cannot_borrow_the_trainer_in_time_hears_how_long_it_has_left(runner):
    long = runner.start(job(1, tenths=100))
    runner.speeds[kinds.speed_key(long.spec)] = 100.0     # 100 "epochs" of 900 images at 100/s
    until_running(long)                                   # its worker has begun (a busy machine)
    with pytest.raises(jobs.TrainerBusy) as busy:
        with runner.lend(wait_s=0.3):
            pytest.fail("lent while a job trains")
    assert 800 < busy.value.seconds_left <= 900
    queued = runner.start(job(2))
    runner.cancel(long.id)
    wait_all(runner, [long, queued])
    assert started(runner) == [1, 2]                      # the queue goes on after a refusal


def test_sweep_specs_differ_only_in_the_swept_setting():
    base = kinds.recipe_spec("Fast", train_size=3000)
    runs = kinds.sweep(base, "learning_rate", [1e-3, 3e-3, 1e-2])
    assert [r.learning_rate for r in runs] == [1e-3, 3e-3, 1e-2]
    assert len({r.experiment for r in runs}) == 1 and runs[0].swept == "learning_rate"
    for r in runs:
        assert r.replace(learning_rate=base.learning_rate, experiment=None, swept=None) == base


def test_jobs_of_one_kind_are_named_by_the_settings_that_differ():
    a = kinds.recipe_spec("Fast", train_size=3000)
    b = a.replace(learning_rate=1e-2, batch_size=64)
    assert kinds.differing([a, b]) == ["batch_size", "learning_rate"]
    assert kinds.settings_text(b, kinds.differing([a, b])) == "batch 64 · lr 0.01"
    assert kinds.differing([a, a]) == []
    lr = kinds.Spec("logreg", C=0.1)
    assert kinds.differing([lr, lr.replace(augment=True)]) == ["augment"]
    assert kinds.settings_text(lr.replace(train_size=None), ["train_size"]) == "all images"


@pytest.mark.parametrize("setting, values, error", [
    ("learning_rate", [1e-3], "2 to 6 different values; 1 given"),
    ("learning_rate", [1e-3, 1e-3], "2 to 6 different values; 1 given"),
    ("C", [0.1, 1.0], "cannot be swept for a CNN"),
    ("learning_rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], "7 given"),
])
def test_a_sweep_needs_two_to_six_values_of_a_setting_of_its_kind(setting, values, error):
    with pytest.raises(ValueError, match=error):
        kinds.sweep(kinds.recipe_spec("Fast"), setting, values)


def test_each_kind_names_its_unit_of_training():
    lr, cnn = kinds.Spec("logreg"), kinds.recipe_spec("Fast")
    assert (lr.unit, lr.units(10), lr.units(1)) == ("round", "10 rounds", "1 round")
    assert (cnn.unit, cnn.units(2), cnn.units(2.5)) == ("epoch", "2 epochs", "2.5 epochs")
    epochs = kinds.SETTINGS["epochs"]
    assert (epochs.label_of("logreg"), epochs.label_of("cnn")) == ("Rounds", "Epochs")
    assert epochs.label_of(["cnn", "logreg"]) == "Epochs (CNN) / rounds (LR)"
    assert kinds.unit_axis(["logreg"]) == "rounds"
    assert kinds.in_sentence(kinds.SETTINGS["C"].label) == "regularisation C"
    assert kinds.default_spec("logreg") == kinds.Spec("logreg", **kinds.LOGREG_DEFAULTS)
    assert kinds.default_spec("cnn", "cifar10").recipe == "Airbench"


def test_a_logistic_regression_job_reports_rounds():
    job = jobs.Job("j", kinds.Spec("logreg", epochs=10), owner="me")
    job.apply(events.epoch({"epoch": 2.0, "time": 1.0, "accuracy": 0.8, "loss": 0.5,
                            "val_accuracy": 0.8, "val_loss": 0.5}, 10))
    assert job.message == "2 of 10 rounds done"
