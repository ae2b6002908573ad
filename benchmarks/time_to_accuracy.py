"""Time to 99.0 % on the canonical MNIST test set: the Fast recipe against keras.io's.

    .venv/bin/python benchmarks/time_to_accuracy.py [--target 0.99] [--seed 0]

Both recipes train through the real job runner on all 60,000 training images (54,000
train / 6,000 validation, as the Train page does). After every epoch the worker scores the
model on the 10,000 test images, outside the run's timed seconds: only this benchmark
asks for that. A recipe stops at the first epoch that reaches the target; its time is the
seconds since training began at that epoch's end (validation at every curve point
included, TensorFlow's start-up not).

keras.io's `mnist_convnet` recipe is the Classic preset with keras.io's settings: batch
128, Adam at a constant 1e-3, up to its 15 epochs. The Fast recipe runs as the Train page
offers it. The last line is the result.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import jobs, kinds  # noqa: E402

KERAS_IO = kinds.recipe_spec("Classic", epochs=15, batch_size=128, learning_rate=1e-3,
                             schedule="constant")


def time_to(runner: jobs.JobRunner, name: str, spec: kinds.Spec, target: float, seed: int) -> float:
    """Training seconds until the test accuracy first reaches `target` (inf if never)."""
    job = runner.start(spec.replace(seed=seed, benchmark_peek=True))
    seen = 0
    while job.active:
        while seen < len(job.history):
            point = job.history[seen]
            seen += 1
            if "peek_accuracy" not in point:
                continue   # a curve point inside an epoch: the test set is scored at its end
            spent = point["time"]
            print(f"  {name:<9} epoch {point['epoch']:>2.0f}: {point['peek_accuracy']:.2%} test, "
                  f"{spent:6.1f} s, {job.n_train * point['epoch'] / spent:,.0f} images/s",
                  flush=True)
            if point["peek_accuracy"] >= target:
                runner.stop(job.id)
                runner.wait(job.id)
                return spent
        time.sleep(0.1)
    if job.status == "failed":
        sys.exit(f"{name}: {job.error}")
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    flags = open("/proc/cpuinfo").read() if Path("/proc/cpuinfo").exists() else ""
    print(f"Time to accuracy — {date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, AVX2 {'avx2' in flags}, AMX {'amx_tile' in flags}")
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        fast = time_to(runner, "Fast", kinds.recipe_spec("Fast"), args.target, args.seed)
        keras_io = time_to(runner, "keras.io", KERAS_IO, args.target, args.seed)
        runner.shutdown()
    print(f"time to {args.target:.1%}: Fast {fast:.0f} s; keras.io recipe {keras_io:.0f} s; "
          f"{keras_io / fast:.1f}x faster")


if __name__ == "__main__":
    main()
