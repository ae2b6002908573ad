"""Home in a real browser."""

import re

from playwright.sync_api import expect

from .conftest import screenshot, wait_idle


def test_home_loads_and_names_the_data_source(page, app_url):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Digit Lab")).to_be_visible()
    source = page.get_by_text("images", exact=False).filter(has_text="MNIST").first
    expect(source).to_be_visible()
    expect(page.get_by_text("MNIST, 70,000 images", exact=False).first).to_be_visible()
    assert screenshot(page, "home").stat().st_size > 10_000


def test_the_dataset_chosen_in_the_address_stays_while_moving_between_pages(page, app_url):
    page.goto(app_url + "/?dataset=cifar10")                 # a shared link
    expect(page.get_by_text(re.compile(r"^CIFAR-10.* is not available here yet")).first).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    for title, heading in (("Train", "Train a model"), ("Compare", "Compare two models"),
                           ("Home", "Digit Lab")):
        nav.get_by_role("link", name=title).click()           # sidebar links drop the query
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        wait_idle(page)                                        # the page's reruns are over
        expect(page.get_by_text(re.compile(r"^CIFAR-10.* is not available here yet")).first).to_be_visible()
        expect(page).to_have_url(re.compile(r"dataset=cifar10"))
