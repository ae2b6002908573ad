"""CIFAR-10 in a real browser, from its download to a photo: a made-up set of the official
binary format, served from this machine, stands in for www.cs.toronto.edu.

One person: chooses CIFAR-10, downloads it (progress bar), trains a Logistic Regression
(2 rounds) and the colour CNN (1 epoch), compares them (class names, colour galleries) and
shows Draw a photo (both answers by class name, the three "why" views).
"""

from __future__ import annotations

import http.server
import re
import threading
import time

import cv2
import pytest
from playwright.sync_api import Page, expect

from tests import cifar_synth

from .conftest import (heavy_libraries, open_section, screenshot, set_slider, start_server,
                       stop_server, wait_idle)

ARCHIVE = "cifar-10-binary.tar.gz"
CHUNK, PAUSE_S = 256 * 1024, 0.1   # served slowly enough (~2.5 MB/s) to see the progress bar


@pytest.fixture(scope="module")
def cifar_host(tmp_path_factory):
    """A local web server with a small synthetic CIFAR-10 archive: (url, md5)."""
    folder = tmp_path_factory.mktemp("www")
    md5 = cifar_synth.tarball(folder / ARCHIVE, 2000, 500)
    body = (folder / ARCHIVE).read_bytes()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for start in range(0, len(body), CHUNK):
                self.wfile.write(body[start:start + CHUNK])
                time.sleep(PAUSE_S)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/{ARCHIVE}", md5
    httpd.shutdown()


@pytest.fixture(scope="module")
def cifar_app(tmp_path_factory, cifar_host):
    """A server of its own, whose CIFAR-10 download goes to the local host: (process, url)."""
    tmp = tmp_path_factory.mktemp("cifar-server")
    url, md5 = cifar_host
    proc, app_url = start_server(tmp, {"CIFAR10_URL": url, "CIFAR10_MD5": md5,
                                       "DIGITLAB_DATA": str(tmp / "data")})
    yield proc, app_url
    stop_server(proc)


def go(page: Page, name: str) -> None:
    """Open a page from the sidebar, as a person does (the session keeps its dataset)."""
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    wait_idle(page)


def train(page: Page, kind: str, title: str, setting: str, keys: tuple[str, ...], value: str
          ) -> None:
    """Train one model with one slider moved; wait until it is scored and saved."""
    page.get_by_role("radiogroup", name="Model", exact=True).get_by_role("radio", name=kind).click()
    set_slider(page, setting, *keys, value=value)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(f"Your job: {title} on CIFAR-10")).to_be_visible()
    done = page.get_by_text(f"{title} on CIFAR-10 is saved", exact=False)  # not the last job's
    expect(done.first).to_be_visible(timeout=240_000)   # (twice while the live view redraws)


def photo(path) -> None:
    """A "photo": a synthetic test image, enlarged as a camera's would be."""
    x = cifar_synth.make(20, 10, seed=3)[2]
    image = cv2.resize(x[0], (240, 180), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def upload(page: Page, path) -> None:
    page.locator('[data-testid="stFileUploaderDropzone"] input[type=file]').set_input_files(path)


def test_cifar_from_download_to_a_photo(browser, cifar_app, tmp_path):
    proc, url = cifar_app
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url + "/?dataset=cifar10")
        wait_idle(page)
        button = page.get_by_role("button", name="CIFAR-10: 162 MB — Download")
        button.click()
        progress = page.get_by_text(re.compile(r"Downloading cifar-10-binary.tar.gz: .* MB"))
        expect(progress).to_be_visible(timeout=10_000)
        screenshot(page, "cifar-downloading")
        training = page.get_by_test_id("stMetric").filter(has_text="Training images")
        expect(training).to_contain_text("2,000", timeout=60_000)
        expect(page.get_by_text("airplane")).to_be_visible()
        screenshot(page, "cifar-home-1280")

        go(page, "Train")
        assert "dataset=cifar10" in page.url
        train(page, "Logistic Regression", "Logistic Regression", "Rounds", ("Home", "ArrowRight"),
              "2")
        weights = page.get_by_text(re.compile(r"What each class's weights look like after round 2"))
        expect(weights.first).to_be_visible()
        screenshot(page, "cifar-train-logreg")
        train(page, "CNN", "CNN (Airbench)", "Epochs", ("Home",), "1")
        filters = page.get_by_text(re.compile(r"The first layer's \d+ filters after epoch 1"))
        expect(filters.first).to_be_visible()
        screenshot(page, "cifar-train-cnn")

        go(page, "Compare")
        expect(page.get_by_text("Published reference for this kind of model")).to_be_visible()
        expect(page.get_by_text(re.compile("TensorFlow's .Convolutional Neural Network"))
               ).to_be_visible()
        for section in ("Confusion matrices", "Inside the models"):
            open_section(page, section)
        expect(page.get_by_text(re.compile(r"^True \w+, predicted \w+ by"))).to_be_visible()
        expect(page.get_by_text("one 32 x 32 weight image per class", exact=False)
               ).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 5000})
        screenshot(page, "cifar-compare-1280")

        go(page, "Draw")
        expect(page.get_by_role("heading", name="Show a photo: CIFAR-10")).to_be_visible()
        path = tmp_path / "disc.png"
        photo(path)
        upload(page, path)
        for kind in ("CNN", "Logistic Regression"):
            answer = page.get_by_test_id("stMetric").filter(has_text=f"{kind} reads")
            expect(answer.get_by_test_id("stMetricValue")).to_have_text(
                re.compile("airplane|automobile|bird|cat|deer|dog|frog|horse|ship|truck"))
        expect(page.get_by_text(re.compile(r"CNN: why (not )?\w+\?"))).to_be_visible()
        screenshot(page, "cifar-draw-places-1280")
        for tab, sign in (("Pixel evidence", "Sum of the 3,072 terms"),
                          ("Inside the CNN", "What the first layer looks for")):
            page.get_by_role("tab", name=tab).click()
            wait_idle(page)
            expect(page.get_by_text(sign).first).to_be_visible()
            screenshot(page, f"cifar-draw-{tab.split()[-1].lower()}-1280")

        page.set_viewport_size({"width": 390, "height": 3000})   # a phone, opening shared links
        for name, sign in (("", "Cite: A. Krizhevsky"), ("train", "Data: CIFAR-10"),
                           ("compare", "Confusion matrices"),
                           ("draw", "Show a photo: CIFAR-10")):
            page.goto(f"{url}/{name}?dataset=cifar10")
            expect(page.get_by_text(sign).first).to_be_visible()
            if name == "draw":
                upload(page, path)
                expect(page.get_by_text(re.compile(r"CNN: why (not )?\w+\?"))).to_be_visible()
            screenshot(page, f"cifar-{name or 'home'}-390")
        assert heavy_libraries(proc.pid) == set()      # the server never loaded TensorFlow
    finally:
        context.close()
