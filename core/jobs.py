"""Training jobs: started in turn from the fair queue, followed to one result, shared.

The Streamlit server holds one `JobRunner` (in `st.cache_resource`). `start(spec)` puts a job
in the queue (core/fair_queue.py: people take turns) or joins the same run if one is waiting
or training; when a trainer is free the executor (core/executors.py) starts the next job's
worker, which imports TensorFlow / scikit-learn itself and runs `core.worker.run_training`;
a thread in the server reads its events into a `Job` (core/job.py) that pages only read. So
training survives reruns and page switches, and TensorFlow never enters the server. As many
jobs train at once as the executor has slots (core/trainers.py). The queue lives in memory.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from core import costs, data, events, fair_queue, own_training, store, trainers, worker
from core.datasets import timed_as
from core.executors import Executor, LocalExecutor, Run, run_worker
from core.fair_queue import AlreadyTrained, FairQueue, QueueFull  # noqa: F401 (pages catch them)
from core.job import GOING, Job
from core.kinds import Spec, speed_cases

STOP_GRACE_S = 1.5   # after this, a job asked to stop is terminated
KEEP_ENDED = 50      # finished jobs remembered (for their pages); older ones are forgotten
JOINABLE = ("queued", *GOING)   # a Start of the same run joins a job in these


class TrainerBusy(Exception):
    """Every trainer kept training while a short task waited to borrow one's memory."""

    def __init__(self, seconds_left: float | None):
        super().__init__(seconds_left)
        self.seconds_left = seconds_left


class JobRunner:
    """Trains up to `slots()` jobs at once, takes the others from the fair queue as trainers
    free up, and keeps every job's state for the pages."""

    def __init__(self, models_root: str | os.PathLike | None = None, worker=run_worker,
                 executor: Executor | None = None):
        """Jobs run on `executor` (by default local processes running `worker(spec, channel,
        stop_flag, models_root)`, core.executors.run_worker) and save into `models_root`."""
        self._models_root = str(models_root) if models_root else None
        self.executor = executor or LocalExecutor(worker)
        self.jobs: dict[str, Job] = {}
        self.runs: dict[str, Run] = {}       # each started job's worker (core.executors)
        self.queue = FairQueue()             # waiting jobs (iterating gives the next first)
        self._training: set[str] = set()     # jobs whose worker has not ended yet
        self._lent = 0                       # trainer slots lent to short tasks
        self._lock = threading.RLock()
        self.costs = costs.CostModel()       # what jobs cost on this machine (core.costs)

    def slots(self) -> int:
        """How many jobs may train at once now (at least one)."""
        return max(1, self.executor.slots())

    def training(self) -> list[Job]:
        """The training jobs that are running now, the first started first (no speed check)."""
        active = [j for j in self.jobs.values() if j.active and not j.is_speed_check]
        return sorted(active, key=lambda j: j.started_at)

    def current(self) -> Job | None:
        """The training job that started first of those running now, if any."""
        return next(iter(self.training()), None)

    def speed_check(self) -> Job | None:
        """The speed check that is running now, if any (not one a job has just ended)."""
        return next((j for j in self.jobs.values() if j.is_speed_check and j.status in GOING), None)

    def check_speed(self, dataset: str = "mnist") -> None:
        """Measure each model's cost on `dataset`'s image shape (core.speed_check), once a shape,
        on a built-in set, while nothing trains (a job ends it), if trainers.speed_check_on()."""
        done, total = self.costs.progress(speed_cases(dataset := timed_as(dataset)))
        tried = any(j.is_speed_check and j.status in ("done", "failed")
                    and j.spec.dataset == dataset for j in self.jobs.values())
        with self._lock:
            if (done == total or tried or self.queue or self._lent
                    or any(j.active for j in self.jobs.values()) or not trainers.speed_check_on()):
                return  # a check stopped to make way for a job is tried again; a failed one not
            self._launch(Job(uuid.uuid4().hex[:8], Spec("speed", dataset)))

    models_root = property(lambda r: r._models_root or os.environ.get("DIGITLAB_MODELS"),
                           doc="Where jobs save: the folder given, else DIGITLAB_MODELS now.")
    speeds = property(lambda r: r.costs.speeds, lambda r, v: setattr(r.costs, "speeds", v))
    startup_s = property(lambda r: r.costs.startup_s, lambda r, v: setattr(r.costs, "startup_s", v))

    def estimate(self, spec: Spec, n_train: int | None = None) -> float | None:
        """Seconds `spec` should take here, launch to saved, on `n_train` images an epoch (by
        default the training part of `spec.train_size`), or None (costs.estimate: a range)."""
        return (self.costs.estimate(spec, n_train or worker.images_per_epoch(spec)) or [None])[0]

    def latest(self, owner: str | None) -> Job | None:
        """The job `owner` started, joined or opened most recently that has left the queue."""
        mine = [j for j in self.jobs.values() if j.is_for(owner) and not j.waiting
                and j.status != "cancelled"]
        return max(mine, key=lambda j: j.since(owner)) if mine else None

    def waiting(self, owner: str | None = None) -> list[Job]:
        """Jobs in the queue, the next to start first (only `owner`'s, started or joined)."""
        return self.queue.order() if owner is None else self.queue.of(owner)

    def place(self, job: Job) -> int | None:
        """A waiting job's place in line (1 starts next), or None if it is not waiting."""
        return self.queue.place(job)

    def starts_in(self, job: Job) -> float | None:
        """Roughly how many seconds until a waiting job starts, from the speeds measured here
        and the trainers' jobs, or None when a job before it has no estimate yet."""
        order = self.queue.order()
        if job not in order:
            return None
        durations = [self.estimate(j.spec) for j in order[:order.index(job) + 1]]
        free = fair_queue.free_in([self._left(j) for j in self.training()], self._lent, self.slots())
        return fair_queue.start_times(free, durations)[-1]

    def _left(self, job: Job) -> float | None:
        """Roughly how many seconds a running job has left, or None before it can tell."""
        if job.eta_seconds is not None:
            return job.eta_seconds
        estimate = self.estimate(job.spec)
        return None if estimate is None else max(0.0, estimate - job.seconds)

    def time_left(self) -> float | None:
        """Roughly the seconds until the first running job ends (0: none runs; None: unknown)."""
        lefts = [self._left(j) for j in self.training()]
        return min((s for s in lefts if s is not None), default=None) if lefts else 0.0

    @contextmanager
    def lend(self, wait_s: float):
        """Lend one trainer's slot to a short task in another heavy worker (checking an uploaded
        model): wait up to `wait_s` for a slot to be free (a training worker to exit, when all
        train), keep that slot from waiting jobs meanwhile, and start them after. TrainerBusy
        when none is free then, or at once when every running job is known to need longer."""
        with self._lock:
            self._lent += 1
        try:
            deadline = time.monotonic() + wait_s
            while len(self._training) + self._lent > self.slots():
                left = self.time_left()
                if time.monotonic() > deadline or (left or 0) > deadline - time.monotonic():
                    raise TrainerBusy(left)
                time.sleep(0.1)
            yield
        finally:
            with self._lock:
                self._lent -= 1
                self._start_next()

    def start(self, spec: Spec, owner: str | None = None, unless_finished: bool = False) -> Job:
        """Train `spec` (see start_all): its job, new or joined."""
        return self.start_all([spec], owner, unless_finished)[0]

    def start_all(self, specs: list[Spec], owner: str | None = None,
                  unless_finished: bool = False) -> list[Job]:
        """Train `specs`, in this order, in `owner`'s turns: each joins the same run if one is
        waiting or training (core.fair_queue.definition), else is a new job that starts when a
        trainer is free. All are taken or none: QueueFull says why; with `unless_finished`,
        AlreadyTrained when some are runs already in the store (the page offers them)."""
        with self._lock:
            joined = [self._joinable(spec) for spec in specs]
            if unless_finished:
                done = [(s, m) for s, j in zip(specs, joined) if j is None
                        and (m := self.finished(s)) is not None]
                if done:
                    raise AlreadyTrained(done)
            new = [Job(uuid.uuid4().hex[:8], spec, owner, status="queued",
                       message="Waiting for a trainer") for spec, j in zip(specs, joined) if j is None]
            free = self.slots() - len(self._training) - self._lent - len(self.queue)
            self.queue.check_room(owner, len(new) - max(0, free))
            for job in new:
                self.jobs[job.id] = job
            self.queue.add(new)
            for spec, job in zip(specs, joined):
                if job is not None:
                    self._join(job, spec, owner)
            self._start_next()
            made = iter(new)
            return [job or next(made) for job in joined]

    def _joinable(self, spec: Spec) -> Job | None:
        """The waiting or training job that is the run `spec` defines, if any."""
        wanted = fair_queue.definition(spec)
        return next((j for j in self.jobs.values() if j.status in JOINABLE
                     and fair_queue.definition(j.spec) == wanted), None)

    @staticmethod
    def _join(job: Job, spec: Spec, owner: str | None) -> None:
        """Make `job` `owner`'s too (nothing when it is theirs already)."""
        if owner is not None and not job.is_for(owner):
            job.joiners[owner] = time.time()
        if spec.experiment and spec.experiment != job.spec.experiment:
            job.also_in.add(spec.experiment)

    def stored(self) -> list[store.ModelInfo]:
        """The models in this runner's store (built-ins too)."""
        return store.list_models(Path(self.models_root) if self.models_root else None)[0]

    def finished(self, spec: Spec) -> store.ModelInfo | None:
        """The stored model that is the run `spec` defines, on the data this server has now."""
        return fair_queue.finished(spec, data.source_here(spec.dataset), self.stored())

    def again(self, spec: Spec) -> Spec:
        """`spec` with a seed that no stored, waiting or training run of its settings has."""
        runs = [(m.kind, m.dataset, m.meta.get("settings", {})) for m in self.stored()
                if not m.uploaded]
        runs += [(j.spec.kind, j.spec.dataset, j.spec.settings()) for j in self.jobs.values()
                 if j.status in JOINABLE]
        return spec.replace(seed=max(fair_queue.seeds_taken(spec, runs)) + 1)

    def open(self, model: store.ModelInfo, owner: str | None) -> Job:
        """Show a finished run from the store as `owner`'s latest job: the job that trained it
        if it is still remembered, else a record made from its meta.json."""
        with self._lock:
            job = next((j for j in self.jobs.values() if j.model_id == model.id), None)
            if job is None:
                job = Job.from_model(model)
                self._forget_old_jobs()
                self.jobs[job.id] = job
            if owner is not None and owner != job.owner:
                job.joiners[owner] = time.time()
            return job

    def cancel(self, job_id: str, owner: str | None = None) -> None:
        """Take a waiting job out of the queue (it never starts), or stop a running one; when
        `owner` joined it, or started it and others wait for it too, `owner` only leaves it."""
        with self._lock:
            job = self.jobs[job_id]
            if owner in job.joiners or (owner == job.owner and job.waiting and job.joiners):
                self.leave(job_id, owner)
                return
            if job in self.queue:
                self.queue.remove(job)
                job.status, job.message, job.ended_at = "cancelled", "Cancelled before it started", time.time()
                return
        self.stop(job_id)

    def leave(self, job_id: str, owner: str) -> None:
        """`owner` no longer wants this job; it goes on for the others. A waiting job whose
        starter leaves becomes the job of whoever joined it first (with its place in line)."""
        with self._lock:
            job = self.jobs[job_id]
            if owner in job.joiners:
                del job.joiners[owner]
            elif owner == job.owner and job.waiting and job.joiners:
                job.owner = min(job.joiners, key=job.joiners.get)
                del job.joiners[job.owner]

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

    def _start_next(self) -> None:
        """Start waiting jobs, in the queue's order, while a trainer slot is free and not lent
        (called whenever a job ends: never more workers than slots hold memory at once)."""
        with self._lock:
            while self.queue and len(self._training) + self._lent < self.slots():
                self._launch(self.queue.pop())

    def _launch(self, job: Job) -> None:
        """Start `job`'s worker on the executor (the lock is held)."""
        if (checking := self.speed_check()) is not None and not job.is_speed_check:
            checking.status = "stopping"   # a person's job comes first: the check ends now
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

    def _take(self, job: Job, event: events.Event, run: Run) -> None:
        self._learn_speed(job, event, run)   # first: a saved run shows with its times kept
        job.apply(event)

    def _learn_speed(self, job: Job, event: events.Event, run: Run) -> None:
        """Keep what a speed check measured, and what a saved job's whole time teaches (its
        estimated and real seconds, launch to saved, kept in its meta.json too, with where
        it trained); a dataset a person made is marked trained."""
        if event["type"] == "speed":
            self.costs.learn_check_event(job.spec.dataset, event, job.seconds - run.waited_s)
        elif event["type"] == "done" and event.get("model_id"):
            job.trained_on, seconds, facts = run.where, time.time() - job.started_at, {}
            if job.n_train:
                self.costs.learn_job(job.spec, job.n_train, job.history, seconds - run.waited_s)
                facts = costs.times(job.estimate, seconds)
            store.add_to_meta(event["model_id"], facts | {"trained_on": run.where},
                              root=self.models_root)
            own_training.note_trained(job.spec.dataset)   # a made dataset: kept a day at least

    def _follow(self, job: Job, run: Run) -> None:
        """Reader thread: apply the worker's events until it ends, settle the outcome, and
        start the next waiting job whatever happened to this one."""
        try:
            for event in run.events():
                self._take(job, event, run)
            if job.active:
                job.apply(events.stopped() if run.stop_requested else events.failed(
                    f"the training worker ended unexpectedly ({run.failure()})"))
        finally:
            with self._lock:
                self._training.discard(job.id)
                self._start_next()

