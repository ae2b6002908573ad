"""The Train page's line about the Ray cluster (pages/cluster_note.py): said only when the
server was given one (RAY_ADDRESS), and when it cannot be used, why, in one sentence."""

import time

import pytest

from pages import common
from tests.ray_cluster import free_ports


@pytest.fixture
def fresh_runner():
    """The page's job runner made again for this test (it reads RAY_ADDRESS when made),
    and shut down after it, so other tests get one of their own."""
    common.job_runner.clear()
    yield
    common.job_runner().shutdown()
    common.job_runner.clear()


def notes(at) -> list[str]:
    return [w.value for w in at.warning] + [c.value for c in at.caption]


def test_without_a_cluster_the_page_says_nothing_about_one(open_page, fresh_runner, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    at = open_page("pages/train.py")
    assert not [n for n in notes(at) if "Ray" in n or "Jobs train on" in n]


def test_an_unreachable_cluster_is_said_in_one_sentence(open_page, fresh_runner, monkeypatch):
    port = free_ports(1)[0]   # nothing listens there
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    at = open_page("pages/train.py")
    deadline = time.monotonic() + 30
    while not at.warning and time.monotonic() < deadline:   # it is tried in the background
        time.sleep(0.2)
        at.run()
    assert [w.value for w in at.warning] == [
        f"The Ray cluster at 127.0.0.1:{port} cannot be reached (connection refused), so jobs "
        "train on this machine; it is tried again every 30 s."]
    assert common.job_runner().executor.name == "this machine"
