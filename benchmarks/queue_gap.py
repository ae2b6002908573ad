"""How long the trainer stands idle between one queued job ending and the next training.

    .venv/bin/python benchmarks/queue_gap.py [--runs 3]

Queues `--runs` Fast CNN jobs on 3,000 MNIST images at once (as a sweep of 3 learning rates
does) through the real job runner, and for each job after the first prints the gap from
the job before it ending (its result shown) to this one starting to train,
split into the queue's own delay (ended -> worker process started) and the worker's
start-up (TensorFlow import, data, model). Goal (issue 18): gap <= the TensorFlow start-up
measured here + 1 s. The first job, started on an idle trainer, gives that start-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import jobs, kinds  # noqa: E402


def watch_training_starts(runner: jobs.JobRunner, queued: list[jobs.Job], seen: dict) -> None:
    """Note when each job reports its first training images (TensorFlow and data are ready)."""
    while not all(j.ended for j in queued):
        for job in queued:
            if job.n_train is not None and job.id not in seen:
                seen[job.id] = time.time()
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Queue benchmark — {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    base = kinds.recipe_spec("Fast", train_size=3000)
    specs = kinds.sweep(base, "learning_rate", kinds.LEARNING_RATES[-args.runs:])
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        queued = runner.start_all(specs)
        training = {}
        watcher = threading.Thread(target=watch_training_starts, args=(runner, queued, training))
        watcher.start()
        for job in queued:
            runner.wait(job.id)
        watcher.join()
        runner.shutdown()
    failed = [j for j in queued if j.status != "done"]
    if failed:
        sys.exit(f"{failed[0].title}: {failed[0].status} {failed[0].error}")
    startup = training[queued[0].id] - queued[0].started_at
    print(f"  first job, idle trainer: worker start to training {startup:.2f} s "
          f"(TensorFlow import, data, model)")
    print(f"  {'job':<30}{'queue delay':>12}{'start-up':>10}{'gap':>8}   goal <= {startup + 1:.2f} s")
    for before, job in zip(queued, queued[1:]):
        delay = job.started_at - before.ended_at
        gap = training[job.id] - before.ended_at
        print(f"  {job.title + ' lr ' + format(job.spec.learning_rate, 'g'):<30}"
              f"{delay:>11.2f}s{gap - delay:>9.2f}s{gap:>7.2f}s   "
              f"{'PASS' if gap <= startup + 1 else 'OVER'}")


if __name__ == "__main__":
    main()
