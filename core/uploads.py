"""Models trained elsewhere, uploaded and added to the store, without trusting the file.

The Streamlit server only looks at an upload's bytes (`precheck`: its kind, size, signature
and, for zip-based files, its directory). Opening the model is left to a worker
process (core.upload_worker), watched for time and memory, so a file that hangs, bloats or
crashes its reader costs that process only and the server carries on:

    precheck(name, data)                -> ".keras" | ".h5" | ".tflite" | ".skops"  (server)
    inspect(name, data)                 -> Inspection: what it reads, datasets that fit  (worker)
    add(name, data, dataset, scale)     -> store.ModelInfo: converted, scored, saved     (worker)

Each raises UploadError with one sentence fit for a page. The formats, limits and checks are
in core.upload_rules: Keras files load with safe_mode, compile=False and no custom objects,
and only after their config names built-in layers of KERAS_LAYERS alone; .skops files load only the types of SKOPS_TYPES; pickle and joblib files
are refused outright, because loading one runs code from the file.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from core import store
from core.datasets import info
from core.processes import ending, start_process, worker_context
from core.upload_rules import SCALES, Inspection, UploadError, display_name, precheck, refused

TIME_LIMIT_S = 60.0             # a worker still busy after this is killed
MEMORY_LIMIT = int(1.5 * 2**30) # resident bytes; a worker above it is killed (RLIMIT_AS
                                # cannot be used: TensorFlow reserves far more than it touches)
POLL_S = 0.1                    # how often the watchdog looks at the worker
WAIT_S = TIME_LIMIT_S           # how long a second upload waits for the one being checked

# ---------------------------------------------------------------- the worker (server side)

_one_at_a_time = threading.Lock()   # one upload worker per server: each can hold ~1 GiB


def inspect(file_name: str, data: bytes, also: tuple[str, ...] = ()) -> Inspection:
    """What the uploaded model reads and gives, and which datasets fit it (the app's, and
    `also`: the one a person chose, which may be one they made); read in a worker process.
    UploadError when it cannot be used."""
    fmt = precheck(file_name, data)
    return run_worker("inspect", file_name, {"file_name": display_name(file_name), "format": fmt,
                                             "data": data, "also": tuple(also)})


def add(file_name: str, data: bytes, dataset: str, scale: int, root: Path | None = None
        ) -> store.ModelInfo:
    """Check, convert, score on `dataset`'s test set and save the uploaded model, in a worker
    process; `scale` is the pixel range it was trained on (1: 0-1, 255: 0-255)."""
    info(dataset)   # ValueError for a dataset the app does not know
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    fmt = precheck(file_name, data)
    root = Path(root) if root else store.user_root()
    model_id = run_worker("add", file_name, {
        "file_name": display_name(file_name), "format": fmt, "data": data, "dataset": dataset,
        "scale": scale, "root": str(root)})
    return store.get(model_id, root)


def worker_entry():
    """The function the worker process runs (tests put another in its place)."""
    from core.upload_worker import serve
    return serve


def run_worker(action: str, file_name: str, request: dict):
    """Run `action` on the upload in a fresh worker process, killed beyond TIME_LIMIT_S or
    MEMORY_LIMIT; its answer, or UploadError saying what happened."""
    if not _one_at_a_time.acquire(timeout=WAIT_S):
        raise UploadError("Another model is being checked on this server right now; try again "
                          "in a minute.")
    scratch = Path(tempfile.mkdtemp(prefix="digitlab-upload-"))
    try:
        ctx = worker_context()   # a fresh process, never a fork of the threaded server
        parent, child = ctx.Pipe(duplex=False)
        process = start_process(ctx, worker_entry(), "digitlab-upload",
                                (child, {"action": action, "scratch": str(scratch), **request}))
        child.close()
        try:
            status, payload = watch(process, parent, file_name)
        finally:
            stop(process)
            parent.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _one_at_a_time.release()
    if status == "ok":
        return payload
    if status == "refused":
        raise refused(file_name, payload)
    if status == "failed":
        raise UploadError(payload)
    raise refused(file_name, f"it could not be read ({payload[:200]})")


def watch(process, conn, file_name: str) -> tuple[str, object]:
    """The worker's (status, payload), waiting at most TIME_LIMIT_S and killing it when it
    holds more than MEMORY_LIMIT; UploadError when it is killed or dies without answering."""
    deadline = time.monotonic() + TIME_LIMIT_S
    while True:
        try:
            if conn.poll(POLL_S):
                return conn.recv()
        except (EOFError, OSError):   # it died, maybe mid-answer
            process.join(POLL_S)
        if not process.is_alive():
            process.join()
            raise refused(file_name, f"the process reading it crashed "
                                     f"({ending(process.exitcode)}); the app itself carries on")
        if resident_bytes(process.pid) > MEMORY_LIMIT:
            process.kill()
            raise refused(file_name, f"reading it needed more than {MEMORY_LIMIT / 2**30:.1f} GiB "
                                     "of memory, so it was stopped")
        if time.monotonic() > deadline:
            process.kill()
            raise refused(file_name, f"reading it took longer than {TIME_LIMIT_S:g} s, so it "
                                     "was stopped")


def resident_bytes(pid: int) -> int:
    """Memory the process holds now (VmRSS, Linux); 0 where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def stop(process, grace_s: float = 5.0) -> None:
    """Let a worker that has answered exit, killing it if it lingers."""
    process.join(grace_s)
    if process.is_alive():
        process.kill()
        process.join()
