"""How fast the server starts, how fast each page first shows, and how much memory it holds.

    .venv/bin/python benchmarks/startup.py

Starts `streamlit run Home.py` as the browser tests do, opens Home in headless
Chromium, and prints: seconds to /_stcore/health, seconds from requesting Home to
its data section being rendered (the first full script run, browser included),
and the server's RSS (VmRSS and peak VmHWM from /proc/PID/status) after it.
Then, for each page, a fresh server (empty user store) and the seconds from asking for
that page to its answer being shown and the script run finished: its first view.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import (CHROMIUM_ARGS, chromium_path, start_server,  # noqa: E402
                                stop_server, wait_idle)


def rss_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


COLD_SCRIPT_RUN = """
import time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("Home.py", default_timeout=60)
t = time.perf_counter(); at.run(); first = time.perf_counter() - t
t = time.perf_counter(); at.run(); again = time.perf_counter() - t
assert not at.exception, at.exception
print(first, again)
"""


def script_run_seconds() -> tuple[float, float]:
    """Home's first script run in a fresh process (imports + data load), then a rerun."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", COLD_SCRIPT_RUN], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    first, again = map(float, out.stdout.split()[-2:])
    return first, again


FIRST_VIEWS = {  # page -> (address, what it shows once it has its answer)
    "Home": ("", "Training images"),
    "Train": ("/train", "Train a model"),
    "Compare": ("/compare", "Test accuracy"),
    "OpenCV Lab": ("/opencv_lab", "OpenCV Lab"),
    "Draw": ("/draw", "Draw a digit"),
}


def first_view_seconds(p, path: str, shows: str) -> float:
    """Seconds from asking a fresh server for `path` to `shows` being on screen and the
    script run finished (a fresh server and browser page each time)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp))
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(url + path)
        expect(page.get_by_text(shows, exact=True).first).to_be_visible(timeout=120_000)
        wait_idle(page)
        seconds = time.perf_counter() - start
        browser.close()
        stop_server(proc)
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        t0 = time.perf_counter()
        proc, url = start_server(Path(tmp))
        healthy = time.perf_counter() - t0
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page()
        t1 = time.perf_counter()
        page.goto(url)
        expect(page.get_by_text("Training images")).to_be_visible(timeout=60_000)
        first_run = time.perf_counter() - t1
        t2 = time.perf_counter()
        page.reload()
        expect(page.get_by_text("Training images")).to_be_visible(timeout=60_000)
        second_run = time.perf_counter() - t2
        mem = rss_mib(proc.pid)
        modules = Path(f"/proc/{proc.pid}/maps").read_text()
        browser.close()
        stop_server(proc)
    cold, rerun = script_run_seconds()
    print(f"Digit Lab startup — {date.today()}, {platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print(f"  server healthy after      {healthy:6.2f} s")
    print(f"  Home first script run     {cold:6.2f} s  (fresh process: imports + data load)")
    print(f"  Home rerun                {rerun * 1000:6.0f} ms")
    print(f"  Home first full run       {first_run:6.2f} s  (browser request -> data shown)")
    print(f"  Home reload in browser    {second_run:6.2f} s")
    print(f"  server RSS after Home     {mem['VmRSS']:6.0f} MiB (peak {mem['VmHWM']:.0f} MiB)")
    print(f"  TensorFlow in server      {'YES' if 'libtensorflow' in modules else 'no'}")
    print("  First view of each page on a fresh server (request -> answer shown, run finished):")
    with sync_playwright() as p:
        for name, (path, shows) in FIRST_VIEWS.items():
            print(f"    {name:<12} {first_view_seconds(p, path, shows):6.2f} s", flush=True)


if __name__ == "__main__":
    main()
