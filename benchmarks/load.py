"""Several people drawing at once: how fast and how right each one's reading is, and memory.

    .venv/bin/python benchmarks/load.py [--sessions 6] [--digits 5]

Starts `streamlit run Home.py` as the browser tests do (empty model store: built-in models),
opens N Draw pages in one headless Chromium, each in its own browser context (so its own
Streamlit session), and in K rounds has all of them draw at once (Playwright's async API,
asyncio.gather; `draw` and `clear` are async copies of tests/e2e/test_draw.py's sync helpers):
session i draws digit (i + round) % 10 of tests/strokes.py, large and centred, then Clear.

Per drawing: ms from the last stroke's mouse-up to the CNN reading appearing, timed inside the
page (a capturing mouseup listener and a MutationObserver, so Python's polling does not count),
and whether it is the digit drawn. Cross-talk: after each round every page must still show its
first reading, and a wrong one that is another session's digit of the round is reported.
Memory: server VmHWM, and the peak summed VmRSS (and PSS) of its process tree, sampled every
0.25 s by benchmarks/memory.py's Sampler. The browsers share the server's cores.

No time budgets: exits non-zero only if a page errored, a reading took over 60 s, or the run
overran its bound (60 s + 25 s a round).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.memory import Sampler, mib, stop_tree  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, start_server  # noqa: E402
from tests.e2e.test_draw import CANVAS, reading  # noqa: E402
from tests.strokes import PLACEMENTS, placed  # noqa: E402

STEP_MS, READ_MS = 30_000, 60_000   # any one click, wait or check; a mouse-up to its reading
WATCH = """window.__up = 0; window.__seen = null;
addEventListener('mouseup', () => { window.__up = performance.now(); window.__seen = null; }, true);
new MutationObserver(() => {
  if (window.__seen || !window.__up) return;
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(m => m.textContent.includes('CNN reads'));
  const value = metric && metric.querySelector('[data-testid="stMetricValue"]');
  if (value) window.__seen = [performance.now() - window.__up, value.textContent.trim()];
}).observe(document, {childList: true, subtree: true, characterData: true});"""


async def open_draw(browser, url: str, errors: list[str]) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_MS)
    await context.add_init_script(WATCH)
    page = await context.new_page()
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("crash", lambda _: errors.append("page crashed"))
    await page.goto(url + "/draw", timeout=60_000)
    await expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible(timeout=60_000)
    await expect(page.locator(CANVAS)).to_be_visible(timeout=STEP_MS)
    return page


async def strokes(page: Page, digit: int) -> None:
    box = await page.locator(CANVAS).bounding_box()
    for (x0, y0), *rest in placed(digit, *PLACEMENTS[0]):
        await page.mouse.move(box["x"] + x0, box["y"] + y0)
        await page.mouse.down()
        for x, y in rest:
            await page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
        await page.mouse.up()


async def draw(page: Page, digit: int) -> bool:
    """test_draw.draw: once more if a fresh canvas missed the mouse (then True)."""
    undo = page.get_by_role("button", name="Undo")
    await strokes(page, digit)
    try:
        await expect(undo).to_be_enabled(timeout=3_000)
        return False
    except AssertionError:
        await strokes(page, digit)
        await expect(undo).to_be_enabled(timeout=STEP_MS)
        return True


async def clear(page: Page) -> None:
    """test_draw.clear, and the old reading gone."""
    old = await page.locator(CANVAS).element_handle()
    await page.get_by_role("button", name="Clear").click()
    await expect(page.get_by_text("Draw a digit (0-9)")).to_be_visible(timeout=STEP_MS)
    await page.wait_for_function("c => !c.isConnected", arg=old, timeout=STEP_MS)
    await expect(page.locator(CANVAS)).to_be_visible(timeout=STEP_MS)
    await expect(page.get_by_role("button", name="Undo")).to_be_disabled(timeout=STEP_MS)
    await expect(reading(page)).to_have_count(0, timeout=STEP_MS)


async def draw_and_read(page: Page, digit: int) -> tuple[float, str, bool]:
    """(ms from the last mouse-up to the CNN reading, its text, redrawn?)"""
    redrawn = await draw(page, digit)
    seen = await page.wait_for_function("() => window.__seen", polling=50, timeout=READ_MS)
    return (*await seen.json_value(), redrawn)


async def labelled(what: str, step):
    """Await `step`; a failure says which session and step, and what Playwright waited for."""
    try:
        return await step
    except Exception as e:  # noqa: BLE001 - re-raised with a label
        lines = [line.strip() for line in str(e).splitlines() if line.strip()] or ["-"]
        raise RuntimeError(" ".join([what + ":", type(e).__name__, lines[0]]
                                    + [line for line in lines if "waiting for" in line][:1])) from e


async def rounds(browser, url: str, n: int, k: int, out: dict) -> None:
    pages = await asyncio.gather(*(labelled(f"session {i + 1} opening Draw",
                                            open_draw(browser, url, out["errors"]))
                                   for i in range(n)))   # all at once, on a fresh server
    t0 = time.perf_counter()
    for j in range(k):
        digits = [(i + j) % 10 for i in range(n)]
        got = await asyncio.gather(*(labelled(f"round {j + 1} session {i + 1} drawing {d}",
                                              draw_and_read(p, d))
                                     for i, (p, d) in enumerate(zip(pages, digits))))
        for i, (page, digit, (ms, text, redrawn)) in enumerate(zip(pages, digits, got)):
            out["reads"].setdefault(j, []).append((digit, ms, text))
            out["redraws"] += redrawn
            now = (await reading(page).inner_text(timeout=STEP_MS)).strip()
            if now != text or (text != str(digit) and text in map(str, digits)):
                out["crosstalk"].append(f"round {j + 1} session {i + 1} drew {digit}, "
                                        f"read {text}, now shows {now}")
        await asyncio.gather(*(labelled(f"round {j + 1} session {i + 1} Clear", clear(p))
                               for i, p in enumerate(pages)))
        out["rounds_s"] = time.perf_counter() - t0
    for i, page in enumerate(pages):
        if await page.get_by_test_id("stException").count():
            out["errors"].append(f"session {i + 1}: a Streamlit exception on the page")


async def main(n: int, k: int) -> int:
    load, start, bound = os.getloadavg()[0], time.perf_counter(), 60 + 25 * k
    out = {"reads": {}, "redraws": 0, "crosstalk": [], "errors": [], "rounds_s": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp))
        sampler = Sampler(proc.pid)
        sampler.start()
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium_path(), headless=True,
                                                  args=CHROMIUM_ARGS)
                try:
                    await asyncio.wait_for(rounds(browser, url, n, k, out), bound)
                except asyncio.TimeoutError:
                    out["errors"].append(f"the run overran its bound of {bound} s")
                except Exception as e:  # noqa: BLE001 - reported; the exit code says so
                    out["errors"].append(str(e) or type(e).__name__)
                finally:
                    await browser.close()
        finally:
            sampler.stop()
            stop_tree(proc)

    reads = [r for per_round in out["reads"].values() for r in per_round]
    ms = sorted(r[1] for r in reads) or [math.nan]
    wrong = [f"drew {d} read {t}" for d, _, t in reads if t != str(d)]
    by_round = " ".join(f"{statistics.median(r[1] for r in rs):.0f}"
                        for rs in out["reads"].values())
    print(f"Digit Lab load — {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {load:.1f} at start")
    for name, value in [
            ("sessions x digits", f"{n} x {k} = {n * k} drawings, {len(reads)} readings"),
            ("correct", f"{len(reads) - len(wrong)}/{len(reads)} "
                        f"({100 * (len(reads) - len(wrong)) / max(1, len(reads)):.0f} %)"
                        + "".join(f"; {w}" for w in wrong)),
            ("mouse-up -> reading", f"p50 {statistics.median(ms):.0f} ms, p95 "
                                    f"{ms[math.ceil(0.95 * len(ms)) - 1]:.0f} ms, max "
                                    f"{ms[-1]:.0f} ms; p50 by round {by_round} ms"),
            ("wall time", f"{time.perf_counter() - start:.0f} s in all, {out['rounds_s']:.0f} s of"
                          f" rounds; redraws (canvas missed the mouse) {out['redraws']}"),
            ("server peak RSS", f"{mib(sampler.hwm.get(proc.pid, 0)).strip()} (VmHWM)"),
            ("process tree peak", f"{mib(sampler.peak_total).strip()} summed VmRSS, "
                                  f"{mib(sampler.peak_pss).strip()} PSS"),
            ("cross-talk", "; ".join(out["crosstalk"]) or "none: each saw only its own digit"),
            ("errors", "; ".join(out["errors"]) or "none")]:
        print(f"  {name:<20} {value}")
    return 1 if out["errors"] or len(reads) < n * k else 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--sessions", type=int, default=6, help="browser sessions drawing at once")
    cli.add_argument("--digits", type=int, default=5, help="digits each session draws")
    opts = cli.parse_args()
    sys.exit(asyncio.run(main(opts.sessions, opts.digits)))
