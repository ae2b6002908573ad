"""One training job as the server knows it: its spec, status, curve points and outcome.

Pages only read a Job; core.jobs.JobRunner's reader thread folds the worker's events
(core.events) into it with `apply`. A job is its starter's (`owner`) and, when others started
the same run meanwhile, theirs too (`joiners`): one run, trained once, shown to each of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from core import events
from core.datasets import info
from core.kinds import Spec

GOING = ("starting", "running")   # active and not asked to stop
ACTIVE = (*GOING, "stopping")
ENDED = ("done", "stopped", "failed", "cancelled")


@dataclass
class Job:
    """What the server knows about one training run; updated by the runner's reader thread."""

    id: str
    spec: Spec
    owner: str | None = None
    status: str = "starting"     # queued | starting, running, stopping | ENDED
    message: str = "Starting a worker process"
    history: list[dict] = field(default_factory=list)   # curve points (core.events.Epoch)
    epochs_done: float = 0.0                            # from the latest point or progress event
    n_train: int | None = None                          # images per epoch, once known
    learned: np.ndarray | None = None                   # the last point's events.Epoch "learned"
    model_id: str | None = None
    test_accuracy: float | None = None
    train_seconds: float | None = None
    error: str | None = None
    estimate: tuple[float, float, float] | None = None   # seconds (expected, low, high) at start
    queued_at: float = field(default_factory=time.time)
    started_at: float = field(default_factory=time.time)   # set again when it leaves the queue
    ended_at: float | None = None
    joiners: dict[str, float] = field(default_factory=dict)   # other people -> when they joined
    also_in: set[str] = field(default_factory=set)   # other sweeps (experiment ids) it is a run of
    trained_on: str | None = None   # where its worker ran: "local" or a cluster node's address
    opened: bool = False            # a finished run from the store, opened rather than trained

    @classmethod
    def from_model(cls, model) -> Job:
        """A finished job made from a stored model (a core.store.ModelInfo) and its meta.json,
        to show a run from the store as Train shows a finished job."""
        meta, fields = model.meta, set(Spec.__dataclass_fields__)
        spec = Spec(model.kind, model.dataset, **{k: v for k, v in meta.get("settings", {}).items()
                                                  if k in fields})
        history = model.history
        return cls(f"open-{model.id}", spec, None, status="done", message="Finished and saved",
                   history=history, epochs_done=history[-1]["epoch"] if history else 0.0,
                   n_train=meta.get("train_size"), model_id=model.id,
                   test_accuracy=meta.get("test_accuracy"),
                   train_seconds=meta.get("train_seconds"), ended_at=time.time(),
                   trained_on=meta.get("trained_on"), opened=True)

    def is_for(self, owner: str | None) -> bool:
        """Whether `owner` started this job or joined it."""
        return owner == self.owner or owner in self.joiners

    def since(self, owner: str | None) -> float:
        """When the job became `owner`'s to watch: when it left the queue, or when they joined
        it if that was later."""
        return max(self.started_at, self.joiners.get(owner, 0.0))

    def others(self, owner: str | None) -> int:
        """How many people besides `owner` this job is for."""
        people = {self.owner, *self.joiners} - {None}
        return len(people - {owner})

    def in_sweep(self, experiment: str) -> bool:
        """Whether this job is a run of sweep `experiment` (its own, or one that joined it)."""
        return self.spec.experiment == experiment or experiment in self.also_in

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
    def waiting(self) -> bool:
        return self.status == "queued"

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def epochs(self) -> int:
        return 0 if self.is_speed_check else self.spec.epochs

    @property
    def progress(self) -> float:
        """0..1 over the whole run: the epochs done, counting the share of the current one."""
        if not self.epochs:  # a speed check has no epochs
            return 0.0
        return min(1.0, self.epochs_done / self.epochs)

    @property
    def seconds(self) -> float:
        return (self.ended_at or time.time()) - self.started_at

    @property
    def age_text(self) -> str:
        return f"{self.seconds:.0f} s"

    @property
    def eta_seconds(self) -> float | None:
        """Remaining time from the time per epoch so far, or None before the first point."""
        if not self.history or not self.active:
            return None
        last = self.history[-1]
        return last["time"] / last["epoch"] * max(0.0, self.epochs - self.epochs_done)

    @property
    def images_per_s(self) -> float | None:
        """Training images per second so far, validation included (the time a run takes)."""
        if not self.history or not self.n_train:
            return None
        last = self.history[-1]
        return self.n_train * last["epoch"] / last["time"]

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
            self.epochs_done = max(self.epochs_done, event["epoch"] - 1 + event["fraction"])
        elif kind == "epoch":
            self.history.append(events.curve_point(event))
            self.learned = event.get("learned", self.learned)
            self.epochs_done = max(self.epochs_done, event["epoch"])
            self.message = f"{events.epoch_text(event['epoch'])} of {self.spec.units(self.epochs)} done"
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
