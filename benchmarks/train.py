"""Accuracy and speed of training through the real job runner, as the Train page does it.

    .venv/bin/python benchmarks/train.py [--dataset mnist] [--cnn-epochs 15]

Trains a Logistic Regression (10 epochs) and the Classic CNN (15 epochs) in worker
processes, prints test accuracy on the dataset's own test split and, for MNIST, on the
canonical 10,000-image MNIST test set in ../shared/data/mnist-test/ (when present),
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import data, jobs, logreg, store  # noqa: E402

CANONICAL = ROOT.parent / "shared" / "data" / "mnist-test"


def canonical_test_set() -> tuple[np.ndarray, np.ndarray] | None:
    if not CANONICAL.is_dir():
        return None
    return (data.read_idx(CANONICAL / "t10k-images-idx3-ubyte.gz"),
            data.read_idx(CANONICAL / "t10k-labels-idx1-ubyte.gz"))


def canonical_accuracy(model: store.ModelInfo, x: np.ndarray, y: np.ndarray) -> float:
    """Score a stored model on other images, in this (benchmark) process."""
    if model.kind == "logreg":
        proba = logreg.predict_proba(store.load_logreg(model), x)
    else:
        import keras
        from core import cnn
        net = keras.saving.load_model(model.file, safe_mode=True)
        proba = net.predict(cnn.to_input(x), batch_size=1000, verbose=0)
    return float(np.mean(proba.argmax(1) == y))


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
        canonical = canonical_test_set() if args.dataset == "mnist" else None
        print(f"\n  {'model':<28}{'own test split':>16}{'canonical MNIST 10k':>22}")
        for job in (lr, net):
            model = store.get(job.model_id, root)
            other = (f"{canonical_accuracy(model, *canonical):.2%}" if canonical is not None
                     else "n/a")
            print(f"  {job.title:<28}{job.test_accuracy:>16.2%}{other:>22}")
        print(f"\n  Stop pressed mid-epoch -> job ended after {stop_latency(runner, args.dataset):.2f} s")
        runner.shutdown()


if __name__ == "__main__":
    main()
