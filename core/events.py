"""What a training worker tells the server, one event at a time, through a multiprocessing queue.

The events are plain dicts (they cross a process boundary) whose shapes are written once,
here: the worker, core.cnn and core.logreg make them with these functions, and
core.jobs.Job.apply reads them.
"""

from __future__ import annotations

import math
from typing import Literal, NotRequired, TypedDict

import numpy as np


class Status(TypedDict):
    type: Literal["status"]
    message: str                 # what the worker is doing, for the page
    n_train: NotRequired[int]    # training images per epoch, once known


class Progress(TypedDict):
    type: Literal["progress"]
    epoch: int
    fraction: float              # share of the current epoch done


class Epoch(TypedDict):
    """One point of each training curve (the type keeps its old name, "epoch"): several per
    epoch (a Logistic Regression's round) in short runs, one at each epoch's end in long ones."""

    type: Literal["epoch"]
    epochs: int
    epoch: float                 # epochs done so far: 0.25, 0.5, ..., 2.0
    time: float                  # seconds since training began, validation included
    accuracy: float              # training metrics over the batches since the previous point
    loss: float
    val_accuracy: float          # on the whole validation split, the same images every time
    val_loss: float
    peek_accuracy: NotRequired[float]   # test accuracy at an epoch's end, only for benchmarks
    # What the model has learned so far, as float32 images (a few KB, shown live, never kept
    # in a history): a Logistic Regression's 10 x H x W (x 3) weights, a CNN's F x kh x kw (x 3) filters.
    learned: NotRequired[np.ndarray]


class Speed(TypedDict):
    """A speed check's measurement (core.costs): images/s of one speed key with the seconds timed,
    each epoch's own cost and the model's one-off extra (compile, export); or that the check is
    ready to time a kind (its data, for a CNN TensorFlow too, loaded in `startup_s`)."""

    type: Literal["speed"]
    kind: str                          # a key of core.kinds.KINDS
    key: NotRequired[str]
    images_per_s: NotRequired[float]
    timed_s: NotRequired[float]
    per_unit_s: NotRequired[float]
    extra_s: NotRequired[float]
    startup_s: NotRequired[float]


class Ended(TypedDict):
    """The last event of every job."""

    type: Literal["done", "stopped", "failed"]
    model_id: NotRequired[str]
    test_accuracy: NotRequired[float]
    train_seconds: NotRequired[float]
    error: NotRequired[str]


Event = Status | Progress | Epoch | Speed | Ended


def status(message: str, n_train: int | None = None) -> Status:
    event: Status = {"type": "status", "message": message}
    if n_train is not None:
        event["n_train"] = n_train
    return event


def progress(epoch: int, fraction: float) -> Progress:
    return {"type": "progress", "epoch": epoch, "fraction": fraction}


MIN_POINTS = 8   # every run draws at least this many points per curve


def points_per_epoch(epochs: int) -> int:
    """Curve points to measure in each epoch so that a run of `epochs` has MIN_POINTS."""
    return math.ceil(MIN_POINTS / max(1, epochs))


def point_steps(steps: int, points: int) -> list[int]:
    """After which of an epoch's `steps` (CNN batches, L-BFGS iterations) to measure its
    `points`: evenly spaced, the last at the epoch's end (fewer if it has fewer steps)."""
    return sorted({max(1, (steps * i + points // 2) // points) for i in range(1, points + 1)})


def epoch_text(epoch: float) -> str:
    """Epochs done as a person reads them: "2", "1.25", "0.33"."""
    return f"{round(epoch, 2):g}"


def epoch(point: dict, epochs: int, learned: np.ndarray | None = None) -> Epoch:
    """An Epoch event from a curve point (epoch, time, accuracy, loss, val_accuracy, val_loss).

    `learned`, when given, is what the model has learned so far, as images (see Epoch).
    """
    event: Epoch = {"type": "epoch", "epochs": epochs, **point}
    if learned is not None:
        event["learned"] = np.asarray(learned, dtype=np.float32)
    return event


NOT_CURVE = ("type", "epochs", "learned")


def curve_point(event: Epoch) -> dict:
    """The numbers of one curve point, as a model's history keeps them (plain JSON numbers)."""
    return {k: v for k, v in event.items() if k not in NOT_CURVE}


def speed(kind: str, key: str, images_per_s: float, timed_s: float, per_unit_s: float = 0.0,
          extra_s: float = 0.0) -> Speed:
    return {"type": "speed", "kind": kind, "key": key, "images_per_s": images_per_s,
            "timed_s": timed_s, "per_unit_s": per_unit_s, "extra_s": extra_s}


def startup(kind: str, seconds: float) -> Speed:
    return {"type": "speed", "kind": kind, "startup_s": seconds}


def done(model_id: str | None = None, test_accuracy: float | None = None,
         train_seconds: float | None = None) -> Ended:
    event: Ended = {"type": "done"}
    if model_id is not None:
        event |= {"model_id": model_id, "test_accuracy": test_accuracy,
                  "train_seconds": train_seconds}
    return event


def stopped() -> Ended:
    return {"type": "stopped"}


def failed(error: str) -> Ended:
    return {"type": "failed", "error": error}
