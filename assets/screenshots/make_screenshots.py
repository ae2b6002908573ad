"""Take the README's pictures of each page from a fresh server with the built-in models.

    .venv/bin/python assets/screenshots/make_screenshots.py

Starts the app on a free port with an empty model store, trains one small Logistic
Regression on the Train page, draws a 7 on Draw, and saves one PNG per page here.
"""

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (CHROMIUM_ARGS, chromium_path, start_server,  # noqa: E402
                                stop_server, wait_idle)
from tests.e2e.test_draw import draw, open_draw  # noqa: E402

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1280, 1000


def shoot(page, name: str) -> None:
    wait_idle(page)
    page.wait_for_timeout(800)   # charts finish drawing
    page.screenshot(path=HERE / f"{name}.png")
    print("saved", HERE / f"{name}.png")


def train(page, url: str) -> None:
    page.goto(url + "/train")
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(
        timeout=300_000)
    shoot(page, "train")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        proc, url = start_server(Path(tmp))
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.set_default_timeout(60_000)
        try:
            train(page, url)
            page.goto(url + "/compare")
            expect(page.get_by_role("heading", name="Compare two models")).to_be_visible()
            shoot(page, "compare")
            canvas = open_draw(page, url)
            draw(page, canvas, 7, 60, 40, 200)
            expect(page.get_by_text(re.compile("reads"))).not_to_have_count(0)
            shoot(page, "draw")
            page.goto(url + "/opencv_lab")
            expect(page.get_by_role("heading", name=re.compile("OpenCV"))).to_be_visible()
            shoot(page, "opencv-lab")
        finally:
            browser.close()
            stop_server(proc)


if __name__ == "__main__":
    main()
