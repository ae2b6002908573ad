"""Where a job's worker runs: an executor starts it and hands its events back.

`JobRunner` (core/jobs.py) decides which job goes next; an executor's `launch` starts that
job's worker (`core.worker.run_training`, the same function everywhere) and returns a `Run`
the runner reads events from and can stop. `LocalExecutor` starts a process on this
machine; core/ray_executor.py runs the same worker as a Ray task on a cluster.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from core import events, trainers, worker
from core.kinds import Spec
from core.processes import (
    ending,
    is_warm,
    name_this_process,
    start_process,
    warm_up,
    worker_context,
)


class Run(Protocol):
    """One job's worker, wherever it runs."""

    where: str   # "local", or the address of the cluster node it runs on
    waited_s: float   # seconds its start waited on something once a server (the forkserver's
    #                   first imports): part of this job's time, not a cost of the next jobs

    def events(self) -> Iterator[events.Event]:
        """Each event the worker sends, in order, until it has ended and all were read."""

    def stop(self, grace_s: float) -> None:
        """Ask the worker to stop; end it if it has not ended within `grace_s` seconds."""

    def kill(self) -> None:
        """End the worker now (a speed check making way for a person's job)."""

    @property
    def stop_requested(self) -> bool:
        """Whether `stop` was called (an ending without a result is then "stopped")."""

    def failure(self) -> str:
        """After `events` ended: how the worker ended, in a few words ("killed by signal 9")."""


class Executor(Protocol):
    """Starts jobs' workers somewhere."""

    name: str    # for people: "this machine", "the Ray cluster at 10.0.0.5:6379"

    def slots(self) -> int:
        """How many jobs may train at once now."""

    def launch(self, job_id: str, spec: Spec, role: str, models_root: str | None) -> Run:
        """Start `spec`'s worker (`role` is "train" or "speed"); an exception if it cannot."""


def run_worker(spec: Spec, channel, stop_flag, models_root: str | None) -> None:
    """Entry point of a local worker process: train, send every event, exit at once."""
    name_this_process()
    if models_root:
        os.environ["DIGITLAB_MODELS"] = models_root
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported
    try:
        worker.run_training(spec, channel.put, stop_flag.is_set)
    except BaseException as e:  # reported, never swallowed: the page shows it
        channel.put(events.failed(f"{type(e).__name__}: {e}"))
    channel.close()
    channel.join_thread()   # every event is delivered, and the model was saved atomically:
    os._exit(0)             # skip TensorFlow's ~1 s of teardown, the next job is waiting


def in_thread_share(target: Callable, threads: int, *args) -> None:
    """Entry point of a local worker process: limit its threads to its trainer's share of the
    cores (before TensorFlow or scikit-learn loads), then run `target(*args)`."""
    trainers.limit_threads(threads)
    target(*args)


class LocalRun:
    """A worker in a process on this machine, its events on a multiprocessing queue. `start`
    starts the process: at once, or in the background while the forkserver's first imports
    are still going on (the page that started the job does not wait for them)."""

    where = "local"

    def __init__(self, start: Callable, channel, stop_flag, background: bool = False):
        self.channel, self._stop_flag = channel, stop_flag
        self.process, self._start_error, self._killed, self.waited_s = None, None, False, 0.0
        self._started, self._lock = threading.Event(), threading.Lock()
        if background:
            threading.Thread(target=self._start, args=(start,), daemon=True,
                             name="digitlab-start-worker").start()
        else:
            self.process = start()
            self._started.set()

    def _start(self, start: Callable) -> None:
        began = time.monotonic()
        try:
            process = start()
        except Exception as e:   # e.g. out of memory or processes: this job fails, says why
            process, self._start_error = None, e
        self.waited_s = time.monotonic() - began
        with self._lock:
            self.process = process
            if process is not None and self._killed:
                process.kill()
        self._started.set()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def stop_requested(self) -> bool:
        return self._stop_flag.is_set()

    def events(self) -> Iterator[events.Event]:
        self._started.wait()
        if self.process is None:
            return
        while True:
            try:
                yield self.channel.get(timeout=0.2)
                continue
            except queue.Empty:
                pass
            except (EOFError, OSError):  # the queue broke because the process was killed
                pass
            if not self.process.is_alive():
                break
        while True:  # drain what the worker wrote just before it exited
            try:
                yield self.channel.get(timeout=0.05)
            except (queue.Empty, EOFError, OSError):
                break
        self.process.join()
        self.channel.close()

    def stop(self, grace_s: float) -> None:
        self._stop_flag.set()

        def enforce():
            self._started.wait()
            if self.process is not None:
                self.process.join(grace_s)
                if self.process.is_alive():
                    self.process.terminate()
        threading.Thread(target=enforce, daemon=True).start()

    def kill(self) -> None:
        self._stop_flag.set()
        with self._lock:
            self._killed = True
            if self.process is not None:
                self.process.kill()

    def failure(self) -> str:
        if self.process is None:
            return f"it could not start: {self._start_error}"
        code = self.process.exitcode
        return ("killed by " if code and code < 0 else "") + ending(code)


class LocalExecutor:
    """Runs each job's worker in a fresh process on this machine (forked from the forkserver
    of core.processes), as many at once as core.trainers allows (DIGITLAB_TRAINERS, or what
    the memory and cores allow), each with its share of the cores."""

    name = "this machine"

    def __init__(self, target: Callable = run_worker, trainers_threads: tuple[int, int] | None = None):
        """`target(spec, channel, stop_flag, models_root)` runs in each job's process;
        `trainers_threads` is (trainers, threads each), by default core.trainers.configured()."""
        self.target = target
        self.trainers, self.threads = trainers_threads or trainers.configured()
        self.ctx = worker_context()
        warm_up()

    def slots(self) -> int:
        return self.trainers

    def launch(self, job_id: str, spec: Spec, role: str, models_root: str | None) -> LocalRun:
        channel, stop_flag = self.ctx.Queue(), self.ctx.Event()
        args = (self.target, self.threads, spec, channel, stop_flag, models_root)
        return LocalRun(lambda: start_process(self.ctx, in_thread_share,
                                              f"digitlab-{role}-{job_id}", args),
                        channel, stop_flag, background=not is_warm())
