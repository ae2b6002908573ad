"""What finer training curves cost: the time validation takes, as a share of a run (issue 18).

    .venv/bin/python benchmarks/curves.py [--repeat 3]

Trains, in this process and as a training worker does, the Fast CNN recipe (2 epochs) and a
2-round Logistic Regression (C 0.1) on all 60,000 MNIST training images (54,000 train /
6,000 validation), each twice: with core.events.MIN_POINTS points per curve (what the app
does) and with one point per epoch (what it did before). For each run it prints the
training time and the seconds spent measuring its points (CNN: evaluating the 6,000
validation images; Logistic Regression: scoring all training and validation images). The
result is what the extra points add: validation seconds of the fine run less those of the
per-epoch run, as a share of the fine run (goal: at most 10 %), the median of `--repeat`
pairs of runs. The differences of the two runs' wall-clock and CPU times are printed too;
they are noisier (two runs on a shared machine; the CPU time less so).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import events, kinds, logreg, worker  # noqa: E402

GOAL = 0.10   # issue 18: the time finer curves add stays within 10 % of the run
FAST = kinds.recipe_spec("Fast")
LOGREG = kinds.Spec("logreg", "mnist", epochs=2, C=0.1)


@dataclass
class Run:
    points: int
    seconds: float            # the whole run, validation included
    measuring: float          # of which measuring the points
    cpu: float                # CPU seconds of this process over the run (all its threads)


@contextmanager
def timed(owner, name: str):
    """Replace `owner.name` with a version that adds its seconds to the list yielded."""
    original, spent = getattr(owner, name), []

    def timing(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    setattr(owner, name, timing)
    try:
        yield spent
    finally:
        setattr(owner, name, original)


@contextmanager
def curve_points(fine: bool):
    """Curves as the app draws them (fine) or with one point per epoch (as before issue 18)."""
    kept = events.MIN_POINTS
    events.MIN_POINTS = kept if fine else 1
    try:
        yield
    finally:
        events.MIN_POINTS = kept


def cnn_run(split, fine: bool) -> Run:
    """Train the Fast recipe as core.worker.train_cnn does, timing its validations."""
    from core import cnn

    x, y, xv, yv = split
    steps = math.ceil(len(y) / FAST.batch_size)
    model = cnn.build(FAST, FAST.epochs * steps)
    train = cnn.batches(x, y, FAST.batch_size, shuffle=True, seed=FAST.seed)
    val = cnn.Validation(xv, yv, cnn.validation_batch_size(FAST.batch_size, (28, 28, 1)))
    stats = cnn.PopulationStatistics(cnn.with_channels(x), seed=FAST.seed)
    points = []
    with curve_points(fine), timed(cnn.Progress, "validate") as spent:
        start, cpu = time.perf_counter(), time.process_time()
        cnn.fit(model, train, val, stats, FAST.epochs, steps,
                lambda e: points.append(e) if e["type"] == "epoch" else None, lambda: False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(len(points), seconds, sum(spent), cpu)


def logreg_run(split, fine: bool) -> Run:
    """Train the Logistic Regression as core.worker.train_logreg does, timing its scoring."""
    x, y, xv, yv = split
    points = []
    with curve_points(fine), timed(logreg, "scores") as spent:
        start, cpu = time.perf_counter(), time.process_time()
        logreg.fit_rounds(logreg.build(C=LOGREG.C, seed=LOGREG.seed), x, y, xv, yv,
                          LOGREG.epochs, lambda point, _: points.append(point),
                          points_per_round=events.points_per_epoch(LOGREG.epochs))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(len(points), seconds, sum(spent), cpu)


def added_share(fine: Run, coarse: Run) -> float:
    """What the points beyond one per epoch add: their measuring seconds over the fine run's."""
    return (fine.measuring - coarse.measuring) / fine.seconds


def compare(title: str, run, repeat: int) -> float:
    """Run fine and per-epoch `repeat` times each, alternating; print every pair and return
    the median share the extra points add."""
    print(f"\n  {title}")
    shares = []
    for _ in range(repeat):
        fine, coarse = run(fine=True), run(fine=False)
        shares.append(added_share(fine, coarse))
        print(f"    {fine.points} points: run {fine.seconds:5.1f} s, measuring {fine.measuring:4.2f} s"
              f" | {coarse.points} points: run {coarse.seconds:5.1f} s, measuring "
              f"{coarse.measuring:4.2f} s | the extra points add {shares[-1]:5.1%} "
              f"| run times differ by {(fine.seconds - coarse.seconds) / fine.seconds:+.0%}, "
              f"CPU times by {(fine.cpu - coarse.cpu) / fine.cpu:+.0%}", flush=True)
    median = statistics.median(shares)
    print(f"    median: the extra points add {median:.1%} of the run "
          f"(goal <= {GOAL:.0%}: {'met' if median <= GOAL else 'NOT met'})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs of each model")
    args = parser.parse_args()
    print(f"Curve points benchmark — {date.today()}, {platform.machine()}, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f} at the start")
    _, split = worker.training_data(FAST)
    print(f"Data: MNIST, {len(split[1]):,} train / {len(split[3]):,} validation images")
    cnn_run(tuple(a[:2048] for a in split), fine=False)   # warm up TensorFlow, untimed
    fast = compare(f"CNN (Fast), {FAST.epochs} epochs, batch {FAST.batch_size}",
                   lambda fine: cnn_run(split, fine), args.repeat)
    lr = compare(f"Logistic Regression, {LOGREG.epochs} rounds of "
                 f"{logreg.ITERATIONS_PER_EPOCH} L-BFGS iterations",
                 lambda fine: logreg_run(split, fine), args.repeat)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end; the extra points add: "
          f"Fast CNN {fast:.1%}, Logistic Regression {lr:.1%} (goal <= {GOAL:.0%})")


if __name__ == "__main__":
    main()
