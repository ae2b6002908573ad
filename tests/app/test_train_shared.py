"""Train page under AppTest with several people: a Start of the run someone else is training
joins it (shared, no Stop, told when its starter stops it), a Start of a finished run offers
to open it or train it again, and the page says how many trainers the server has."""

import pytest

from core import store
from core.kinds import Spec
from pages import common
from tests import fake_runs

LONG = Spec("logreg", C=0.1, epochs=50, train_size=60_000)   # the page's LR settings, 50 rounds


@pytest.fixture
def runner():
    """The server's job runner with nothing training or waiting, left so after the test."""
    r = common.job_runner()
    clear(r)
    yield r
    clear(r)


def clear(r) -> None:
    for job in list(r.jobs.values()):
        if not job.ended:
            r.cancel(job.id)
            r.wait(job.id, timeout=30)


@pytest.fixture
def train_page(open_page):
    return lambda: open_page("pages/train.py", timeout=30)


def texts(at, kinds=("caption", "info", "markdown", "subheader")) -> list[str]:
    return [e.value for kind in kinds for e in getattr(at, kind)]


def test_a_start_of_a_run_someone_trains_joins_it(train_page, runner):
    someone = runner.start(LONG, owner="someone")
    at = train_page()
    at.slider(key="epochs-logreg").set_value(50).run()
    at.button(key="start").click().run()
    me = at.session_state["session_id"]
    assert someone.joiners.keys() == {me} and runner.waiting() == []
    assert [j for j in runner.jobs.values() if j.spec == LONG] == [someone]     # no copy
    assert "Your job: Logistic Regression on MNIST" in texts(at)
    assert any(t.startswith("Shared with 1 other person: ") and "Only the person who started "
               "it can stop it" in t for t in texts(at))
    assert not [b for b in at.button if b.key == f"stop-{someone.id}"]        # no Stop
    assert [b.label for b in at.button if b.key == f"leave-{someone.id}"] == ["Leave"]
    runner.stop(someone.id)                  # its starter stops it
    runner.wait(someone.id, timeout=30)
    at.run()
    assert any(i.startswith("The person who started this shared run stopped it, so nothing "
                            "was saved.") for i in texts(at, ("info",)))


def test_someone_elses_run_that_ends_as_the_page_draws_it_shows_no_result_here(
        train_page, runner, monkeypatch):
    """Its scores are on its own person's page: here it would sit under this person's job
    for one refresh, where a reader takes them for their own run's."""
    someone = runner.start(LONG.replace(epochs=1, train_size=500), owner="someone")
    assert runner.wait(someone.id, timeout=120).status == "done"
    monkeypatch.setattr(runner, "training", lambda: [someone])    # listed while it still ran
    try:
        at = train_page()
        assert "Someone else's job: Logistic Regression on MNIST" in texts(at)
        assert not [m for m in at.metric if m.label == "Test accuracy"]
    finally:
        store.delete(someone.model_id)


def test_a_waiting_shared_run_is_shown_in_line_with_leave(train_page, runner):
    runner.start(LONG, owner="someone")
    waiting = runner.start(LONG.replace(train_size=500), owner="another")
    at = train_page()
    at.slider(key="epochs-logreg").set_value(50)
    at.slider(key="train_size-mnist").set_value(500).run()
    at.button(key="start").click().run()
    lines = [m for m in texts(at, ("markdown",)) if " in line · " in m]
    assert lines and lines[0].startswith("**1st** in line · Logistic Regression on MNIST")
    assert lines[0].endswith("shared with 1 other person")
    at.button(key=f"cancel-{waiting.id}").click().run()                  # "Leave"
    assert not at.exception
    assert waiting.waiting and waiting.joiners == {}


def test_a_finished_run_is_offered_to_open_or_to_train_again(train_page, runner):
    model = fake_runs.save_run(store.user_root(), "logreg", epochs=10, C=0.1, train_size=500,
                               meta_test_accuracy=0.875)
    try:
        at = train_page()
        at.slider(key="train_size-mnist").set_value(500).run()
        at.button(key="start").click().run()
        assert not runner.waiting() and runner.current() is None    # nothing trains
        offer = next(i for i in texts(at, ("info",)) if i.startswith("**Already trained.**"))
        assert f"finished on {model.date} (UTC) with **87.50%** test accuracy" in offer
        assert any("seed 1 instead of 0" in c for c in texts(at, ("caption",)))
        at.button(key="offer-open").click().run()
        assert "Your run: Logistic Regression on MNIST" in texts(at)
        assert next(m.value for m in at.metric if m.label == "Test accuracy") == "87.50%"
        assert any(c.endswith(f"It was trained on {model.date} (UTC).") for c in texts(at))

        at.button(key="start").click().run()                          # once more: train again
        at.button(key="offer-again").click().run()
        again = runner.latest(at.session_state["session_id"])
        assert again.spec.seed == 1 and not again.ended
        assert "Your job: Logistic Regression on MNIST · seed 1" in texts(at)
    finally:
        store.delete(model.id)


def test_the_page_says_how_many_trainers_the_server_has(train_page, runner, monkeypatch):
    at = train_page()
    assert "This server has one trainer: it trains one job at a time, and people take turns." \
        in texts(at, ("caption",))
    monkeypatch.setattr(runner.executor, "trainers", 3)
    assert "This server has 3 trainers: it trains 3 jobs at once, and people take turns." \
        in texts(at.run(), ("caption",))
