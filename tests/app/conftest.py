"""What every AppTest of a page shares: opening it as a person does, and the built-in models."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs, store
from pages import common

HOME = str(Path(__file__).resolve().parents[2] / "Home.py")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_builtins: skipped when assets/models is empty")
    config.addinivalue_line("markers", "speed_check: the Train page may start its speed check")


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_builtins") and not any(
            m.builtin for m in store.list_models()[0]):
        pytest.skip("no built-in models in assets/models (run `make models`)")


@pytest.fixture(autouse=True)
def no_speed_check(request, monkeypatch):
    """The Train page starts a speed check when nothing trains: ~30 s of a core that would run
    beside the next tests (the cached runner outlives the test), so only a test marked
    `speed_check` lets it start, and it is stopped when that test ends."""
    marked = request.node.get_closest_marker("speed_check")
    if not marked:
        monkeypatch.setattr(jobs.JobRunner, "check_speed", lambda self, dataset="mnist": None)
    yield
    if marked and (check := common.job_runner().speed_check()):
        common.job_runner().stop(check.id)


@pytest.fixture
def open_page():
    """A function that runs Home.py under AppTest, goes to `page` (e.g. "pages/draw.py")
    through its st.navigation, and checks that nothing raised."""
    def open_(page: str | None = None, timeout: float = 60) -> AppTest:
        at = AppTest.from_file(HOME, default_timeout=timeout).run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at
    return open_

