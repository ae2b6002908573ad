"""CIFAR-10 on this machine: the Train page's estimate against real runs of its defaults.

    .venv/bin/python benchmarks/cifar.py [--epochs 11] [--skip-logreg]

The real CIFAR-10 cannot be downloaded on the development machines, so unless CIFAR10_PATH
points at the real archive this trains on a made-up set of the real size and shape: 50,000 +
10,000 coloured shapes in the official binary format (tests/cifar_synth.py). Through the job
runner, as the Train page does, it prints the speed check's images/s for the CIFAR-10 shape,
the page's estimate for the defaults (Logistic Regression: 10 rounds; CNN: the Airbench
recipe, 11 epochs, with flips and shifts), then each real run's time and test accuracy.
Accuracy on made-up shapes says the code learns; it says nothing about CIFAR-10's.
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
from core import cifar, jobs, kinds, worker  # noqa: E402
from core.kinds import Spec  # noqa: E402
from tests import cifar_synth  # noqa: E402


def real_size_set(folder: Path) -> str:
    """CIFAR10_PATH, or a made-up set of CIFAR-10's size written into `folder`."""
    if os.environ.get("CIFAR10_PATH"):
        return "CIFAR-10 from CIFAR10_PATH"
    archive = folder / "cifar-10-binary.tar.gz"
    cifar.write(archive, *cifar_synth.make(50_000, 10_000))
    os.environ["CIFAR10_PATH"] = str(archive)
    return "made-up shapes of CIFAR-10's size and format (not CIFAR-10)"


def run(runner: jobs.JobRunner, spec: Spec, n_train: int) -> None:
    """Train `spec`, printing the estimate beside what it really took."""
    estimate = runner.estimate(spec, n_train)
    started = time.perf_counter()
    job = runner.wait(runner.start(spec).id)
    total = time.perf_counter() - started
    if job.status != "done":
        sys.exit(f"{job.title}: {job.status}: {job.error}")
    ends = [0.0] + [h["time"] for h in job.history if h["epoch"] == int(h["epoch"])]
    per_epoch = [b - a for a, b in zip(ends, ends[1:])]   # from the points at epochs' ends
    print(f"  {job.title}, {spec.epochs} epochs x {job.n_train:,} images"
          f"{' (augmented)' if spec.augment else ''}:")
    print(f"    estimate before Start  {estimate or float('nan'):7.0f} s")
    print(f"    real, Start to saved   {total:7.0f} s  ({total / 60:.1f} min; training "
          f"{job.train_seconds:.0f} s, {min(per_epoch):.0f}-{max(per_epoch):.0f} s per epoch)")
    print(f"    estimate / real        {(estimate or 0) / total:7.2f}")
    print(f"    test accuracy          {job.test_accuracy:7.2%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=kinds.RECIPES["Airbench"].epochs)
    parser.add_argument("--skip-logreg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        what = real_size_set(Path(tmp))
        print(f"CIFAR-10 benchmark — {date.today()}, {platform.machine()}, {os.cpu_count()} cores; "
              f"data: {what}")
        runner = jobs.JobRunner(Path(tmp) / "models")
        runner.check_speed("cifar10")
        runner.wait(runner.speed_check().id)
        for key, speed in sorted(runner.speeds.items()):
            print(f"  speed check {key:<32} {speed:8,.0f} images/s")
        print(f"  TensorFlow start-up {runner.startup_s:.1f} s")
        n_train = round(50_000 * (1 - worker.VAL_FRACTION))
        if not args.skip_logreg:
            run(runner, Spec("logreg", "cifar10", epochs=10, C=0.1), n_train)
        run(runner, kinds.recipe_spec("Airbench", "cifar10", epochs=args.epochs, augment=True),
            n_train)
        runner.shutdown()


if __name__ == "__main__":
    main()
