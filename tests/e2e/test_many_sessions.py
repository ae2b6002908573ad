"""Several people on one server at once, each in their own browser session.

One person trains a CNN; meanwhile two others draw different digits and each sees their own
reading, a second Start is refused without losing its settings, only the trainer can Stop,
and a job whose page was closed still finishes, saves its model and leaves no process behind
(jobs outlive their page by design and are bounded by their epochs).

Runs its own server with an empty model store, so it can count the server's processes
(in /proc) and the models saved.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import store

from .conftest import (choose_cnn, descendant_pids, heavy_libraries, new_page, open_section,
                       open_train, screenshot, set_slider, slider, start_button, start_server,
                       stop_button, stop_server)
from .test_draw import draw, open_draw, reading

pytestmark = pytest.mark.skipif(not any(m.builtin for m in store.list_models()[0]),
                                reason="built-in models missing: run `make models`")

JOB = "CNN (Fast) on MNIST"
SLOW = 90_000  # ms: TensorFlow imports in two workers at once on 2 busy cores


# --- the server and its processes -------------------------------------------------------

def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`: pid -> cmdline."""
    found = {}
    for child in descendant_pids(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # it ended while we looked
        found[child] = cmd.decode(errors="replace")
    return found


def workers(server_pid: int) -> set[int]:
    """The server's multiprocessing workers (the prediction worker, spawned; training jobs,
    forked from its forkserver), without the forkserver itself and the Train page's speed
    check (`dl-speed-*` in /proc/PID/comm).

    Their cmdline is only `python ... spawn_main(...)` or the forkserver's, so the
    prediction worker and the training jobs are told apart by when they appeared.
    """
    return {p for p, cmd in descendants(server_pid).items()
            if ("spawn_main" in cmd or "forkserver" in cmd and parent(p) != server_pid)
            and not comm(p).startswith("dl-speed")}


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return 0


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def until(condition, timeout: float, what: str):
    """Poll `condition` (a /proc check, which Playwright's expect cannot wait on) until true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not true after {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(process, url, model folder) of a fresh server; every process it started ends with it."""
    tmp = tmp_path_factory.mktemp("many_sessions")
    proc, url = start_server(tmp)
    yield proc, url, tmp / "models"
    left = descendants(proc.pid)
    stop_server(proc)
    for pid in left:  # the server should have ended them; never leave one running
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


# --- the scenarios -----------------------------------------------------------------------

def test_pages_opened_at_the_same_moment_on_a_fresh_server_all_work(browser, tmp_path):
    """A class opening the link the teacher shared: the first sessions of a server arrive together."""
    proc, url = start_server(tmp_path)
    visits = {"/draw": "Draw a digit", "/train": "Train a model", "/compare": "Compare two models"}
    pages = [(new_page(browser), path) for path in [*visits, "/draw", "/draw", "/"]]
    try:
        for page, path in pages:   # start every navigation before waiting for any
            page.evaluate("u => setTimeout(() => { location.href = u }, 0)", url + path)
        for page, path in pages:
            heading = visits.get(path, "Digit Lab")
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=SLOW)
            expect(page.get_by_test_id("stSidebar").get_by_text("Dataset", exact=True)).to_be_visible()
            expect(page.get_by_test_id("stException")).to_have_count(0)
            nav = page.get_by_test_id("stSidebarNav")
            expect(nav.get_by_role("link")).to_have_count(6)  # Home + 5 pages, not common.py
    finally:
        for page, _ in pages:
            page.context.close()
        stop_server(proc)


def test_drawing_while_someone_trains_one_job_at_a_time_and_stop(browser, server):
    proc, url, models = server
    anna, ben, cleo = new_page(browser), new_page(browser), new_page(browser)
    try:
        # Anna and Ben open Draw: the page starts the prediction worker.
        canvases = {anna: open_draw(anna, url), ben: open_draw(ben, url)}
        predictor = until(lambda: workers(proc.pid), 30, "the prediction worker started")
        assert len(predictor) == 1, descendants(proc.pid)

        # Cleo starts a long CNN job (30 epochs: it runs until she presses Stop).
        open_train(cleo, url)
        choose_cnn(cleo)
        set_slider(cleo, "Epochs", "End", value="30")
        start_button(cleo).click()
        expect(cleo.get_by_text(f"Your job: {JOB}")).to_be_visible()
        expect(stop_button(cleo)).to_be_visible()
        trainer = until(lambda: workers(proc.pid) - predictor, SLOW / 1000,
                        "the training worker started")   # once the forkserver has imported
        training = cleo.get_by_text(re.compile(r"Training on 54,000 images|of 30 epochs done"))
        expect(training).to_be_visible(timeout=SLOW)            # past TensorFlow's import

        # While it trains, Anna draws a 1 and Ben a 7; each reads their own digit.
        draw(anna, canvases[anna], 1, 110, 40, 200)
        draw(ben, canvases[ben], 7, 30, 30, 110)
        expect(reading(anna)).to_have_text("1", timeout=SLOW)   # the 1st call waits for Keras
        expect(reading(ben)).to_have_text("7", timeout=SLOW)
        expect(reading(anna)).to_have_text("1")                 # Ben's drawing did not touch it
        screenshot(anna, "many-sessions-anna-draws-1")
        screenshot(ben, "many-sessions-ben-draws-7")
        expect(stop_button(cleo)).to_be_visible()               # the job was running throughout

        # Anna goes to Train (same session) and asks for a job of her own: it waits in line.
        anna.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
        expect(anna.get_by_role("heading", name="Train a model")).to_be_visible()
        expect(anna.get_by_text(f"Someone else's job: {JOB}")).to_be_visible()
        expect(stop_button(anna)).to_have_count(0)              # only its owner can stop it
        choose_cnn(anna)
        anna.get_by_test_id("stRadio").get_by_text("Deeper", exact=True).click()
        expect(anna.get_by_text("Four convolutions", exact=False)).to_be_visible()
        expect(slider(anna, "Epochs")).to_have_value("15")      # Deeper's own setting
        set_slider(anna, "Epochs", "Home", *["ArrowRight"] * 4, value="5")
        start_button(anna).click()
        waiting = anna.get_by_text(re.compile(r"^1st in line · CNN \(Deeper\) on MNIST"))
        expect(waiting).to_be_visible()
        expect(anna.get_by_text("Each starts by itself when the one before it ends")).to_be_visible()
        expect(anna.get_by_role("radio", name="Deeper")).to_be_checked()
        expect(slider(anna, "Epochs")).to_have_value("5")
        expect(anna.get_by_text("Your job:")).to_have_count(0)
        waiting.scroll_into_view_if_needed()
        screenshot(anna, "many-sessions-second-start-waits")
        anna.get_by_role("button", name=re.compile("Cancel$")).click()        # she changes her mind
        expect(waiting).to_have_count(0)

        # Cleo stops her job mid-training: nothing saved, and the training worker ends.
        expect(training).to_be_visible()
        stop_button(cleo).click()
        expect(cleo.get_by_text("Stopped. Nothing was saved.")).to_be_visible(timeout=20_000)
        screenshot(cleo, "many-sessions-stopped")
        until(lambda: not any(alive(p) for p in trainer), 15, "the stopped worker exited")
        # The prediction worker lives on, nothing else (a speed check that Cleo's job stopped
        # starts again, and counts as a worker only until it has named itself dl-speed).
        until(lambda: workers(proc.pid) == predictor, 15, "no worker left but the predictor")
        assert not [m for m in store.list_models(root=models)[0] if not m.builtin]

        # Ben compares the two built-in models. Everything so far (drawing, training,
        # scoring both models) ran without TensorFlow or scikit-learn in the server.
        ben.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
        expect(ben.get_by_role("heading", name="Compare two models")).to_be_visible()
        open_section(ben, "Confusion matrices")
        expect(ben.locator(".js-plotly-plot").first).to_be_visible(timeout=SLOW)
        assert heavy_libraries(proc.pid) == set()
        assert heavy_libraries(next(iter(predictor))) == set()
    finally:
        for pg in (anna, ben, cleo):
            pg.context.close()


def test_a_job_whose_page_was_closed_finishes_and_its_worker_exits(browser, server):
    proc, url, models = server
    before = workers(proc.pid)
    dora = new_page(browser)
    try:
        open_train(dora, url)
        choose_cnn(dora)
        set_slider(dora, "Epochs", "Home", "ArrowRight", value="2")
        set_slider(dora, "Training images used", "Home", value="500")
        start_button(dora).click()
        expect(stop_button(dora)).to_be_visible()
        trainer = until(lambda: workers(proc.pid) - before, SLOW / 1000,
                        "the training worker started")
    finally:
        dora.context.close()   # Dora closes her tab while the job runs
    assert all(alive(p) for p in trainer), "closing the page ended the job"

    eve = new_page(browser)
    try:
        open_train(eve, url)
        expect(eve.get_by_text(f"Someone else's job: {JOB}")).to_be_visible()
        expect(stop_button(eve)).to_have_count(0)               # nobody else can stop it
        # It ends by itself after its 2 epochs, and its model is saved and listed.
        expect(eve.get_by_text("Download a run's files")).to_be_visible(timeout=SLOW)
        expect(eve.get_by_text("Someone else's job")).to_have_count(0)
        screenshot(eve, "many-sessions-closed-page-job-saved")
    finally:
        eve.context.close()
    until(lambda: not any(alive(p) for p in trainer), 15, "the finished worker exited")
    # (a speed check that Dora's job stopped starts again: see the test above)
    until(lambda: workers(proc.pid) == before, 15, "no worker left but the predictor")
    saved = [m for m in store.list_models(root=models)[0] if not m.builtin]
    assert [(m.kind, m.meta["settings"]["epochs"], m.meta["train_size"]) for m in saved] == [
        ("cnn", 2, 450)]
