"""Time to 99.0 % on the canonical MNIST test set: the Sprint recipe against keras.io's, 5 seeds.

    .venv/bin/python benchmarks/time_to_accuracy.py [--target 0.99] [--seeds 0,1,2,3,4]
                                                    [--recipe Sprint]

Every run trains through the real job runner on all 60,000 training images (54,000 train /
6,000 validation, as the Train page does). After every epoch the worker scores the model on
the 10,000 test images, outside the run's timed seconds: only benchmarks ask for that. A
run's time to the target is the seconds since training began at the end of the first epoch
whose test accuracy reaches it (validation at every curve point included, TensorFlow's
start-up not).

For each seed, one run after another, so that all of a seed's runs meet about the same load:

- the recipe as the Train page offers it (Sprint: 1 epoch). Its one-cycle schedule is set by
  its number of epochs, so a run that ends short of the target is followed by one with an
  epoch more, and the seconds of both count (what a person trying it would spend);
- the recipe trained for 2 epochs: its test accuracy then;
- *Fast* as offered (2 epochs): its own time to the target, and its cost per epoch beside
  the recipe's 2-epoch run (the same number of curve points), run just before or after it
  (each first on every other seed);
- keras.io's `mnist_convnet` recipe: the Classic preset with keras.io's settings (batch 128,
  Adam at a constant 1e-3), up to its 15 epochs, stopped at the first that reaches the target.

It prints a Markdown table, one row a seed, then the medians; the last line is the result.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import jobs, kinds  # noqa: E402

KERAS_IO = kinds.recipe_spec("Classic", epochs=15, batch_size=128, learning_rate=1e-3,
                             schedule="constant")
MORE_EPOCHS = 2      # a scheduled recipe short of the target is tried with up to this many more
TWO = 2              # the epochs of the second check of the recipe, and of Fast's cost per epoch


@dataclass
class Reached:
    """How one recipe got to the target on one seed (epochs None: it did not)."""

    epochs: int | None
    seconds: float          # training seconds spent until then (every try), or in all if not
    accuracy: float         # test accuracy at that epoch (or at the last epoch if not reached)
    tries: int = 1


def epoch_ends(job: jobs.Job) -> list[dict]:
    """The job's curve points at the end of an epoch: those that carry the test score."""
    return [p for p in job.history if "peek_accuracy" in p]


def train(runner: jobs.JobRunner, name: str, spec: kinds.Spec, target: float | None) -> jobs.Job:
    """Run `spec` through the job runner to its end, or until an epoch reaches `target`."""
    job = runner.start(spec.replace(benchmark_peek=True))
    seen = 0
    while job.active:
        ends = epoch_ends(job)
        for point in ends[seen:]:
            print(f"  {name:<9} seed {spec.seed}, {spec.units(spec.epochs)}: epoch "
                  f"{point['epoch']:>2.0f} {point['peek_accuracy']:.2%} test, {point['time']:6.1f} s, "
                  f"{job.n_train * point['epoch'] / point['time']:,.0f} images/s", flush=True)
            if target is not None and point["peek_accuracy"] >= target and job.status != "stopping":
                runner.stop(job.id)
        seen = len(ends)
        time.sleep(0.1)
    runner.wait(job.id)
    if job.status == "failed":
        sys.exit(f"{name}: {job.error}")
    return job


def first_reaching(job: jobs.Job, target: float) -> dict | None:
    return next((p for p in epoch_ends(job) if p["peek_accuracy"] >= target), None)


def time_to(runner: jobs.JobRunner, name: str, spec: kinds.Spec, target: float,
            retry: bool) -> Reached:
    """Epochs and training seconds until `spec` first scores `target` on the test set; with
    `retry`, a run that ends short is tried again with an epoch more, its seconds added."""
    spent, tries = 0.0, 0
    for epochs in range(spec.epochs, spec.epochs + (MORE_EPOCHS if retry else 0) + 1):
        tries += 1
        job = train(runner, name, spec.replace(epochs=epochs), target)
        found = first_reaching(job, target)
        if found is not None:
            return Reached(round(found["epoch"]), spent + found["time"], found["peek_accuracy"],
                           tries)
        spent += epoch_ends(job)[-1]["time"]
    return Reached(None, spent, epoch_ends(job)[-1]["peek_accuracy"], tries)


def cost_per_epoch(job: jobs.Job) -> float:
    """Seconds an epoch of a finished run (validation points included)."""
    last = epoch_ends(job)[-1]
    return last["time"] / last["epoch"]


def seconds_text(r: Reached) -> str:
    tries = f" ({r.tries} runs)" if r.tries > 1 else ""
    return f"{r.seconds:.1f} s{tries}" if r.epochs else f"not in {r.seconds:.0f} s"


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """ "12.3 (10.1-14.0)": the median and the range."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-" \
           f"{fmt.format(max(values))})"


def machine() -> str:
    """This machine as lscpu names it, its cores and its vector units."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), "unknown CPU")
    return (f"{model}, {os.cpu_count()} cores, AVX2 {'avx2' in info}, "
            f"AMX {'amx_tile' in info}, load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--recipe", default="Sprint", choices=list(kinds.RECIPES))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    name, target = args.recipe, args.target
    print(f"Time to accuracy — {date.today()}, {machine()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        for seed in seeds:
            recipe = time_to(runner, name, kinds.recipe_spec(name, seed=seed), target, retry=True)
            pair = [(name, kinds.recipe_spec(name, epochs=TWO, seed=seed)),
                    ("Fast", kinds.recipe_spec("Fast", epochs=TWO, seed=seed))]
            if seed % 2:
                pair.reverse()   # each first on every other seed: a load that drifts cancels out
            ran = {who: train(runner, who, spec, None) for who, spec in pair}
            two, fast = ran[name], ran["Fast"]
            fast_to = first_reaching(fast, target)
            keras_io = time_to(runner, "keras.io", KERAS_IO.replace(seed=seed), target, retry=False)
            rows.append((seed, recipe, epoch_ends(two)[-1]["peek_accuracy"],
                         cost_per_epoch(two) / cost_per_epoch(fast), fast_to, keras_io))
        runner.shutdown()
    print(f"\nMeasured {date.today()} on {machine()}\n")
    print(f"| seed | {name}: epochs to {target:.1%} | seconds | test accuracy then | {name} after "
          f"{TWO} epochs | cost per epoch, {name} / Fast | Fast: epochs, seconds to {target:.1%} "
          f"| keras.io: epochs | seconds |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for seed, r, after_two, ratio, fast_to, k in rows:
        fast_text = (f"{fast_to['epoch']:.0f}, {fast_to['time']:.1f} s" if fast_to
                     else f"not in {TWO}")
        print(f"| {seed} | {r.epochs or '—'} | {seconds_text(r)} | {r.accuracy:.2%} | "
              f"{after_two:.2%} | {ratio:.2f} | {fast_text} | {k.epochs or '—'} | "
              f"{seconds_text(k)} |")
    mine = [r.seconds for _, r, *_ in rows]
    theirs = [k.seconds for *_, k in rows]
    one = sum(1 for _, r, *_ in rows if r.epochs == 1 and r.tries == 1)
    print(f"\n{name}: {target:.1%} after 1 epoch for {one} of {len(rows)} seeds "
          f"(test accuracy {spread([r.accuracy * 100 for _, r, *_ in rows], '{:.2f}')} %); "
          f"after {TWO} epochs {spread([t * 100 for _, _, t, *_ in rows], '{:.2f}')} %; "
          f"seconds to {target:.1%} {spread(mine)}")
    print(f"keras.io: epochs {spread([k.epochs or KERAS_IO.epochs for *_, k in rows], '{:.0f}')}, "
          f"seconds {spread(theirs)}")
    print(f"cost per epoch, {name} / Fast ({TWO}-epoch runs): {spread([r[3] for r in rows], '{:.2f}')}")
    fast_mine = statistics.median(mine)
    print(f"time to {target:.1%}: {name} {fast_mine:.0f} s; keras.io recipe "
          f"{statistics.median(theirs):.0f} s; {statistics.median(theirs) / fast_mine:.1f}x faster")


if __name__ == "__main__":
    main()
