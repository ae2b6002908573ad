"""How true the Train page's time estimates are: estimated against real seconds (launch to saved).

    .venv/bin/python benchmarks/estimate.py [--sizes 1000,6000,60000] [--kinds logreg,cnn]
        [--recipe Fast] [--augment] [--epochs N]

Through the real job runner, as the Train page does it: a speed check, then for a Logistic
Regression (10 rounds, C 0.1) and the Fast CNN (2 epochs), a small run (500 images) and a
large one (30,000), then runs of each size (`--recipe`, `--augment`, `--epochs`: another CNN;
an augmented recipe other than the default one is estimated from the augmentation's cost timed
on the default recipe, core.speed_check.with_augmentation). Each size is estimated three ways: from the speed
check alone, after the small run, after the large one (each from the check plus that one
run, core.costs), and compared with how long its run took. Goal: within ±25 % for all.
Timings depend on the machine's load: the load averages are printed with the table.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import jobs, kinds, worker  # noqa: E402
from core.kinds import Spec  # noqa: E402

SMALL, LARGE = 500, 30_000
AFTER = ("check", f"{SMALL:,} run", f"{LARGE:,} run")


CNN = {"recipe": "Fast", "augment": False, "epochs": None}   # set from the command line


def spec_of(kind: str, size: int) -> Spec:
    """The Train page's default settings of `kind` (the CNN's as CNN says) on `size` images."""
    if kind == "logreg":
        return Spec("logreg", epochs=10, C=0.1, train_size=size)
    spec = kinds.recipe_spec(CNN["recipe"], train_size=size, augment=CNN["augment"])
    return spec.replace(epochs=CNN["epochs"]) if CNN["epochs"] else spec


def run(runner: jobs.JobRunner, spec: Spec) -> float:
    """Seconds from launch to saved of one job (it must succeed)."""
    job = runner.wait(runner.start(spec).id)
    if job.status != "done":
        sys.exit(f"{job.title} {job.status}: {job.error}")
    return job.seconds


def learnt_from(runner: jobs.JobRunner, base, spec: Spec):
    """The cost model after the speed check (`base`) and one run of `spec`."""
    runner.costs = copy.deepcopy(base)
    run(runner, spec)
    return copy.deepcopy(runner.costs)


def kind_rows(runner: jobs.JobRunner, base, kind: str, sizes: list[int]) -> list[tuple]:
    models = [base, learnt_from(runner, base, spec_of(kind, SMALL)),
              learnt_from(runner, base, spec_of(kind, LARGE))]
    rows = []
    for size in sizes:
        spec = spec_of(kind, size)
        n = worker.images_per_epoch(spec)
        estimates = [m.estimate(spec, n) for m in models]
        runner.costs = copy.deepcopy(base)
        real = run(runner, spec)
        rows.append((spec.title, size, real, estimates))
        print(f"  {spec.title} on {size:,}: {real:.1f} s", flush=True)
    return rows


def cell(estimate, real: float) -> str:
    if estimate is None:
        return "—"
    expected, low, high = estimate
    inside = "✓" if low <= real <= high else " "
    return f"{expected:.0f} ({expected / real - 1:+.0%}) {inside}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,6000,60000")
    parser.add_argument("--kinds", default="logreg,cnn")
    parser.add_argument("--recipe", default="Fast", choices=list(kinds.RECIPES))
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    CNN.update(recipe=args.recipe, augment=args.augment, epochs=args.epochs)
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = os.getloadavg()
    print(f"Estimate benchmark — {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load average {load_before[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        runner.check_speed()
        check = runner.wait(runner.speed_check().id)
        print(f"  speed check: {check.seconds:.0f} s", flush=True)
        base = copy.deepcopy(runner.costs)
        rows = [r for kind in args.kinds.split(",") for r in kind_rows(runner, base, kind, sizes)]
        runner.shutdown()
    load_after = os.getloadavg()
    print(f"\nSeconds from Start to saved: estimated (error), ✓ when the shown range holds "
          f"the real time. Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"(15 min: {load_after[2]:.1f}) on {os.cpu_count()} cores.\n")
    print("| model | images | real s | " + " | ".join(f"after the {a}" for a in AFTER) + " |")
    print("|---|---:|---:|" + "---:|" * len(AFTER))
    for title, size, real, estimates in rows:
        print(f"| {title} | {size:,} | {real:.0f} | "
              + " | ".join(cell(e, real) for e in estimates) + " |")


if __name__ == "__main__":
    main()
