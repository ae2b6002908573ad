"""core.jobs with several people: identical runs shared (waiting, training, finished), turns
taken by person, several trainers at once, and where a run trained.

The jobs run a stand-in worker (`pretend_and_save`) that saves a made-up run
(tests/fake_runs.py), so a shared run is seen to be trained once, in a second.
"""

import os
import time
from pathlib import Path

import pytest

from core import jobs, kinds, store
from core.executors import LocalExecutor
from core.kinds import Spec
from tests import fake_runs

DIES, FAILS = 666, 13   # seeds the stand-in worker reads as "die" and "fail"


def pretend_and_save(spec: Spec, channel, stop_flag, models_root: str) -> None:
    """Log when it starts and ends, 'train' for spec.epochs tenths of a second, then end as
    its seed says: saved (a made-up run with its settings), failed, or dead without a word."""
    log = Path(models_root) / "trained.log"
    with open(log, "a") as f:
        f.write(f"start {spec.seed} {time.time()}\n")
    channel.put(jobs.events.status("Training", n_train=100))
    deadline = time.monotonic() + spec.epochs / 10
    while time.monotonic() < deadline and not stop_flag.is_set():
        time.sleep(0.01)
    with open(log, "a") as f:
        f.write(f"end {spec.seed} {time.time()}\n")
    if stop_flag.is_set():
        channel.put(jobs.events.stopped())
    elif spec.seed == DIES:
        os._exit(3)
    elif spec.seed == FAILS:
        channel.put(jobs.events.failed("made to fail"))
    else:
        saved = fake_runs.save_run(Path(models_root), spec.kind, spec.dataset, **spec.settings())
        channel.put(jobs.events.done(saved.id, 0.9, spec.epochs / 10))


def make_runner(root: Path, trainers: int = 1) -> jobs.JobRunner:
    return jobs.JobRunner(root, executor=LocalExecutor(pretend_and_save, (trainers, 1)))


@pytest.fixture
def runner(tmp_path):
    r = make_runner(tmp_path)
    yield r
    r.shutdown()


@pytest.fixture
def two(tmp_path):
    r = make_runner(tmp_path, trainers=2)
    yield r
    r.shutdown()


def job(seed: int, tenths: int = 3, **changes) -> Spec:
    """A CNN's spec (its made-up run is placeholder files: the stand-in loads no library)."""
    return kinds.recipe_spec("Fast", epochs=tenths, train_size=3000, seed=seed).replace(**changes)


def log(runner) -> list[tuple[str, int, float]]:
    path = Path(runner.models_root) / "trained.log"
    lines = path.read_text().split("\n") if path.exists() else []
    return [(w, int(s), float(t)) for w, s, t in (line.split() for line in lines if line)]


def started(runner) -> list[int]:
    return [seed for what, seed, _ in log(runner) if what == "start"]


def most_at_once(runner) -> int:
    """The most stand-in workers that were training at the same moment."""
    now = peak = 0
    for what, _, _ in sorted(log(runner), key=lambda e: (e[2], e[0] == "start")):
        now += 1 if what == "start" else -1
        peak = max(peak, now)
    return peak


def saved(runner) -> list[store.ModelInfo]:
    return [m for m in store.list_models(Path(runner.models_root))[0] if not m.builtin]


def wait_all(runner, queued, timeout=60):
    for j in queued:
        runner.wait(j.id, timeout=timeout)


def test_a_start_of_a_waiting_run_joins_it(runner):
    anna = runner.start(job(1, tenths=5), owner="anna")
    ben = runner.start(job(2), owner="ben")
    cleo = runner.start(job(2), owner="cleo")
    assert cleo is ben and ben.waiting and ben.joiners.keys() == {"cleo"}
    assert runner.waiting("cleo") == [ben] and runner.place(ben) == 1 and len(runner.queue) == 1
    assert runner.starts_in(ben) == runner.starts_in(cleo)
    wait_all(runner, [anna, ben])
    assert started(runner) == [1, 2] and len(saved(runner)) == 2
    assert runner.latest("cleo") is ben and ben.status == "done"


def test_a_start_of_a_training_run_joins_it_and_a_double_click_starts_it_once(runner):
    first = runner.start(job(1), owner="anna")
    assert runner.start(job(1), owner="anna") is first and not first.joiners   # a double click
    while first.status == "starting":
        time.sleep(0.01)
    later = runner.start(job(1), owner="ben")                                 # 3 s later, say
    assert later is first and first.others("ben") == 1 and first.others("anna") == 1
    assert runner.latest("ben") is first and runner.waiting("ben") == []
    wait_all(runner, [first])
    assert started(runner) == [1] and len(saved(runner)) == 1


def test_a_finished_run_is_offered_not_trained_again_by_accident(runner):
    first = runner.wait(runner.start(job(1), owner="anna").id, timeout=30)
    with pytest.raises(jobs.AlreadyTrained) as offer:
        runner.start(job(1), owner="ben", unless_finished=True)
    (asked, model), = offer.value.runs
    assert asked == job(1) and model.id == first.model_id
    assert runner.waiting() == [] and started(runner) == [1]
    opened = runner.open(model, "ben")                            # "Open that run"
    assert opened is first and runner.latest("ben") is first and first.status == "done"
    again = runner.again(job(1))                                  # "Train again": a new seed
    assert again == job(2)
    second = runner.wait(runner.start(again, owner="ben", unless_finished=True).id, timeout=30)
    assert second.status == "done" and started(runner) == [1, 2]
    assert runner.again(job(1)) == job(3)


def test_a_run_from_an_earlier_server_opens_from_its_meta_json(tmp_path):
    model = fake_runs.save_run(tmp_path, "cnn", epochs=3, train_size=3000,
                               meta_trained_on="local")
    r = make_runner(tmp_path)
    try:
        with pytest.raises(jobs.AlreadyTrained):
            r.start(job(0), owner="ben", unless_finished=True)
        shown = r.open(store.get(model.id, tmp_path), "ben")
        assert r.latest("ben") is shown and shown.opened and shown.status == "done"
        assert shown.spec == job(0) and shown.model_id == model.id
        assert shown.history == model.history and shown.trained_on == "local"
        assert r.current() is None and started(r) == []
    finally:
        r.shutdown()


def test_only_the_starter_stops_a_shared_run_and_a_joiner_can_leave(runner):
    shared = runner.start(job(1, tenths=300), owner="anna")
    runner.start(job(1, tenths=300), owner="ben")
    runner.start(job(1, tenths=300), owner="cleo")
    runner.cancel(shared.id, owner="cleo")                    # Cleo leaves: it goes on
    assert shared.active and shared.joiners.keys() == {"ben"} and runner.latest("cleo") is None
    runner.cancel(shared.id, owner="anna")                    # the starter stops it for all
    runner.wait(shared.id, timeout=10)
    assert shared.status == "stopped" and runner.latest("ben") is shared


def test_a_waiting_shared_run_passes_to_its_first_joiner_when_its_starter_cancels(runner):
    runner.start(job(1, tenths=5), owner="anna")
    waiting = runner.start(job(2), owner="ben")
    runner.start(job(2), owner="cleo")
    runner.start(job(2), owner="dora")
    runner.cancel(waiting.id, owner="ben")
    assert waiting.waiting and waiting.owner == "cleo" and waiting.joiners.keys() == {"dora"}
    assert runner.waiting("ben") == [] and runner.place(waiting) == 1
    runner.wait(waiting.id, timeout=30)
    assert waiting.status == "done"


def test_people_take_turns_on_the_trainer(runner):
    first = runner.start(job(1, tenths=5), owner="anna")
    sweep = runner.start_all(kinds.sweep(job(0), "learning_rate", [1e-3, 3e-3, 1e-2]), owner="anna")
    ben = runner.start(job(20), owner="ben")
    assert [runner.place(j) for j in sweep + [ben]] == [2, 3, 4, 1]
    wait_all(runner, [first, *sweep, ben])
    assert started(runner) == [1, 20, 0, 0, 0]


def test_two_trainers_train_two_jobs_at_once_and_never_more(two):
    queued = [two.start(job(seed, tenths=4), owner=f"p{seed % 3}") for seed in range(1, 7)]
    assert sum(not j.waiting for j in queued) == 2 and len(two.queue) == 4
    assert two.slots() == 2 and len(two.training()) == 2
    wait_all(two, queued)
    assert all(j.status == "done" for j in queued) and len(saved(two)) == 6
    assert most_at_once(two) == 2


def test_a_trainers_failure_does_not_stop_the_others(two):
    long = two.start(job(1, tenths=600), owner="anna")
    rest = [two.start(job(seed), owner="ben") for seed in (FAILS, DIES, 4, 5)]
    wait_all(two, rest)                 # one after another on the second trainer
    assert [j.status for j in rest] == ["failed", "failed", "done", "done"]
    assert "made to fail" in rest[0].error and "exit code 3" in rest[1].error
    assert long.active                  # the first trainer went on throughout
    two.cancel(long.id)
    assert two.wait(long.id, timeout=10).status == "stopped"


def test_an_upload_check_takes_one_trainer_slot(two):
    first = two.start(job(1, tenths=300), owner="anna")
    with two.lend(wait_s=0.5):           # one trainer is free: no need to wait
        assert first.active
        waits = two.start(job(2), owner="ben")
        assert waits.waiting             # the lent slot is not free for a job
    second = two.start(job(3, tenths=300), owner="cleo")
    assert not second.waiting or not waits.waiting
    with pytest.raises(jobs.TrainerBusy):
        with two.lend(wait_s=0.3):       # both train now
            pytest.fail("lent while every trainer trains")
    two.shutdown()


def test_a_saved_run_says_where_it_trained(runner):
    done = runner.wait(runner.start(job(1)).id, timeout=30)
    assert done.trained_on == "local"
    assert store.get(done.model_id, Path(runner.models_root)).meta["trained_on"] == "local"


def test_when_a_job_starts_counts_every_trainer(two):
    two.speeds[kinds.speed_key(job(0))] = 2700.0        # 2,700 training images: 1 s an epoch
    two.startup_s = 0.0
    a = two.start(job(1, tenths=100), owner="anna")     # ~100 s
    b = two.start(job(2, tenths=20), owner="ben")       # ~20 s
    c, d = two.start(job(3, tenths=30), owner="cleo"), two.start(job(4, tenths=5), owner="dora")
    assert two.starts_in(c) == pytest.approx(20 - b.seconds, abs=1)   # when Ben's ends
    assert two.starts_in(d) == pytest.approx(50 - b.seconds, abs=1)   # then when Cleo's ends
    assert two.starts_in(a) is None
