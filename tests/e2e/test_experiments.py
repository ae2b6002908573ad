"""Experiments in a real browser: a sweep queues its runs and overlays them as they train,
while a second session's job takes its turn before the sweep's waiting runs and trains by itself; a
cancelled job never starts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from core import store

from .conftest import (choose_cnn, new_page, open_train, screenshot, set_slider, start_button,
                       start_server, stop_server)

SLOW = 300_000    # ms: three CNN runs one after another on 2 busy cores
RATES = ("0.001", "0.003", "0.01")


def choose_values(page: Page, *values: str) -> None:
    """Tick values in the sweep's multiselect, as a person picks them from its list."""
    box = page.get_by_test_id("stMultiSelect")
    for value in values:
        box.locator("input").fill(value)     # the list narrows to the values that match
        page.get_by_role("option", name=value, exact=True).click()
        expect(box.get_by_text(value, exact=True)).to_be_visible()
    page.keyboard.press("Escape")


def in_line(page: Page, place: str = r"\d+(st|nd|rd|th)"):
    """This page's lines for its own waiting jobs (`place`: "1st", "2nd"…, or any)."""
    return page.get_by_text(re.compile(rf"^{place} in line · "))


def overlay_curves(page: Page) -> list[dict]:
    """Name and number of points of every trace of the charts that overlay sweep runs."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(plot => (plot.data || []).map(t => ({name: t.name || '', points: (t.x || []).length})))
        .filter(t => /^lr /.test(t.name))""")


def test_a_sweep_and_a_second_sessions_job_share_the_queue(browser, tmp_path):
    proc, url = start_server(tmp_path)
    models = tmp_path / "models"
    anna, ben = new_page(browser), new_page(browser)
    try:
        # Anna sweeps three learning rates of the Fast CNN on 3,000 images.
        open_train(anna, url)
        choose_cnn(anna)
        set_slider(anna, "Training images used", "Home", *["ArrowRight"] * 5, value="3000")
        anna.get_by_text("Try several values", exact=True).click()
        expect(anna.get_by_role("combobox", name="Setting to vary")).to_have_value(
            "Learning rate")
        choose_values(anna, *RATES)
        expect(anna.get_by_text(re.compile(r"^3 runs, one after another"))).to_be_visible()
        start_button(anna).click()
        expect(anna.get_by_text("Your job: CNN (Fast) on MNIST · lr 0.001")).to_be_visible()
        expect(in_line(anna, "1st")).to_contain_text("lr 0.003")
        expect(in_line(anna, "2nd")).to_contain_text("lr 0.01")
        screenshot(anna, "experiments-sweep-queued")

        # Ben, in another browser, starts a Logistic Regression: people take turns, so it goes
        # before Anna's waiting runs (core/fair_queue.py), after the one that trains.
        open_train(ben, url)
        set_slider(ben, "Rounds", "Home", "ArrowRight", value="2")
        set_slider(ben, "Training images used", "Home", *["ArrowRight"] * 3, value="2000")
        start_button(ben).click()
        expect(in_line(ben, "1st").first).to_contain_text("Logistic Regression on MNIST")
        expect(ben.get_by_text("Someone else's job: CNN (Fast) on MNIST")).to_be_visible()
        screenshot(ben, "experiments-second-session-waits")

        # He queues one more, thinks better of it and cancels it: it never starts.
        set_slider(ben, "Rounds", "Home", "ArrowRight", "ArrowRight", value="3")
        start_button(ben).click()
        expect(in_line(ben)).to_have_count(2)
        expect(ben.get_by_role("button", name=re.compile("Cancel all 2 waiting"))).to_be_visible()
        screenshot(ben, "experiments-two-waiting")
        ben.get_by_test_id("stMain").get_by_role("button", name=re.compile("Cancel$")).last.click()
        expect(in_line(ben)).to_have_count(1)

        # Anna's runs train one after another and appear on one overlay as they go.
        done = anna.get_by_text("Sweep of learning rate: 3 of 3 runs done")
        expect(done).to_be_visible(timeout=SLOW)
        anna.wait_for_function(f"""() => new Set([...document.querySelectorAll('.js-plotly-plot')]
            .flatMap(plot => (plot.data || []).map(t => t.name || ''))
            .filter(name => /^lr /.test(name)).map(name => name.split(',')[0])).size >= {len(RATES)}""",
            timeout=30_000)   # the page may be between two drawings of the overlay
        curves = overlay_curves(anna)
        names = {c["name"].split(",")[0] for c in curves}
        assert names == {f"lr {r}" for r in RATES}, curves
        assert all(c["points"] >= 8 for c in curves), curves
        anna.set_viewport_size({"width": 1280, "height": 2400})   # the page redraws every
        screenshot(anna, "experiments-sweep-overlay")               # 0.5 s: no scrolling to it
        anna.set_viewport_size({"width": 390, "height": 4000})
        screenshot(anna, "experiments-sweep-overlay-phone")

        # Ben's job started by itself when its turn came, with nobody pressing anything.
        expect(ben.get_by_text("Your job: Logistic Regression on MNIST")).to_be_visible(timeout=SLOW)
        expect(ben.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(
            timeout=SLOW)
        trained = [m for m in store.list_models(root=models)[0] if not m.builtin]
        assert sorted(m.kind for m in trained) == ["cnn", "cnn", "cnn", "logreg"]
        assert [m.meta["settings"]["epochs"] for m in trained if m.kind == "logreg"] == [2]
        assert len({m.experiment["id"] for m in trained if m.kind == "cnn"}) == 1
    finally:
        for page in (anna, ben):
            page.context.close()
        stop_server(proc)
