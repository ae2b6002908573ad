"""Who trains next: a fair queue of waiting jobs, their places and start times, and which runs
are the same run (so that a Start joins it instead of training a second copy).

Plain data, no processes: core.jobs.JobRunner holds one FairQueue, takes the next job from it
when a trainer is free, and asks it where a job stands.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator

from core.job import Job
from core.kinds import Spec

MAX_WAITING_PER_OWNER = 5   # jobs one person (a browser session) may have started and waiting
MAX_WAITING = 60            # jobs waiting on the whole server: a class of 30, two each


class QueueFull(Exception):
    """The queue cannot take these jobs; the message says which limit and what to do."""


class AlreadyTrained(Exception):
    """Runs asked for are finished already: `runs` pairs each such spec with its stored model
    (a core.store.ModelInfo)."""

    def __init__(self, runs: list[tuple[Spec, object]]):
        super().__init__(", ".join(model.id for _, model in runs))
        self.runs = runs


def definition(spec: Spec) -> tuple:
    """What makes two runs the same run: the model they train. That is the kind, the dataset
    and its source, and every setting a saved model keeps (Spec.settings(): recipe, epochs,
    batch size, learning rate, schedule, augmentation, C, images used, seed); also
    `benchmark_peek`, which changes what the job reports. A sweep's `experiment` and `swept`
    are left out: they say who asked for the run and how to name it, not what it trains, so
    a sweep's run equal to one already training joins it (and a double-clicked sweep is
    queued once)."""
    return (spec.kind, spec.dataset, spec.source, spec.benchmark_peek,
            tuple(sorted(spec.settings().items())))


def finished(spec: Spec, source: str | None, models: Iterable) -> object | None:
    """The newest stored model (a core.store.ModelInfo) that is the run `spec` defines, trained
    on data `source` (the source this server trains `spec` on), or None."""
    if spec.benchmark_peek or spec.kind == "speed":
        return None
    same = [m for m in models if not m.uploaded and m.kind == spec.kind
            and m.dataset == spec.dataset and m.meta.get("settings") == spec.settings()
            and m.meta.get("dataset_source") == (spec.source or source)]
    return max(same, key=lambda m: m.created_at, default=None)


def seeds_taken(spec: Spec, runs: Iterable[tuple[str, str, dict]]) -> set[int]:
    """The seeds of `runs` ((kind, dataset, settings) of each) that differ from `spec` in their
    seed only, `spec`'s own included."""
    def but_seed(settings: dict) -> dict:
        return {k: v for k, v in settings.items() if k != "seed"}

    return {spec.seed} | {settings["seed"] for kind, dataset, settings in runs
                          if (kind, dataset) == (spec.kind, spec.dataset) and "seed" in settings
                          and but_seed(settings) == but_seed(spec.settings())}


def free_in(lefts: list[float | None], lent: int, slots: int) -> list[float]:
    """In how many seconds each of `slots` trainers is free (0 now, math.inf when unknown), from
    the seconds each running job has left (None when unknown) and `lent` slots lent out
    (short tasks, counted as free at once)."""
    busy = sorted([math.inf if s is None else s for s in lefts] + [0.0] * lent)
    return busy[len(busy) - slots:] if len(busy) >= slots else [0.0] * (slots - len(busy)) + busy


def start_times(free_in: list[float], durations: list[float | None]) -> list[float | None]:
    """When each job of a line starts, in seconds from now, given when each trainer is free
    (`free_in`: one number per trainer, math.inf when unknown) and each job's duration (None
    when unknown): a job starts when the first trainer is free. None where it is unknown."""
    slots = list(free_in) or [0.0]
    heapq.heapify(slots)
    starts = []
    for duration in durations:
        start = heapq.heappop(slots)
        starts.append(None if math.isinf(start) else start)
        heapq.heappush(slots, math.inf if duration is None else start + duration)
    return starts


class FairQueue:
    """Jobs waiting for a trainer, in the order they will start: people take turns (whoever was
    served least recently goes first, a newcomer before anyone served), and each person's jobs
    start in the order they were queued. A job belongs, for its turn, to whoever started it."""

    def __init__(self):
        self._waiting: list[Job] = []              # in the order they were queued
        self._served: dict[str | None, int] = {}   # owner -> the turn they were last served in
        self._turns = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Job]:
        return iter(self.order())

    def __contains__(self, job: object) -> bool:
        return job in self._waiting

    def add(self, jobs: list[Job]) -> None:
        self._waiting += jobs

    def remove(self, job: Job) -> None:
        self._waiting.remove(job)

    def order(self) -> list[Job]:
        """Every waiting job, the next to start first."""
        lines: dict[str | None, list[Job]] = {}
        for job in self._waiting:
            lines.setdefault(job.owner, []).append(job)
        arrival = {id(job): n for n, job in enumerate(self._waiting)}
        served, turn, ordered = dict(self._served), self._turns, []
        while lines:
            owner = min(lines, key=lambda o: (served.get(o, -1), arrival[id(lines[o][0])]))
            ordered.append(lines[owner].pop(0))
            if not lines[owner]:
                del lines[owner]
            turn += 1
            served[owner] = turn
        return ordered

    def pop(self) -> Job:
        """Take the next job out of the line (IndexError when none waits); its owner's turn."""
        job = self.order()[0]
        self._waiting.remove(job)
        self._turns += 1
        self._served[job.owner] = self._turns
        return job

    def place(self, job: Job) -> int | None:
        """A waiting job's place in line (1 starts next), or None if it is not waiting."""
        order = self.order()
        return order.index(job) + 1 if job in order else None

    def of(self, owner: str | None) -> list[Job]:
        """The jobs waiting for `owner` (started or joined), the next to start first."""
        return [job for job in self.order() if job.is_for(owner)]

    def find(self, spec: Spec) -> Job | None:
        """The waiting job that is the run `spec` defines, if any."""
        wanted = definition(spec)
        return next((job for job in self._waiting if definition(job.spec) == wanted), None)

    def check_room(self, owner: str | None, more: int) -> None:
        """QueueFull unless `owner` may start `more` jobs that will wait, besides those waiting."""
        if more <= 0:
            return
        mine = sum(job.owner == owner for job in self._waiting)
        if mine + more > MAX_WAITING_PER_OWNER:
            raise QueueFull(f"You can have at most {MAX_WAITING_PER_OWNER} jobs waiting; you "
                            f"have {mine}, and this would add {more}. Cancel one, or wait "
                            "for yours to start.")
        if len(self._waiting) + more > MAX_WAITING:
            raise QueueFull(f"The queue of this server is full ({len(self._waiting)} jobs "
                            f"waiting, at most {MAX_WAITING}). Try again when some have "
                            "started.")
