"""Training jobs in worker processes: progress events (core.events), stop, one result.

The Streamlit server holds one `JobRunner` (in `st.cache_resource`). `start(spec)` spawns
a fresh process that imports TensorFlow / scikit-learn itself and runs
`core.worker.run_training`; a thread in the server reads its events into a `Job` that
pages only read. So training survives reruns and page switches, and TensorFlow never
enters the server. With 2 cores, one job runs at a time; a second `start` raises `Busy`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from core import events
from core.datasets import info
from core.kinds import Spec, speed_cases, speed_key
from core.processes import name_this_process, start_process

STOP_GRACE_S = 1.5   # after this, a job asked to stop is terminated
KEEP_ENDED = 50      # finished jobs remembered (for their pages); older ones are forgotten
ACTIVE = ("starting", "running", "stopping")


class Busy(Exception):
    """Another job is running; `job` is that job."""

    def __init__(self, job: "Job"):
        super().__init__(f"{job.title} is already training (started {job.age_text} ago)")
        self.job = job


@dataclass
class Job:
    """What the server knows about one training run; updated by the runner's reader thread."""

    id: str
    spec: Spec
    owner: str | None = None
    status: str = "starting"     # starting, running, stopping | done, stopped, failed
    message: str = "Starting a worker process"
    history: list[dict] = field(default_factory=list)   # one dict per finished epoch
    epoch_fraction: float = 0.0                         # progress inside the current epoch
    n_train: int | None = None                          # images per epoch, once known
    learned: np.ndarray | None = None                   # the last epoch's events.Epoch "learned"
    model_id: str | None = None
    test_accuracy: float | None = None
    train_seconds: float | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None

    @property
    def title(self) -> str:
        if self.is_speed_check:
            return "Speed check"
        return f"{self.spec.title} on {info(self.spec.dataset).title}"

    @property
    def class_names(self) -> tuple[str, ...]:
        """The names of the classes this job's model learns to tell apart."""
        return info(self.spec.dataset).class_names

    @property
    def is_speed_check(self) -> bool:
        return self.spec.kind == "speed"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def epochs(self) -> int:
        return 0 if self.is_speed_check else self.spec.epochs

    @property
    def progress(self) -> float:
        """0..1 over the whole run: finished epochs plus the share of the current one."""
        if not self.epochs:  # a speed check has no epochs
            return 0.0
        done = len(self.history)
        part = self.epoch_fraction if done < self.epochs else 0.0
        return min(1.0, (done + part) / self.epochs)

    @property
    def seconds(self) -> float:
        return (self.ended_at or time.time()) - self.started_at

    @property
    def age_text(self) -> str:
        return f"{self.seconds:.0f} s"

    @property
    def eta_seconds(self) -> float | None:
        """Remaining time from the mean epoch time so far, or None before the first epoch."""
        if not self.history or not self.active:
            return None
        per_epoch = sum(h["seconds"] for h in self.history) / len(self.history)
        return per_epoch * (self.epochs - len(self.history) - self.epoch_fraction)

    @property
    def images_per_s(self) -> float | None:
        if not self.history or not self.n_train:
            return None
        return self.n_train / self.history[-1]["seconds"]

    def apply(self, event: events.Event) -> None:
        """Fold one event from the worker into this job's state."""
        kind = event["type"]
        if kind == "status":
            self.message = event["message"]
            self.status = "stopping" if self.status == "stopping" else "running"
            self.n_train = event.get("n_train", self.n_train)
        elif kind == "speed":
            self.message = "Measuring this machine's speed"
        elif kind == "progress":
            self.epoch_fraction = event["fraction"]
        elif kind == "epoch":
            self.history.append(events.curve_point(event))
            self.learned = event.get("learned", self.learned)
            self.epoch_fraction = 0.0
            self.message = f"Epoch {event['epoch']} of {self.epochs} done"
        elif kind in ("done", "stopped", "failed"):
            self.status = kind
            self.model_id = event.get("model_id")
            self.test_accuracy = event.get("test_accuracy")
            self.train_seconds = event.get("train_seconds")
            self.error = event.get("error")
            self.message = {"done": "Finished" if self.is_speed_check else "Finished and saved",
                            "stopped": "Stopped; nothing was saved",
                            "failed": f"Failed: {event.get('error')}"}[kind]
            self.ended_at = time.time()


def _child(spec: Spec, channel, stop_flag, models_root: str | None) -> None:
    """Entry point of the worker process."""
    name_this_process()
    if models_root:
        os.environ["DIGITLAB_MODELS"] = models_root
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported
    from core import worker  # imported here: only the worker pays for TensorFlow

    try:
        worker.run_training(spec, channel.put, stop_flag.is_set)
    except BaseException as e:  # reported, never swallowed: the page shows it
        channel.put(events.failed(f"{type(e).__name__}: {e}"))


class JobRunner:
    """Runs at most one training job at a time and keeps every job's state for the pages."""

    def __init__(self, models_root: str | os.PathLike | None = None):
        self.models_root = str(models_root) if models_root else os.environ.get("DIGITLAB_MODELS")
        self.ctx = mp.get_context("spawn")   # never fork a threaded server
        self.jobs: dict[str, Job] = {}
        self._processes: dict[str, mp.Process] = {}
        self._stop_flags: dict[str, object] = {}
        self._lock = threading.Lock()
        self.speeds: dict[str, float] = {}   # speed key -> training images/s measured here
        self.startup_s: float | None = None  # seconds a CNN job takes to load TensorFlow

    def current(self) -> Job | None:
        """The training job that is running now, if any (a speed check does not count)."""
        return next((j for j in self.jobs.values() if j.active and not j.is_speed_check), None)

    def speed_check(self) -> Job | None:
        """The speed check that is running now, if any."""
        return next((j for j in self.jobs.values() if j.active and j.is_speed_check), None)

    def check_speed(self, dataset: str = "mnist") -> None:
        """Measure how fast this machine trains each model on images of `dataset`'s shape
        (~20 s in a worker), once per shape, when idle.

        It only runs while nothing else trains, so its numbers are not shared-CPU numbers;
        a training job started meanwhile ends it, and measures its own speed instead.
        """
        shape = info(dataset).shape
        known = self.speeds.keys() >= {speed_key(s) for s in speed_cases(dataset)}
        tried = any(j.is_speed_check and j.status in ("done", "failed")
                    and info(j.spec.dataset).shape == shape for j in self.jobs.values())
        if known or tried or any(j.active for j in self.jobs.values()):
            return  # a check stopped to make way for a job is tried again; a failed one is not
        try:
            self.start(Spec("speed", dataset))
        except Busy:
            pass

    def estimate(self, spec: Spec, n_train: int) -> float | None:
        """Seconds `spec` should take to train on `n_train` images here, or None if unmeasured."""
        speed = self.speeds.get(speed_key(spec))
        if speed is None:
            return None
        startup = (self.startup_s or 0.0) if spec.kind == "cnn" else 0.0
        return startup + spec.epochs * n_train / speed

    def latest(self, owner: str | None) -> Job | None:
        """The newest job started by `owner`."""
        mine = [j for j in self.jobs.values() if j.owner == owner]
        return max(mine, key=lambda j: j.started_at) if mine else None

    def start(self, spec: Spec, owner: str | None = None) -> Job:
        """Start training `spec` in a new worker process, or raise Busy."""
        with self._lock:
            running = self.current()
            if running is not None:
                raise Busy(running)
            checking = self.speed_check()
            if checking is not None:  # a person's job comes first; the check can wait
                self._stop_flags[checking.id].set()
                self._processes[checking.id].kill()
            self._forget_old_jobs()
            job = Job(uuid.uuid4().hex[:8], spec, owner)
            channel, stop_flag = self.ctx.Queue(), self.ctx.Event()
            role = "speed" if job.is_speed_check else "train"
            process = start_process(self.ctx, _child, f"digitlab-{role}-{job.id}",
                                    (job.spec, channel, stop_flag, self.models_root))
            self.jobs[job.id] = job
            self._processes[job.id], self._stop_flags[job.id] = process, stop_flag
        threading.Thread(target=self._follow, args=(job, process, channel), daemon=True,
                         name=f"digitlab-follow-{job.id}").start()
        return job

    def _forget_old_jobs(self) -> None:
        ended = sorted((j for j in self.jobs.values() if not j.active), key=lambda j: j.started_at)
        for job in ended[:max(0, len(ended) - KEEP_ENDED)]:
            del self.jobs[job.id], self._processes[job.id], self._stop_flags[job.id]

    def stop(self, job_id: str) -> None:
        """Ask a job to stop; it is terminated if it has not ended within STOP_GRACE_S."""
        job = self.jobs[job_id]
        if not job.active:
            return
        job.status, job.message = "stopping", "Stopping…"
        self._stop_flags[job_id].set()
        process = self._processes[job_id]

        def enforce():
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.terminate()
        threading.Thread(target=enforce, daemon=True).start()

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job has ended (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self.jobs[job_id]
        while job.active:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout} s")
            time.sleep(0.05)
        return job

    def shutdown(self) -> None:
        """Stop every running job (server exit, test teardown)."""
        for job_id, process in self._processes.items():
            self._stop_flags[job_id].set()
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.kill()

    def _learn_speed(self, job: Job, event: events.Event) -> None:
        """Keep what a speed check measured, and the speed of every finished epoch."""
        if event["type"] == "speed":
            if "startup_s" in event:
                self.startup_s = event["startup_s"]
            else:
                self.speeds[event["key"]] = event["images_per_s"]
        elif event["type"] == "epoch" and job.images_per_s:
            self.speeds[speed_key(job.spec)] = job.images_per_s

    def _follow(self, job: Job, process, channel) -> None:
        """Reader thread: apply the worker's events until it ends, then settle the outcome."""
        while True:
            try:
                event = channel.get(timeout=0.2)
                job.apply(event)
                self._learn_speed(job, event)
                continue
            except queue.Empty:
                pass
            except (EOFError, OSError):  # the queue broke because the process was killed
                pass
            if not process.is_alive():
                break
        while True:  # drain what the worker wrote just before it exited
            try:
                job.apply(channel.get(timeout=0.05))
            except (queue.Empty, EOFError, OSError):
                break
        process.join()
        if job.active:
            if self._stop_flags[job.id].is_set():
                job.apply(events.stopped())
            else:
                code = process.exitcode
                why = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
                job.apply(events.failed(f"the training worker ended unexpectedly ({why})"))
        channel.close()
