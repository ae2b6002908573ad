"""What every AppTest of a page shares: opening it as a person does, and the built-in models."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import store

HOME = str(Path(__file__).resolve().parents[2] / "Home.py")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_builtins: skipped when assets/models is empty")


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_builtins") and not any(
            m.builtin for m in store.list_models()[0]):
        pytest.skip("no built-in models in assets/models (run `make models`)")


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

