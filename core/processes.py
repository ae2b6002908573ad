"""Worker processes started from the Streamlit server: the trainers', the upload checks' and
the predictor's.

None is a fork of the threaded server: the predictor is spawned; training and upload workers
are forked from one forkserver process that imported TensorFlow once (core.warm), so each
starts in ~0.1 s instead of importing it for 5-9 s. Each gets the server's environment as it
is when it starts, names its process so people can find it in ps or top, and never re-runs
the Streamlit page that started it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from contextlib import contextmanager
from importlib.machinery import ModuleSpec

WARM = ["core.warm"]   # what the forkserver imports once for all the workers it forks


def name_this_process() -> None:
    """Show this worker's name in ps, top and /proc/PID/comm, so people can find it.

    Linux keeps 15 characters: `digitlab-train-3f2a9c01` shows as `dl-train-3f2a9c`.
    """
    name = mp.current_process().name.replace("digitlab-", "dl-", 1).encode()[:15]
    try:
        import ctypes
        ctypes.CDLL(None).prctl(15, name, 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):  # not Linux: the name is only cosmetic
        pass


def worker_context():
    """The multiprocessing context of training and upload workers: forked from the forkserver
    that has core.warm imported (started, in the background, by the first `warm_up`)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(WARM)
    return ctx


_warm = threading.Event()
_warming = threading.Lock()


def warm_up() -> None:
    """Start the forkserver now, in a background thread, so the first worker waits less for
    its imports, 5-9 s (`is_warm` says when they are done)."""
    if not _warming.acquire(blocking=False):
        return   # already started

    def first_worker():
        try:
            start_process(worker_context(), _nothing, "digitlab-warm-up", ()).join()
        finally:   # a forkserver that failed: jobs and checks start and say why themselves
            _warm.set()
    threading.Thread(target=first_worker, daemon=True, name="digitlab-warm-up").start()


def is_warm() -> bool:
    """Whether a worker starts at once now (else it waits for the forkserver's imports)."""
    return _warm.is_set()


def _nothing() -> None:
    pass


def ending(exitcode: int | None) -> str:
    """How a process ended, in a few words: "signal 11", "exit code 1"."""
    return f"signal {-exitcode}" if exitcode and exitcode < 0 else f"exit code {exitcode}"


_main_lock = threading.Lock()
_marked: dict[int, int] = {}   # id of a `__main__` module -> processes starting under it now
_MAIN = ModuleSpec("__main__", None)


@contextmanager
def _page_not_rerun():
    """Streamlit runs each page as a module `__main__` with a `__file__`, which multiprocessing
    would run again in the new process. While one starts, that module names itself `__main__`
    by its spec instead, which multiprocessing never runs again; the module stays in place, so
    pages running meanwhile (a start may wait seconds for the forkserver) see no difference."""
    with _main_lock:
        main = sys.modules["__main__"]
        mark = getattr(main, "__spec__", None) is None or id(main) in _marked
        if mark:
            _marked[id(main)] = _marked.get(id(main), 0) + 1
            main.__spec__ = _MAIN
    try:
        yield
    finally:
        if mark:
            with _main_lock:
                _marked[id(main)] -= 1
                if not _marked[id(main)]:
                    del _marked[id(main)]
                    main.__spec__ = None


def start_process(ctx, target, name: str, args: tuple):
    """Start a daemon process running `target(*args)` in the server's environment as it is
    now, without re-running the calling Streamlit page."""
    process = ctx.Process(target=_in_environ, name=name, args=(dict(os.environ), target, *args),
                          daemon=True)
    with _page_not_rerun():
        process.start()
    return process


def _in_environ(environ: dict, target, *args) -> None:
    """In the new process: the starter's environment (a forked worker has the forkserver's,
    from when it started), then `target(*args)`."""
    os.environ.clear()
    os.environ.update(environ)
    target(*args)
