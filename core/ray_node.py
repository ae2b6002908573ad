"""What runs on a Ray cluster's nodes: a job's training task and the mailbox it talks through.

The task runs the worker a local job runs (core.worker.run_training) on whichever node has
room. Its events go to one `Mailbox` actor for all jobs (sent several times a second, a few
at a time), which the app's Ray bridge (core/ray_bridge.py) empties; the mailbox also holds
each job's stop flag. A node need not share a disk with the app: the task saves the model
into a temporary folder on its node and returns the saved files, which the bridge writes into
the app's store. This module imports `ray`: only the bridge process and the cluster load it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import ray

from core import events, store, worker

CPUS = 2                  # what one job asks the cluster for: the cores a local trainer gets,
MEMORY = int(1.5 * 2**30)  # and the memory a worker needs at most (a CNN on CIFAR-10)
SEND_S = 0.2              # a task sends its new events and reads its stop flag this often
TEMP_PREFIX = "digitlab-ray-"   # a job's temporary models folder on its node


def node_address() -> str:
    """The address of the node this code runs on, as the cluster knows it."""
    return ray.util.get_node_ip_address()


@ray.remote(num_cpus=0, max_concurrency=1)
class Mailbox:
    """Each running job's events not yet read, its node, and its stop flag.

    One thread, so the calls of one caller (a task's sends) run in the order they were made.
    """

    def __init__(self):
        self.jobs: dict[str, dict] = {}

    def _box(self, job_id: str) -> dict:
        return self.jobs.setdefault(job_id, {"events": [], "node": None, "told": False,
                                             "stop": False})

    def open(self, job_id: str) -> None:
        self._box(job_id)

    def put(self, job_id: str, batch: list, node: dict | None = None) -> bool:
        """Keep a task's events (and where it runs, once); whether it is asked to stop."""
        box = self._box(job_id)
        box["events"] += batch
        box["node"] = node or box["node"]
        return box["stop"]

    def stop(self, job_id: str) -> None:
        if job_id in self.jobs:   # else it has ended (and was closed) already
            self.jobs[job_id]["stop"] = True

    def take_all(self) -> dict[str, tuple[dict | None, list]]:
        """Every job's new events, and its node the first time it is known."""
        mail = {}
        for job_id, box in self.jobs.items():
            node = box["node"] if box["node"] and not box["told"] else None
            if box["events"] or node:
                mail[job_id] = (node, box["events"])
                box["events"], box["told"] = [], box["told"] or node is not None
        return mail

    def close(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)


class Sender:
    """A task's line to the mailbox: every SEND_S a thread sends the events that came since
    (none, at times) and keeps the stop flag the mailbox answers with."""

    def __init__(self, job_id: str, mailbox, node: dict):
        self.job_id, self.mailbox, self.node = job_id, mailbox, node
        self.pending: list = []
        self.lock = threading.Lock()
        self.closing, self.stop_flag = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="digitlab-sender")
        self.thread.start()

    def put(self, event: events.Event) -> None:
        with self.lock:
            self.pending.append(event)

    def stopping(self) -> bool:
        return self.stop_flag.is_set()

    def close(self) -> None:
        """Send what is left, and return once the mailbox holds it."""
        self.closing.set()
        self.thread.join()
        self._send()

    def _send(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        try:
            asked = ray.get(self.mailbox.put.remote(self.job_id, batch, self.node))
        except ray.exceptions.RayError:   # the app's bridge is gone: nobody hears this job
            asked = True
        self.node = None   # said once
        if asked:
            self.stop_flag.set()

    def _loop(self) -> None:
        while not self.closing.wait(SEND_S):
            self._send()


def remove_stale_folders() -> None:
    """Remove the temporary folders that killed jobs left on this node (a killed worker
    cannot clean up), once they are as old as a save that cannot still be running."""
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime > store.STALE_TMP_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:   # another job removed it meanwhile
            pass


def saved_files(folder: Path) -> dict[str, bytes]:
    """Every file of a saved model folder, by its path inside the folder."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def run_job(job_id: str, spec, mailbox) -> dict:
    """Run one job's worker on this node; its events go to `mailbox`. Returns the saved
    model's files and the `done` event that names it ({} when nothing was saved): the app
    tells the page only once the files are in its own store."""
    sender = Sender(job_id, mailbox, {"ip": node_address(), "pid": os.getpid()})
    held: list[events.Event] = []

    def emit(event: events.Event) -> None:
        if event["type"] == "done" and event.get("model_id"):
            held.append(event)   # the app sends it on once the model is in its store
        else:
            sender.put(event)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported
    remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as models:
        os.environ["DIGITLAB_MODELS"] = models   # core.store saves here, on this node
        try:
            worker.run_training(spec, emit, sender.stopping)
        except Exception as e:  # reported, never swallowed: the page shows it
            sender.put(events.failed(f"{type(e).__name__}: {e}"))
        finally:
            sender.close()
        if not held:
            return {}
        return {"done": held[0], "files": saved_files(Path(models) / held[0]["model_id"])}


@ray.remote(num_cpus=CPUS, memory=MEMORY, max_retries=0)   # a node that dies: a failed job
def train(job_id: str, spec, mailbox) -> dict:
    """A job whose worker process may take the next one (a Logistic Regression's: it keeps
    scikit-learn imported)."""
    return run_job(job_id, spec, mailbox)


@ray.remote(num_cpus=CPUS, memory=MEMORY, max_retries=0, max_calls=1)
def train_fresh(job_id: str, spec, mailbox) -> dict:
    """A job whose worker process exits after it (a CNN's or the speed check's: the node
    gets TensorFlow's memory back)."""
    return run_job(job_id, spec, mailbox)


@ray.remote(num_cpus=CPUS, memory=MEMORY, max_retries=0)
def warm_up() -> str:
    """Import what a Logistic Regression job imports, so the first job on a fresh worker
    does not wait for it; returns this node's address."""
    import sklearn.linear_model  # noqa: F401
    import skops.io  # noqa: F401

    return node_address()
