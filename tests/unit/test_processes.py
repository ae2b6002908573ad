"""Worker processes: they never run the Streamlit page that started them, see the environment
as it is when they start (a forked one would otherwise have its forkserver's), and one started
in the background (the forkserver still importing) can be killed or fail to start."""

import multiprocessing as mp
import os
import sys
import threading
import time
import types
from pathlib import Path

from core import processes
from core.executors import LocalRun


def write_environment(path: str, name: str) -> None:
    Path(path).write_text(os.environ.get(name, "unset"))


def test_a_new_process_never_runs_the_page_that_started_it(tmp_path, monkeypatch):
    page = types.ModuleType("__main__")          # as Streamlit runs a page
    page.__file__ = str(tmp_path / "page.py")
    (tmp_path / "page.py").write_text(f"open({str(tmp_path / 'page ran')!r}, 'w')\n")
    monkeypatch.setitem(sys.modules, "__main__", page)
    processes.start_process(mp.get_context("spawn"), print, "digitlab-test", ("",)).join()
    assert not (tmp_path / "page ran").exists()
    assert page.__spec__ is None and sys.modules["__main__"] is page   # left as it was


def test_a_worker_sees_the_environment_as_it_is_when_it_starts(tmp_path, monkeypatch):
    ctx = processes.worker_context()
    for value in ("first", "second"):            # one forkserver, started before the change
        monkeypatch.setenv("DIGITLAB_PROBE", value)
        out = tmp_path / value
        processes.start_process(ctx, write_environment, "digitlab-test",
                                (str(out), "DIGITLAB_PROBE")).join()
        assert out.read_text() == value


def test_a_worker_started_in_the_background_can_be_killed_before_it_starts():
    ctx, gate = mp.get_context("spawn"), threading.Event()

    def start():
        gate.wait(10)   # the forkserver still importing
        return processes.start_process(ctx, time.sleep, "digitlab-test", (30,))
    run = LocalRun(start, ctx.Queue(), ctx.Event(), background=True)
    assert run.pid is None
    run.kill()          # a person's job makes way before the speed check has started
    gate.set()
    assert list(run.events()) == [] and run.failure() == "killed by signal 9"


def test_a_worker_that_cannot_start_says_why():
    ctx = mp.get_context("spawn")

    def start():
        raise OSError("no more processes")
    run = LocalRun(start, ctx.Queue(), ctx.Event(), background=True)
    assert list(run.events()) == [] and run.failure() == "it could not start: no more processes"
