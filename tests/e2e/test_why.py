"""Draw page, "Why these answers": saliency, evidence and feature maps for a drawn 7."""

import pytest
from playwright.sync_api import expect

from .conftest import heavy_libraries, screenshot, wait_idle
from .test_draw import draw, open_draw, reading

def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)

@pytest.mark.parametrize("width", [1280, 420])
def test_a_drawn_seven_shows_why_both_models_read_it(browser, app_server, app_url, width):
    context = browser.new_context(viewport={"width": width, "height": 4000})
    page = context.new_page()
    try:
        canvas = open_draw(page, app_url)
        draw(page, canvas, 7, 60, 40, 190)
        expect(reading(page)).to_have_text("7")
        expect(page.get_by_role("heading", name="Why these answers")).to_be_visible()

        expect(page.get_by_text("CNN: why 7?")).to_be_visible()
        expect(page.get_by_text("Logistic Regression: why 7?")).to_be_visible()
        screenshot(page, f"why-strokes-{width}")
        page.get_by_role("radio", name="9", exact=True).click()
        expect(page.get_by_text("CNN: why not 9?")).to_be_visible()

        tab(page, "Pixel evidence")
        expect(page.get_by_text("Evidence for 7 (its answer)")).to_be_visible()
        expect(page.get_by_text("Sum of the 784 terms").first).to_be_visible()
        screenshot(page, f"why-evidence-{width}")

        tab(page, "Inside the CNN")
        expect(page.get_by_text("What the first layer looks for")).to_be_visible()
        for n in (1, 2):
            expect(page.get_by_text(f"Convolution {n}:")).to_be_visible()
        expect(page.get_by_text("the strongest 16 of").first).to_be_visible()
        screenshot(page, f"why-inside-{width}")
        assert heavy_libraries(app_server[0].pid) == set()  # all of it without TensorFlow
    finally:
        context.close()
