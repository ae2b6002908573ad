"""How much memory the server and its worker processes hold, against the budgets.

    .venv/bin/python benchmarks/memory.py [--cifar-only]

Starts `streamlit run Home.py` as the browser tests do (empty model store) and drives it in
headless Chromium, like a person would, in one browser session:

  a. Home, then Train, with the built-in models listed and this machine's speed measured:
     the server's RSS at rest;
  b. Draw, one digit drawn, read and explained (saliency, feature maps: the prediction worker
     is running): server and worker RSS
     (issue 7 sets no budget for these);
  c. the largest CNN recipe (Deeper, 1 epoch) trained from the Train page on all 60,000
     MNIST training images: the peak RSS of the whole process tree (server + every
     descendant) and of the training worker, sampled every 0.05 s from the press of Start
     to the job's end;
  d. a second server with a CIFAR-10 of the real size (50,000 + 10,000 made-up images in the
     official binary format, CIFAR10_PATH): Home, Train a Logistic Regression (1 round) and
     the colour CNN (1 epoch) on all 50,000, then Compare: the training worker's own peak,
     and the server at rest afterwards.

Memory is VmRSS / VmHWM from /proc/PID/status; descendants are found through the ppid
field of /proc/*/stat. A sum of RSS counts shared pages (TensorFlow's libraries, mapped by
both workers) once per process, so the tree's PSS (/proc/PID/smaps_rollup) is printed too.
"""

from __future__ import annotations

import os
import re
import platform
import signal
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import (CHROMIUM_ARGS, chromium_path, descendant_pids, start_server,  # noqa: E402
                                stop_server, wait_idle)
from core import store  # noqa: E402
from tests.e2e.test_draw import CANVAS, draw, reading  # noqa: E402
from tests.e2e.test_many_sessions import set_slider  # noqa: E402

MiB = 1024 * 1024
BUDGET_IDLE = 250 * MiB       # issue 7: the server at rest
BUDGET_TREE = 1536 * MiB      # issue 7: everything, while a CNN trains on 60,000 images
BUDGET_TRAINER = 1229 * MiB   # issue 11: the training worker on 60,000 images (1.2 GiB)
BUDGET_CIFAR_IDLE = 350 * MiB     # issue 17: the server after Home, Train and Compare on CIFAR-10
BUDGET_CIFAR_TRAINER = 1536 * MiB # issue 17: the training worker on 50,000 CIFAR-10 images
SAMPLE_S = 0.05   # a worker's peak can come in its last second (export, save)
TRAIN_TIMEOUT_MS = 20 * 60_000


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes ({} if it has ended)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


def pss(pid: int) -> int:
    """Proportional set size in bytes: shared pages (TensorFlow's libraries) split among users."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def tree(root: int) -> dict[int, str]:
    """`root` and all its live descendants: pid -> role."""
    return {root: "server"} | {pid: role(pid) for pid in descendant_pids(root)}


def role(pid: int) -> str:
    """"worker", "trainer" (a training job's worker), "resource tracker" or "other"."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        name = Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return "ended"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "spawn_main" not in cmd:
        return "other"
    return "trainer" if name.startswith("dl-train-") else "worker"   # core.processes names it


class Sampler(threading.Thread):
    """Sums the tree's VmRSS every SAMPLE_S seconds and keeps the peak, and each pid's VmHWM."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.peak_total, self.peak_pss, self.samples = 0, 0, 0
        self.peak_at: dict[int, int] = {}            # RSS of each process at the peak
        self.hwm: dict[int, int] = {}                # each process's own peak (VmHWM)
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        start = time.monotonic()
        while not self.done.is_set():
            procs = tree(self.root)
            rss = {}
            for pid, what in procs.items():
                mem = status(pid)
                if mem:
                    rss[pid] = mem["VmRSS"]
                    self.hwm[pid] = max(self.hwm.get(pid, 0), mem["VmHWM"])
                    self.roles[pid] = what   # a worker names itself once it runs
            total = sum(rss.values())
            self.peak_pss = max(self.peak_pss, sum(pss(pid) for pid in rss))
            self.samples += 1
            if total > self.peak_total:
                self.peak_total, self.peak_at = total, rss
            self.done.wait(max(0.0, start + self.samples * SAMPLE_S - time.monotonic()))

    def stop(self) -> "Sampler":
        self.done.set()
        self.join()
        return self


def mib(n: int) -> str:
    return f"{n / MiB:6.0f} MiB"


def verdict(value: int, budget: int) -> str:
    return f"budget {budget / MiB:4.0f} MiB  {'PASS' if value <= budget else 'OVER'}"


def nav(page: Page, title: str) -> None:
    """Go to a page through the sidebar, so the browser session (and its choices) is kept."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


def stop_tree(proc) -> None:
    """Stop the server, and any worker of it that outlives it (none should)."""
    left = tree(proc.pid)
    stop_server(proc)
    for pid in left:
        if pid != proc.pid and status(pid):
            os.kill(pid, signal.SIGKILL)


def workers(server: int) -> dict[int, str]:
    return {pid: what for pid, what in tree(server).items() if what in ("worker", "trainer")}


class SkipToCifar(Exception):
    """`--cifar-only`: measure part d alone."""


def main() -> None:
    lines = []
    cifar_only = "--cifar-only" in sys.argv   # part d alone
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        proc, url = start_server(Path(tmp))
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            if cifar_only:
                raise SkipToCifar
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)

            # a. Home and Train, built-in models listed.
            page.goto(url)
            expect(page.get_by_text("built-in").first).to_be_visible(timeout=60_000)
            wait_idle(page)
            home = status(proc.pid)
            lines.append(f"     server after Home only         {mib(home['VmRSS'])} "
                         f"(peak {mib(home['VmHWM']).strip()})   for comparison")
            nav(page, "Train")
            expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
            expect(page.get_by_test_id("stDataFrame")).to_be_visible()   # the model store
            # The first visit measures this machine's speed in a worker, which then exits.
            expect(page.get_by_text(re.compile(r"About .* on this machine"))).to_be_visible(
                timeout=120_000)
            deadline = time.monotonic() + 30
            while workers(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            wait_idle(page)
            idle = status(proc.pid)
            assert not workers(proc.pid), "a worker runs when nothing needs one"
            lines.append(f"  a. server at rest (Home, Train)   {mib(idle['VmRSS'])} "
                         f"(peak {mib(idle['VmHWM']).strip()})   "
                         f"{verdict(idle['VmRSS'], BUDGET_IDLE)}")

            # b. Draw one digit: the prediction worker starts and reads it.
            nav(page, "Draw")
            canvas = page.locator(CANVAS)
            expect(canvas).to_be_visible()
            draw(page, canvas, 7, 30, 30, 110)
            expect(reading(page)).to_have_text("7", timeout=120_000)
            page.get_by_role("tab", name="Inside the CNN").click()  # the worker reads its layers too
            expect(page.get_by_text("Convolution 1:")).to_be_visible(timeout=60_000)
            wait_idle(page)
            server = status(proc.pid)
            predictor = workers(proc.pid)
            assert len(predictor) == 1, tree(proc.pid)
            (worker_pid,) = predictor
            worker = status(worker_pid)
            total = sum(status(pid).get("VmRSS", 0) for pid in tree(proc.pid))
            lines.append(f"  b. server, a drawing explained    {mib(server['VmRSS'])} "
                         f"(peak {mib(server['VmHWM']).strip()})   no budget set")
            lines.append(f"     prediction worker              {mib(worker['VmRSS'])} "
                         f"(peak {mib(worker['VmHWM']).strip()})   no budget set")
            lines.append(f"     whole tree                     {mib(total)}")

            # c. A CNN on all of Fashion-MNIST, started from the Train page.
            nav(page, "Train")
            page.get_by_role("radiogroup", name="Model", exact=True).get_by_role("radio", name="CNN").click()
            page.get_by_test_id("stRadio").get_by_text("Deeper", exact=True).click()
            epochs = page.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_role("slider")
            expect(epochs).to_have_value("15")   # Deeper's own settings are on the page
            wait_idle(page)
            epochs.focus()
            page.keyboard.press("Home")
            expect(epochs).to_have_value("1")
            wait_idle(page)
            images = page.get_by_test_id("stSlider").filter(
                has_text="Training images used").get_by_role("slider")
            expect(images).to_have_value("60000")
            sampler = Sampler(proc.pid)
            sampler.start()
            t0 = time.perf_counter()
            page.get_by_role("button", name="Start training").click()
            expect(page.get_by_text("Your job: CNN (Deeper) on MNIST")).to_be_visible()
            ended = (page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
                     .or_(page.get_by_text("Training failed")))
            expect(ended.first).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
            seconds = time.perf_counter() - t0
            failed = page.get_by_text("Training failed").count() > 0
            deadline = time.monotonic() + 30   # the worker exits once it has saved the model
            while len(workers(proc.pid)) > 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            sampler.stop()
            accuracy = "" if failed else page.get_by_test_id("stMetric").filter(
                has_text="Test accuracy").get_by_test_id("stMetricValue").inner_text()
            trainers = [pid for pid, what in sampler.roles.items() if what == "trainer"]
            lines.append(f"  c. whole tree, peak while training {mib(sampler.peak_total)}"
                         f"{'':17}{verdict(sampler.peak_total, BUDGET_TREE)}")
            lines.append(f"     same, as PSS (shared pages once) {mib(sampler.peak_pss)}")
            for pid, rss in sorted(sampler.peak_at.items()):
                what = ("training worker" if pid in trainers else
                        "prediction worker" if pid == worker_pid else sampler.roles[pid])
                lines.append(f"       at the peak: {what:<18}{mib(rss)}   "
                             f"(own peak {mib(sampler.hwm[pid]).strip()})")
            for pid in trainers:
                lines.append(f"     training worker's own peak      {mib(sampler.hwm[pid])}"
                             f"{'':17}{verdict(sampler.hwm[pid], BUDGET_TRAINER)}")
            lines.append(f"     job: {'FAILED' if failed else 'done'} {seconds:.0f} s after Start "
                         f"(result on the page), test accuracy {accuracy or '-'}; "
                         f"{sampler.samples} samples; training worker left running: "
                         f"{'YES' if len(workers(proc.pid)) > 1 else 'no'}")
            after = status(proc.pid)
            lines.append(f"     server after the job           {mib(after['VmRSS'])} "
                         f"(peak {mib(after['VmHWM']).strip()})")
        except SkipToCifar:
            pass
        finally:
            stop_tree(proc)
        try:
            lines += cifar_figures(browser, Path(tmp))
        finally:
            browser.close()
    print(f"Digit Lab memory — {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print("\n".join(lines))


def train_on_page(page: Page, kind: str, setting: str, models: Path) -> None:
    """Train `kind` from the Train page with `setting` at its minimum on all training images,
    and wait until its model is in the store (`models`) and its worker has exited."""
    before = len(store.list_models(root=models)[0])
    page.get_by_role("radiogroup", name="Model", exact=True).get_by_role("radio", name=kind).click()
    wait_idle(page)
    set_slider(page, setting, "Home", value="1")
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(f"^Your job: {re.escape(kind)}"))).to_be_visible()
    deadline = time.monotonic() + TRAIN_TIMEOUT_MS / 1000
    while len(store.list_models(root=models)[0]) == before:
        assert time.monotonic() < deadline and not page.get_by_text("Training failed").count()
        time.sleep(0.5)
    expect(page.get_by_text("is saved: it is one of the runs below", exact=False).first).to_be_visible()


def cifar_figures(browser, tmp: Path) -> list[str]:
    """Part d: memory with a CIFAR-10 of the real size (made-up images, official format)."""
    from core import cifar
    from tests import cifar_synth

    archive = tmp / "cifar-10-binary.tar.gz"
    cifar.write(archive, *cifar_synth.make(50_000, 10_000))
    (tmp / "cifar").mkdir()
    proc, url = start_server(tmp / "cifar", {"CIFAR10_PATH": str(archive)})
    lines = []
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(url + "/?dataset=cifar10")
        expect(page.get_by_test_id("stMetric").filter(has_text="Training images")).to_contain_text(
            "50,000")
        nav(page, "Train")
        sampler = Sampler(proc.pid)
        sampler.start()
        train_on_page(page, "Logistic Regression", "Rounds", tmp / "cifar" / "models")
        train_on_page(page, "CNN", "Epochs", tmp / "cifar" / "models")
        sampler.stop()
        trainers = sorted(pid for pid, what in sampler.roles.items() if what == "trainer")
        lines.append("  d. CIFAR-10 (50,000 + 10,000 images of the real shape)")
        for model, pid in zip(("Logistic Regression", "CNN (Airbench)"), trainers):
            lines.append(f"     {model + ' worker, own peak':<34}{mib(sampler.hwm[pid])}"
                         f"{'':3}{verdict(sampler.hwm[pid], BUDGET_CIFAR_TRAINER)}")
        nav(page, "Compare")
        expect(page.get_by_text("Confusion matrices")).to_be_visible(timeout=120_000)
        wait_idle(page)
        deadline = time.monotonic() + 30
        while len(workers(proc.pid)) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)       # only the prediction worker is left
        idle = status(proc.pid)
        lines.append(f"     server at rest (Home, Train, Compare) {mib(idle['VmRSS'])} "
                     f"(peak {mib(idle['VmHWM']).strip()})   "
                     f"{verdict(idle['VmRSS'], BUDGET_CIFAR_IDLE)}")
    finally:
        stop_tree(proc)
    return lines


if __name__ == "__main__":
    main()
