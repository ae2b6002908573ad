"""Training jobs: the queue, who trains next, progress events (core.events), stop, one result.

The Streamlit server holds one `JobRunner` (in `st.cache_resource`). `start(spec)` has an
executor (core/executors.py) start a worker that imports TensorFlow / scikit-learn itself
and runs `core.worker.run_training`; a thread in the server reads its events into a `Job`
(core/job.py) that pages only read. So training survives reruns and page switches, and
TensorFlow never enters the server. One job trains at a time (a worker holds ~1.1 GiB, and
there are 2 cores); a job started meanwhile waits in a first-in-first-out queue and starts by itself.
The queue lives in this process's memory: a server restart forgets it.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import contextmanager

from core import costs, events, store, worker
from core.datasets import info
from core.executors import Executor, LocalExecutor, Run, run_worker
from core.job import Job
from core.kinds import Spec, speed_cases

STOP_GRACE_S = 1.5   # after this, a job asked to stop is terminated
KEEP_ENDED = 50      # finished jobs remembered (for their pages); older ones are forgotten
MAX_WAITING_PER_OWNER = 5   # jobs one browser session may have waiting in the queue
MAX_WAITING = 20            # jobs waiting in the queue of the whole server


class QueueFull(Exception):
    """The queue cannot take these jobs; the message says which limit and what to do."""


class TrainerBusy(Exception):
    """A job kept training while a short task waited to borrow its memory."""

    def __init__(self, seconds_left: float | None):
        super().__init__(seconds_left)
        self.seconds_left = seconds_left


class JobRunner:
    """Trains one job at a time, queues the others first in, first out, and keeps every
    job's state for the pages."""

    def __init__(self, models_root: str | os.PathLike | None = None, worker=run_worker,
                 executor: Executor | None = None):
        """Jobs run on `executor` (by default local processes running `worker(spec, channel,
        stop_flag, models_root)`, core.executors.run_worker) and save into `models_root`."""
        self.models_root = str(models_root) if models_root else os.environ.get("DIGITLAB_MODELS")
        self.executor = executor or LocalExecutor(worker)
        self.jobs: dict[str, Job] = {}
        self.runs: dict[str, Run] = {}       # each started job's worker (core.executors)
        self.queue: list[Job] = []           # waiting jobs, the next to start first
        self._training: set[str] = set()     # jobs whose worker process has not exited yet
        self._lent = 0                       # short tasks holding the trainer's memory
        self._lock = threading.RLock()
        self.costs = costs.CostModel()       # what jobs cost on this machine (core.costs)

    def current(self) -> Job | None:
        """The training job that is running now, if any (a speed check does not count)."""
        return next((j for j in self.jobs.values() if j.active and not j.is_speed_check), None)

    def speed_check(self) -> Job | None:
        """The speed check that is running now, if any."""
        return next((j for j in self.jobs.values() if j.active and j.is_speed_check), None)

    def check_speed(self, dataset: str = "mnist") -> None:
        """Measure what each model costs here on `dataset`'s image shape (core.worker.measure_speed,
        defaults first), once per shape, only while nothing trains: a job started meanwhile ends it."""
        shape, (done, total) = info(dataset).shape, self.costs.progress(speed_cases(dataset))
        tried = any(j.is_speed_check and j.status in ("done", "failed")
                    and info(j.spec.dataset).shape == shape for j in self.jobs.values())
        with self._lock:
            if (done == total or tried or self.queue or self._lent
                    or any(j.active for j in self.jobs.values())):
                return  # a check stopped to make way for a job is tried again; a failed one not
            self._launch(Job(uuid.uuid4().hex[:8], Spec("speed", dataset)))

    speeds = property(lambda r: r.costs.speeds, lambda r, v: setattr(r.costs, "speeds", v))
    startup_s = property(lambda r: r.costs.startup_s, lambda r, v: setattr(r.costs, "startup_s", v))

    def estimate(self, spec: Spec, n_train: int | None = None) -> float | None:
        """Seconds `spec` should take here, launch to saved, on `n_train` images an epoch (by
        default the training part of `spec.train_size`), or None (costs.estimate: a range)."""
        return (self.costs.estimate(spec, n_train or worker.images_per_epoch(spec)) or [None])[0]

    def latest(self, owner: str | None) -> Job | None:
        """The newest job of `owner` that has left the queue (running or ended)."""
        mine = [j for j in self.jobs.values() if j.owner == owner and not j.waiting
                and j.status != "cancelled"]
        return max(mine, key=lambda j: j.started_at) if mine else None

    def waiting(self, owner: str | None = None) -> list[Job]:
        """Jobs in the queue, the next to start first (only `owner`'s when given)."""
        return [j for j in self.queue if owner is None or j.owner == owner]

    def place(self, job: Job) -> int | None:
        """A waiting job's place in line (1 starts next), or None if it is not waiting."""
        return self.queue.index(job) + 1 if job in self.queue else None

    def starts_in(self, job: Job) -> float | None:
        """Roughly how many seconds until a waiting job starts, from the speeds measured
        here, or None when a job ahead of it has no estimate yet."""
        place = self.place(job)
        if place is None:
            return None
        left = self.time_left()
        ahead = [self.estimate(j.spec) for j in self.queue[:place - 1]]
        if left is None or None in ahead:
            return None
        return left + sum(ahead)

    def time_left(self) -> float | None:
        """Roughly how many seconds the running job has left (0 when none runs), or None
        when it has no estimate yet."""
        running = self.current()
        if running is None:
            return 0.0
        if running.eta_seconds is not None:
            return running.eta_seconds
        estimate = self.estimate(running.spec)
        return None if estimate is None else max(0.0, estimate - running.seconds)

    @contextmanager
    def lend(self, wait_s: float):
        """Lend the trainer's memory to a short task in another heavy worker (checking an
        uploaded model): wait up to `wait_s` for the training worker to exit, keep waiting jobs
        waiting meanwhile, and start them after. TrainerBusy when it is still training then,
        or at once when the running job is known to need longer."""
        with self._lock:
            self._lent += 1
        try:
            deadline = time.monotonic() + wait_s
            while self._training:
                left = self.time_left()
                if time.monotonic() > deadline or (left or 0) > deadline - time.monotonic():
                    raise TrainerBusy(left)
                time.sleep(0.1)
            yield
        finally:
            with self._lock:
                self._lent -= 1
                self._start_next()

    def start(self, spec: Spec, owner: str | None = None) -> Job:
        """Train `spec` now if the trainer is free, else queue it; QueueFull if it cannot wait."""
        return self.start_all([spec], owner)[0]

    def start_all(self, specs: list[Spec], owner: str | None = None) -> list[Job]:
        """Train `specs` one after another, in this order, behind the jobs already queued:
        all are taken, or none (QueueFull says why)."""
        with self._lock:
            jobs = [Job(uuid.uuid4().hex[:8], spec, owner, status="queued",
                        message="Waiting for the trainer") for spec in specs]
            busy = bool(self._training or self.queue or self._lent)
            self._check_room(len(jobs) - (0 if busy else 1), owner)
            for job in jobs:
                self.jobs[job.id] = job
            self.queue += jobs
            self._start_next()
            return jobs

    def _check_room(self, more: int, owner: str | None) -> None:
        """QueueFull unless `more` jobs of `owner` can wait besides those already waiting."""
        if more <= 0:
            return
        mine = len(self.waiting(owner))
        if mine + more > MAX_WAITING_PER_OWNER:
            raise QueueFull(f"You can have at most {MAX_WAITING_PER_OWNER} jobs waiting; you "
                            f"have {mine}, and this would add {more}. Cancel one, or wait "
                            "for yours to start.")
        if len(self.queue) + more > MAX_WAITING:
            raise QueueFull(f"The queue of this server is full ({len(self.queue)} jobs "
                            f"waiting, at most {MAX_WAITING}). Try again when some have "
                            "started.")

    def _start_next(self) -> None:
        """Start the first waiting job once no training worker is left and nothing borrows
        its memory (called whenever a job ends: two workers never hold memory at once)."""
        with self._lock:
            if self.queue and not self._training and not self._lent:
                self._launch(self.queue.pop(0))

    def _launch(self, job: Job) -> None:
        """Start `job` in a new worker process (the lock is held)."""
        checking = self.speed_check()
        if checking is not None and not job.is_speed_check:  # a person's job comes first
            self.runs[checking.id].kill()
        self._forget_old_jobs()
        job.status, job.message, job.started_at = "starting", "Starting a worker process", time.time()
        job.estimate = self.costs.estimate(job.spec, worker.images_per_epoch(job.spec))
        self.jobs[job.id] = job
        role = "speed" if job.is_speed_check else "train"
        try:
            run = self.executor.launch(job.id, job.spec, role, self.models_root)
        except Exception as e:   # e.g. out of memory or processes: this job fails, not the queue
            job.apply(events.failed(f"the training worker could not start ({e})"))
            self._start_next()
            return
        self.runs[job.id] = run
        if not job.is_speed_check:
            self._training.add(job.id)
        threading.Thread(target=self._follow, args=(job, run), daemon=True,
                         name=f"digitlab-follow-{job.id}").start()

    def _forget_old_jobs(self) -> None:
        ended = sorted((j for j in self.jobs.values() if j.ended), key=lambda j: j.started_at)
        for job in ended[:max(0, len(ended) - KEEP_ENDED)]:
            del self.jobs[job.id]
            self.runs.pop(job.id, None)

    def cancel(self, job_id: str) -> None:
        """Take a waiting job out of the queue (it never starts), or stop a running one."""
        with self._lock:
            job = self.jobs[job_id]
            if job in self.queue:
                self.queue.remove(job)
                job.status, job.message, job.ended_at = "cancelled", "Cancelled before it started", time.time()
                return
        self.stop(job_id)

    def stop(self, job_id: str) -> None:
        """Ask a job to stop; it is terminated if it has not ended within STOP_GRACE_S."""
        job = self.jobs[job_id]
        if not job.active:
            return
        job.status, job.message = "stopping", "Stopping…"
        self.runs[job_id].stop(STOP_GRACE_S)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job has ended and its worker has exited (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self.jobs[job_id]
        while not job.ended or job_id in self._training:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout} s")
            time.sleep(0.05)
        return job

    def shutdown(self) -> None:
        """Cancel every waiting job and stop every running one (server exit, test teardown)."""
        for job in list(self.queue):
            self.cancel(job.id)
        running = [(self.jobs[i], run) for i, run in list(self.runs.items()) if i in self.jobs]
        for job, run in running:
            if job.active:
                run.stop(STOP_GRACE_S)
        deadline = time.monotonic() + STOP_GRACE_S + 1
        while self._training and time.monotonic() < deadline:
            time.sleep(0.05)

    def _take(self, job: Job, event: events.Event) -> None:
        self._learn_speed(job, event)   # first: a saved run shows with its times kept
        job.apply(event)

    def _learn_speed(self, job: Job, event: events.Event) -> None:
        """Keep what a speed check measured, and what a saved job's whole time teaches (its
        estimated and real seconds, launch to saved, kept in its meta.json too)."""
        if event["type"] == "speed":
            self.costs.learn_check_event(job.spec.dataset, event, job.seconds)
        elif event["type"] == "done" and event.get("model_id") and job.n_train:
            seconds = time.time() - job.started_at
            self.costs.learn_job(job.spec, job.n_train, job.history, seconds)
            store.add_to_meta(event["model_id"], costs.times(job.estimate, seconds),
                              root=self.models_root)

    def _follow(self, job: Job, run: Run) -> None:
        """Reader thread: apply the worker's events until it ends, settle the outcome, and
        start the next waiting job whatever happened to this one."""
        try:
            for event in run.events():
                self._take(job, event)
            if job.active:
                job.apply(events.stopped() if run.stop_requested else events.failed(
                    f"the training worker ended unexpectedly ({run.failure()})"))
        finally:
            with self._lock:
                self._training.discard(job.id)
                self._start_next()
