"""Worker processes started from the Streamlit server: the training runner's and the predictor's.

Both spawn (never fork a threaded server), name their process so people can find it in
ps or top, and must not make the child re-run the Streamlit page that started them.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import threading
import types


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


def ending(exitcode: int | None) -> str:
    """How a process ended, in a few words: "signal 11", "exit code 1"."""
    return f"signal {-exitcode}" if exitcode and exitcode < 0 else f"exit code {exitcode}"


_main_lock = threading.Lock()


def start_process(ctx, target, name: str, args: tuple):
    """Start a spawned daemon process that does not re-run the calling Streamlit page.

    Streamlit installs the running page as `__main__`, and spawn would execute that
    page again in the child. While the child is being started, `__main__` is swapped
    for an empty module, so the child imports only what `target` needs.
    """
    process = ctx.Process(target=target, name=name, args=args, daemon=True)
    with _main_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            sys.modules["__main__"] = main
    return process
