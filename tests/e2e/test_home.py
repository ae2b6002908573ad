"""Home in a real browser."""

from playwright.sync_api import expect

from .conftest import screenshot


def test_home_loads_and_names_the_data_source(page, app_url):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Digit Lab")).to_be_visible()
    source = page.get_by_text("images", exact=False).filter(has_text="MNIST").first
    expect(source).to_be_visible()
    expect(page.get_by_text("MNIST, 70,000 images", exact=False).first).to_be_visible()
    assert screenshot(page, "home").stat().st_size > 10_000
