"""Browser tests: the real app served by `streamlit run`, driven in headless Chromium.

Chromium is Debian's package (the README test command installs it); Playwright only
drives it through `executable_path` and never downloads a browser of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=15_000)  # Playwright's 5 s default is short for 2 busy cores
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
FAILURES = ROOT / "artifacts" / "failures"   # a failing test's open pages
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


def start_server(tmp: Path, extra_env: dict | None = None, speed_check: bool = False
                 ) -> tuple[subprocess.Popen, str]:
    """A Digit Lab server saving into `tmp`/models; without its background speed check (up to
    a minute of a core beside the other tests) unless a test reads the estimates it makes."""
    port = free_port()
    env = {**os.environ, "DIGITLAB_MODELS": str(tmp / "models"),
           "DIGITLAB_SPEED_CHECK": "on" if speed_check else "off", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=open(tmp / "server.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
    except Exception:
        proc.kill()
        raise
    return proc, url


def descendant_pids(pid: int) -> list[int]:
    """Every live process below `pid`, found through the ppid links in /proc/*/stat."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if fields[0] != "Z":  # a zombie has already ended
            parent[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, ppid in parent.items() if ppid == current and child not in found]
        found += children
        frontier += children
    return found


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


HEAVY = ("tensorflow", "keras", "sklearn", "scipy", "skops")


def heavy_libraries(pid: int) -> set[str]:
    """Which of the big libraries the process has loaded, from the files it maps."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in HEAVY if f"/{name}/" in maps or f"/{name}." in maps}


# Browser tests whose server trains or checks models with TensorFlow take turns in one
# pytest-xdist worker (`--dist loadgroup`), so two of them never share the 2 cores; the
# others, which read the built-in models, and the unit and app tests run beside them.
# Modules that train only tiny models on datasets made in the test (Your data) take turns in
# a group of their own (TOGETHER), so they never share the cores with each other either.
TRAINS = {"test_cifar", "test_classroom", "test_experiments", "test_many_sessions",
          "test_runs_phone", "test_train", "test_uploads"}
TOGETHER = {"test_own_data": "own", "test_own_photos": "own"}


@pytest.hookimpl(tryfirst=True)   # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if Path(__file__).parent not in item.path.parents:   # unit and app tests, same session
            continue
        name = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
        if name in TRAINS:
            item.add_marker(pytest.mark.xdist_group("trains"))
        elif name in TOGETHER:
            item.add_marker(pytest.mark.xdist_group(TOGETHER[name]))


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """One Digit Lab server for the whole browser session: (process, url)."""
    tmp = tmp_path_factory.mktemp("server")
    proc, url = start_server(tmp)
    yield proc, url
    stop_server(proc)


@pytest.fixture
def own_server(tmp_path, monkeypatch):
    """A server of one test's own, keeping made datasets (DIGITLAB_DATASETS) where the test
    reads them too (core.own_datasets in the pytest process): its url."""
    folder = tmp_path / "datasets"
    monkeypatch.setenv("DIGITLAB_DATASETS", str(folder))
    proc, url = start_server(tmp_path, {"DIGITLAB_DATASETS": str(folder)})
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server[1]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, a screenshot of every page it has open, under
    artifacts/failures/ (what each person saw at that moment)."""
    report = (yield).get_result()
    browser = item.funcargs.get("browser") if report.when == "call" and report.failed else None
    pages = [pg for context in browser.contexts for pg in context.pages] if browser else []
    if pages:
        FAILURES.mkdir(parents=True, exist_ok=True)
    for i, pg in enumerate(pages):
        try:
            pg.screenshot(path=FAILURES / f"{item.name[:80]}-{i}.png", timeout=10_000)
        except Exception as e:   # a page that is gone cannot be shown: say so, go on
            report.sections.append(("failure screenshot", f"page {i}: {e}"))


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (git-ignored) for a person to look at."""
    wait_idle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def open_section(page: Page, starts: str) -> None:
    """Open one of Compare's sections, which start closed, by clicking its title once the
    page has settled (a section still being drawn above moves the title under the pointer)."""
    section = page.get_by_test_id("stExpander").filter(has_text=starts)
    wait_idle(page)
    section.locator("summary").click()
    expect(section.locator("details[open]")).to_have_count(1)
    wait_idle(page)


# --- the Train page, as a person uses it ---------------------------------------------

def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return context.new_page()


def open_train(page: Page, url: str) -> None:
    page.goto(url + "/train")
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()


def choose_cnn(page: Page) -> None:
    page.get_by_role("radiogroup", name="Model", exact=True).get_by_role("radio", name="CNN").click()
    expect(page.get_by_test_id("stRadio").get_by_text("Recipe")).to_be_visible()


def slider(page: Page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label).get_by_role("slider")


def set_slider(page: Page, label: str, *keys: str, value: str) -> None:
    """Move a slider with the keyboard, as a person can; `value` is where it should end."""
    thumb = slider(page, label)
    thumb.focus()
    for key in keys:
        page.keyboard.press(key)
    expect(thumb).to_have_value(value)


def start_button(page: Page):
    return page.get_by_role("button", name="Start training")


def stop_button(page: Page):
    """The Train page's Stop, not the "Stop" Streamlit's header shows while a script runs."""
    return page.get_by_test_id("stMain").get_by_role("button", name="Stop")
