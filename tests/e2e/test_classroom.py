"""A class on one link: identical runs shared, a place in line for other settings, and a
finished run offered instead of trained twice.

Two browser sessions press Start with the same settings a few seconds apart: the second joins
the first's job (one model is added to the store, and both pages show the same run). A third
session with other settings, pressing Start between them, gets its place in line. Pressing
Start again on the finished settings offers to open that run or to train it again. The runs
are Logistic Regressions (the default settings otherwise) on all 60,000 images for the shared
run and 3,000 for the one in line.

Runs its own server (one trainer, as tests/conftest.py sets) with an empty model store.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from core import store

from .conftest import (new_page, open_train, screenshot, set_slider, start_button, start_server,
                       stop_button, stop_server, wait_idle)

JOB = "Logistic Regression on MNIST"
SLOW = 120_000   # ms: a job's worker starts and trains on 2 busy cores
LONG = 60_000    # images of the shared run (all: the slider's end): ~16 s on a quiet machine
                 # with warm workers, so it still trains when the last person presses Start
                 # ~5 s in (30,000 took ~8 s and once ended before a Start ~7 s in)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("classroom")
    proc, url = start_server(tmp)
    yield url, tmp / "models"
    stop_server(proc)


def ready(page: Page, url: str, rounds: str = "10", images: int = 3000) -> None:
    """The Train page with the default Logistic Regression on `images` (and `rounds`)."""
    open_train(page, url)
    keys = ["End"] if images == LONG else ["Home", *["ArrowRight"] * (images // 500 - 1)]
    set_slider(page, "Training images used", *keys, value=str(images))
    if rounds != "10":
        set_slider(page, "Rounds", "Home", *["ArrowRight"] * (int(rounds) - 1), value=rounds)
    wait_idle(page)   # the slider's rerun has ended: Start does not cut it short


def accuracy_of(page: Page):
    """The value of the page's "Test accuracy" metric: "90.15%"."""
    return page.get_by_test_id("stMetric").filter(has_text="Test accuracy").get_by_test_id(
        "stMetricValue")


def test_two_starts_of_one_run_share_it_and_other_settings_wait_their_turn(browser: Browser,
                                                                          server):
    url, models = server
    anna, ben, cleo = new_page(browser), new_page(browser), new_page(browser)
    try:
        ready(anna, url, images=LONG)
        ready(ben, url, images=LONG)
        ready(cleo, url, rounds="5")
        start_button(anna).click()
        expect(anna.get_by_text(f"Your job: {JOB}")).to_be_visible()
        start_button(cleo).click()                               # other settings: in line
        expect(cleo.get_by_text(re.compile(rf"^1st in line · {JOB}"))).to_be_visible()
        expect(cleo.get_by_text(f"Someone else's job: {JOB}")).to_be_visible()
        expect(cleo.get_by_text(re.compile(r"This server has one trainer: it trains one job "
                                           r"at a time"))).to_be_visible()

        start_button(ben).click()                                # Anna's settings: joins hers
        expect(ben.get_by_text(f"Your job: {JOB}")).to_be_visible()
        expect(ben.get_by_text(re.compile(r"^Shared with 1 other person: "))).to_be_visible()
        expect(stop_button(ben)).to_have_count(0)                # only Anna can stop it
        expect(ben.get_by_role("button", name="Leave")).to_be_visible()
        expect(anna.get_by_text(re.compile(r"^Shared with 1 other person: .*Only you can "
                                           r"stop it"))).to_be_visible()
        expect(stop_button(anna)).to_be_visible()
        expect(cleo.get_by_text(re.compile("^Shared with"))).to_have_count(0)   # not hers
        screenshot(ben, "classroom-joined")
        screenshot(cleo, "classroom-in-line")

        expect(cleo.get_by_text(f"Your job: {JOB}")).to_be_visible(timeout=SLOW)
        expect(accuracy_of(cleo)).to_be_visible(timeout=SLOW)   # both runs done: pages settle
        mine = [m for m in store.list_models(root=models)[0] if not m.builtin
                and m.meta["settings"]["epochs"] == 10]
        assert len(mine) == 1, [m.id for m in mine]              # trained once for both
        trained = f"{mine[0].meta['test_accuracy']:.2%}"
        for page in (anna, ben):   # (while Cleo's ran, their pages showed it, for a moment done)
            expect(accuracy_of(page)).to_have_text(trained)      # the same run, as saved

        dora = new_page(browser)                                 # a late arrival, same settings
        try:
            ready(dora, url, images=LONG)
            start_button(dora).click()
            expect(dora.get_by_text("Already trained.", exact=False)).to_be_visible()
            expect(dora.get_by_role("button", name="Train again")).to_be_visible()
            expect(dora.get_by_text(re.compile(r"seed 1 instead of 0"))).to_be_visible()
            screenshot(dora, "classroom-already-trained")
            dora.get_by_role("button", name="Open that run").click()
            expect(dora.get_by_text(re.compile(rf"^Your (job|run): {JOB}$"))).to_be_visible()
            expect(accuracy_of(dora)).to_have_text(trained)
        finally:
            dora.context.close()
        assert len([m for m in store.list_models(root=models)[0] if not m.builtin
                    and m.meta["settings"]["epochs"] == 10]) == 1   # opening trained nothing
    finally:
        for page in (anna, ben, cleo):
            page.context.close()
