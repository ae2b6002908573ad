"""A fresh server whose first visitor opens a page's URL directly (a shared link)."""

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, start_server, stop_server, wait_idle

NOT_PAGES = ("common", "mistakes")  # helpers that live in pages/


@pytest.fixture
def fresh_url(tmp_path):
    proc, url = start_server(tmp_path)
    yield url
    stop_server(proc)


def test_a_page_opened_first_gets_the_app_navigation(page, fresh_url):
    page.goto(f"{fresh_url}/compare")
    expect(page.get_by_role("heading", name="Compare two models")).to_be_visible(timeout=60_000)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("OpenCV Lab")).to_be_visible()
    for helper in NOT_PAGES:
        expect(nav.get_by_text(helper, exact=True)).to_have_count(0)


@pytest.mark.parametrize("helper", NOT_PAGES)
def test_a_helper_opened_first_shows_home_not_a_blank_page(page, fresh_url, helper):
    page.goto(f"{fresh_url}/{helper}")
    expect(page.get_by_role("heading", name="Digit Lab")).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(page.get_by_test_id("stSidebarNav").get_by_text(helper, exact=True)).to_have_count(0)
    screenshot(page, f"first-visit-{helper}")
