"""Accuracy and speed of training through the real job runner, as the Train page does it.

    .venv/bin/python benchmarks/train.py [--dataset mnist] [--cnn-epochs 15]

Trains a Logistic Regression (10 epochs) and the Classic CNN (15 epochs) in worker
processes, prints test accuracy on the dataset's own test split and, for MNIST, on the
canonical 10,000-image MNIST test set in ../shared/data/mnist-test/ (when present, through
core.default_models.canonical_accuracy, i.e. the prediction worker the app uses),
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
from core import data, jobs, store  # noqa: E402
from core.default_models import canonical_accuracy  # noqa: E402

def train(runner: jobs.JobRunner, spec: dict) -> jobs.Job:
    start = time.perf_counter()
    job = runner.wait(runner.start(spec).id)
    if job.status != "done":
        sys.exit(f"{job.title} {job.status}: {job.error}")
    print(f"  {job.title}: {len(job.history)} epochs on {job.n_train:,} images, "
          f"{job.train_seconds:.1f} s training ({time.perf_counter() - start:.1f} s with start-up), "
          f"{job.images_per_s:,.0f} images/s in the last epoch")
    return job

def stop_latency(runner: jobs.JobRunner, dataset: str) -> float:
    job = runner.start({"kind": "cnn", "dataset": dataset, "epochs": 30, "preset": "Classic"})
    while job.status != "running" or job.n_train is None:
        time.sleep(0.05)
    time.sleep(1.5)
    asked = time.perf_counter()
    runner.stop(job.id)
    runner.wait(job.id)
    return time.perf_counter() - asked

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="mnist", choices=list(data.TITLES))
    parser.add_argument("--cnn-epochs", type=int, default=15)
    args = parser.parse_args()
    ds = data.load(args.dataset)
    print(f"Training benchmark — {date.today()}, {platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print(f"Data: {ds.description} ({len(ds.y_train):,} train / {len(ds.y_test):,} test)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runner = jobs.JobRunner(root)
        lr = train(runner, {"kind": "logreg", "dataset": args.dataset, "epochs": 10, "C": 1.0})
        net = train(runner, {"kind": "cnn", "dataset": args.dataset, "epochs": args.cnn_epochs,
                             "preset": "Classic", "batch_size": 64, "learning_rate": 1e-3})
        print(f"\n  {'model':<28}{'own test split':>16}{'canonical MNIST 10k':>22}")
        for job in (lr, net):
            score = (canonical_accuracy(store.get(job.model_id, root)) if args.dataset == "mnist"
                     else None)
            other = f"{score:.2%}" if score is not None else "n/a"
            print(f"  {job.title:<28}{job.test_accuracy:>16.2%}{other:>22}")
        print(f"\n  Stop pressed mid-epoch -> job ended after {stop_latency(runner, args.dataset):.2f} s")
        runner.shutdown()

if __name__ == "__main__":
    main()
