"""core.fair_queue: who goes next (people take turns, each person's jobs in order), places,
start times with several trainers, the limits, and which runs are the same run.

Plain data: no worker, no process (tests/unit/test_sharing.py runs a JobRunner on it).
"""

import math
import string

import pytest

from core import fair_queue
from core.fair_queue import FairQueue, QueueFull
from core.job import Job
from core.kinds import Spec
from tests import fake_runs


def spec(seed: int = 0, **changes) -> Spec:
    return Spec("logreg", "mnist", epochs=3, C=0.1, train_size=1000, seed=seed).replace(**changes)


def queued(owner: str, n: int, start: int = 0) -> list[Job]:
    """`n` jobs of `owner`, named owner + number ("a1", "a2", ...)."""
    return [Job(f"{owner}{i}", spec(i), owner, status="queued") for i in range(start + 1, start + n + 1)]


def ids(jobs) -> str:
    return " ".join(j.id for j in jobs)


def test_people_take_turns_and_each_persons_jobs_keep_their_order():
    line = FairQueue()
    line.add(queued("a", 6))      # Anna's sweep of six, first
    line.add(queued("b", 1))      # then Ben's one run
    line.add(queued("c", 3))      # then Cleo's three
    assert ids(line) == "a1 b1 c1 a2 c2 a3 c3 a4 a5 a6"
    assert [line.place(j) for j in line.of("b")] == [2]


@pytest.mark.parametrize("counts", [(1, 1, 1), (6, 1, 1), (1, 6, 3), (2, 5, 6), (6, 6, 6), (3, 4, 1)])
def test_round_robin_across_three_people_with_one_to_six_jobs_each(counts):
    line = FairQueue()
    for owner, n in zip("abc", counts):
        line.add(queued(owner, n))
    order = line.order()
    for rnd in range(max(counts)):    # round r holds the r-th job of everyone who has one
        expected = [f"{o}{rnd + 1}" for o, n in zip("abc", counts) if n > rnd]
        assert ids(order[:len(expected)]) == " ".join(expected)
        order = order[len(expected):]
    taken = [line.pop() for _ in range(sum(counts))]    # and they leave in that order
    assert ids(taken) == ids(sorted(taken, key=lambda j: (int(j.id[1:]), j.id[0])))


def test_whoever_was_served_last_waits_behind_someone_new():
    line = FairQueue()
    line.add(queued("a", 4))
    assert line.pop().id == "a1"                 # Anna's first job starts training
    line.add(queued("b", 2))                     # Ben arrives while it trains
    assert ids(line) == "b1 a2 b2 a3 a4"         # Ben goes before Anna's second
    assert line.pop().id == "b1"
    line.add(queued("c", 1))
    assert ids(line) == "c1 a2 b2 a3 a4"         # Cleo has had no turn; Anna's was before Ben's
    assert [line.place(j) for j in line.of("a")] == [2, 4, 5]


def test_a_shared_waiting_job_is_in_each_of_its_peoples_lines_at_its_one_place():
    line = FairQueue()
    a, b = queued("a", 1), queued("b", 2)
    line.add(a + b)
    b[1].joiners["c"] = 1.0
    assert line.of("c") == [b[1]] and line.place(b[1]) == 3
    assert line.find(spec(2)) is b[1] and line.find(spec(2, epochs=4)) is None


def test_the_limits_per_person_and_for_the_server():
    line = FairQueue()
    line.add(queued("a", fair_queue.MAX_WAITING_PER_OWNER))
    with pytest.raises(QueueFull, match="at most 5 jobs waiting; you have 5, and this would add 1"):
        line.check_room("a", 1)
    line.check_room("a", 0)                           # a job that starts at once needs no room
    people = [f"{x}{y}" for x in string.ascii_lowercase for y in string.ascii_lowercase]
    for person in people[1:fair_queue.MAX_WAITING // 5]:
        line.add(queued(person, 5))
    assert len(line) == fair_queue.MAX_WAITING >= 60
    with pytest.raises(QueueFull, match=r"queue of this server is full \(60 jobs"):
        line.check_room("someone new", 1)


def test_start_times_follow_the_line_and_use_every_trainer():
    assert fair_queue.start_times([0.0], [10, 20, 5]) == [0, 10, 30]
    assert fair_queue.start_times([4.0, 0.0], [10, 20, 5, 1]) == [0, 4, 10, 15]
    assert fair_queue.start_times([math.inf, 3.0], [10, 1]) == [3, 13]     # one trainer unknown
    assert fair_queue.start_times([math.inf, 3.0], [None, 1]) == [3, None]
    assert fair_queue.start_times([0.0, 0.0], [None, 10, 5]) == [0, 0, 10]
    assert fair_queue.start_times([0.0], [None, 10]) == [0, None]


def test_when_trainers_are_free():
    assert fair_queue.free_in([], 0, 2) == [0.0, 0.0]
    assert fair_queue.free_in([30.0], 0, 2) == [0.0, 30.0]
    assert fair_queue.free_in([None], 1, 2) == [0.0, math.inf]         # a lent slot: short
    assert fair_queue.free_in([5.0, 9.0, 2.0], 0, 2) == [5.0, 9.0]     # one over: two must end


def test_a_runs_definition_is_what_it_trains():
    base = spec()
    assert fair_queue.definition(base) == fair_queue.definition(base.replace(
        experiment="C-1a2b3c", swept="C", batch_size=64))    # a sweep's tag; LR has no batch
    for change in ({"seed": 1}, {"train_size": 2000}, {"C": 1.0}, {"augment": True},
                   {"dataset": "fashion_mnist"}, {"source": "canonical"}, {"epochs": 4}):
        assert fair_queue.definition(base) != fair_queue.definition(base.replace(**change))
    cnn = Spec("cnn", "mnist", "Fast", epochs=2)
    assert fair_queue.definition(cnn) != fair_queue.definition(cnn.replace(recipe="Deeper"))
    assert fair_queue.definition(cnn) != fair_queue.definition(cnn.replace(learning_rate=0.01))


def test_a_finished_run_is_found_by_its_settings_and_data_source(tmp_path):
    lr = Spec("logreg", "mnist", epochs=3, C=0.1, train_size=3000)
    older = fake_runs.save_run(tmp_path, "logreg", meta_created_at="2026-01-01T10:00:00+00:00")
    newer = fake_runs.save_run(tmp_path, "logreg", meta_created_at="2026-01-02T10:00:00+00:00")
    fake_runs.save_run(tmp_path, "logreg", C=1.0)
    models = [m for m in fake_runs.store.list_models(tmp_path)[0] if not m.builtin]
    assert fair_queue.finished(lr, "canonical", models).id == newer.id != older.id
    assert fair_queue.finished(lr, "path", models) is None              # other data here now
    assert fair_queue.finished(lr.replace(seed=1), "canonical", models) is None
    assert fair_queue.finished(lr.replace(C=1.0), "canonical", models) is not None
    assert fair_queue.finished(lr.replace(benchmark_peek=True), "canonical", models) is None


def test_training_again_takes_a_seed_no_run_of_these_settings_has():
    lr = spec()
    runs = [("logreg", "mnist", spec(3).settings()), ("logreg", "mnist", spec(7, C=1.0).settings()),
            ("cnn", "mnist", {"seed": 9})]
    assert fair_queue.seeds_taken(lr, runs) == {0, 3}
