"""The Runs table on a phone, in a real browser: each run's name, test accuracy and verdict are
seen without scrolling sideways (the settings follow to the right), and on a laptop too.

A run is trained first through the job runner into the server's models folder (a Logistic
Regression, 1,000 images, 1 round), beside the built-in models.
"""

from playwright.sync_api import Page, expect

from core import jobs, verdict
from core.kinds import Spec

from .conftest import screenshot, start_server, stop_server, wait_idle

PHONE = {"width": 390, "height": 3000}
TINY = Spec("logreg", epochs=1, C=0.1, train_size=1000)
HEADER = 36   # px: the table's header row, above the first run


def train(models) -> None:
    """A finished run in `models`, as the Train page would have saved it."""
    runner = jobs.JobRunner(models)
    try:
        job = runner.wait(runner.start(TINY).id, timeout=300)
    finally:
        runner.shutdown()
    assert job.status == "done", job.error


def open_runs(page: Page, url: str):
    """The Train page's Runs table, drawn: the grid's locator."""
    page.goto(url + "/train")
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    wait_idle(page)
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("td").filter(has_text="1,000 images")).to_have_count(1)
    return table


def go_to_verdict(page: Page, table, row: int) -> None:
    """Choose a row's verdict cell as a person does: a tap on the first row's name, two steps
    right with the keyboard, then down to the row."""
    box = table.bounding_box()
    page.mouse.click(box["x"] + 60, box["y"] + HEADER + 20)
    for key in ["ArrowRight"] * 2 + ["ArrowDown"] * row:
        page.keyboard.press(key)


def open_cell(page: Page, table, row: int, tries: int = 3):
    """Enter opens the chosen cell; on a busy machine the grid may not have taken the tap yet,
    so the row is chosen again (at most `tries` times) until the cell opens."""
    opened = page.locator("#portal textarea")
    for attempt in range(tries):
        if attempt:
            page.keyboard.press("Escape")
            go_to_verdict(page, table, row)
        page.keyboard.press("Enter")
        try:
            expect(opened).to_be_visible(timeout=5_000)
            return opened
        except AssertionError:
            continue
    expect(opened).to_be_visible()
    return opened


def verdict_cells(page: Page, table) -> list[dict]:
    """Each row's verdict cell opened (Enter) as a person reaches it: its text, where it opened
    (px) and how far the grid had to scroll sideways to show it whole (the grid scrolls to
    show a chosen cell)."""
    go_to_verdict(page, table, 0)
    cells = []
    for row in range(table.locator("td[aria-colindex='1']").count()):
        opened = open_cell(page, table, row)
        shown = opened.bounding_box()
        cells.append({"text": opened.input_value(), "left": shown["x"],
                      "right": shown["x"] + shown["width"],
                      "scrolled": table.locator(".dvn-scroller").evaluate("e => e.scrollLeft")})
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")
    return cells


def test_each_runs_verdict_is_in_view_on_a_phone(browser, tmp_path):
    train(tmp_path / "models")
    proc, url = start_server(tmp_path)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        table = open_runs(page, url)
        screenshot(page, "runs-390")
        cells = verdict_cells(page, table)
        assert len(cells) >= 2                                  # the built-ins and ours
        for cell in cells:
            assert cell["text"] in verdict.VERDICTS, cells      # it is the verdict column
            assert cell["scrolled"] == 0, cells                 # seen without scrolling sideways
            assert cell["right"] <= PHONE["width"], cells       # and whole, within the screen
        page.set_viewport_size({"width": 1280, "height": 4000})
        screenshot(page, "runs-1280")                           # a laptop: the settings follow
    finally:
        context.close()
        stop_server(proc)
