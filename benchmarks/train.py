"""Accuracy and speed of training through the real job runner, as the Train page does it.

    .venv/bin/python benchmarks/train.py [--dataset mnist] [--cnn-epochs 15]

Trains the Train page's defaults (a Logistic Regression and the Fast CNN) and the Classic
CNN in worker processes on all the training images, prints their test accuracy (for
MNIST, the canonical 10,000 test images, scored on the exported model the app runs),
then measures how long Stop takes to end a running CNN job.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import data, jobs, kinds  # noqa: E402
from core.datasets import DATASETS  # noqa: E402
from core.kinds import Spec  # noqa: E402

def train(runner: jobs.JobRunner, spec: Spec) -> jobs.Job:
    start = time.perf_counter()
    job = runner.wait(runner.start(spec).id)
    if job.status != "done":
        sys.exit(f"{job.title} {job.status}: {job.error}")
    print(f"  {job.title}: {job.epochs} epochs on {job.n_train:,} images, "
          f"{job.train_seconds:.1f} s training ({time.perf_counter() - start:.1f} s with start-up), "
          f"{job.images_per_s:,.0f} images/s")
    return job

def stop_latency(runner: jobs.JobRunner, dataset: str) -> float:
    job = runner.start(kinds.recipe_spec("Classic", dataset))
    while job.status != "running" or job.n_train is None:
        time.sleep(0.05)
    time.sleep(1.5)
    asked = time.perf_counter()
    runner.stop(job.id)
    runner.wait(job.id)
    return time.perf_counter() - asked

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="mnist", choices=list(DATASETS))
    args = parser.parse_args()
    ds = data.load(args.dataset)
    print(f"Training benchmark — {date.today()}, {platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print(f"Data: {ds.description} ({len(ds.y_train):,} train / {len(ds.y_test):,} test)")
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        done = [train(runner, Spec("logreg", args.dataset, epochs=10, C=0.1))]
        done += [train(runner, kinds.recipe_spec(name, args.dataset)) for name in ("Fast", "Classic")]
        print(f"\n  {'model':<34}{'test accuracy':>14}{'training':>10}")
        for job in done:
            print(f"  {job.title:<34}{job.test_accuracy:>14.2%}{job.train_seconds:>9.0f}s")
        print(f"\n  Stop pressed mid-epoch -> job ended after {stop_latency(runner, args.dataset):.2f} s")
        runner.shutdown()

if __name__ == "__main__":
    main()
