"""What training on a Ray cluster adds to a job, over training on this machine.

    .venv/bin/python benchmarks/ray_overhead.py [--runs 5] [--cnn] [--address HOST:PORT]

Starts a one-node Ray cluster on this machine (4 CPUs, on its own ports; or uses the one at
`--address`), then runs the same tiny job (a Logistic Regression, 1 round on 1,000 MNIST
images; with --cnn the Fast CNN, 1 epoch on 1,000) on each executor in turn, `--runs` times,
and prints for each the median seconds from launch to its first event and to its `done` (for
Ray: with the model's files written into this machine's store). The first job on the
cluster, whose worker process starts then, is printed apart. Goal (issue 25): Ray adds at
most 1 s a job. A Logistic Regression's Ray worker process stays for the next job (scikit-
learn stays imported); a CNN's exits after it, as a local job's process always does.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core.executors import LocalExecutor  # noqa: E402
from core.kinds import Spec  # noqa: E402
from core.ray_executor import RayExecutor  # noqa: E402
from tests.ray_cluster import LocalCluster  # noqa: E402

TINY = {"logreg": Spec("logreg", "mnist", epochs=1, train_size=1000),
        "cnn": Spec("cnn", "mnist", "Fast", epochs=1, train_size=1000)}


def timed(executor, job_id: str, spec: Spec, store: str) -> tuple[float, float]:
    """(seconds to the first event, seconds to `done`) of one tiny job."""
    start = time.perf_counter()
    run = executor.launch(job_id, spec.replace(seed=len(job_id)), "train", store)
    first = None
    for event in run.events():
        first = first or time.perf_counter() - start
        if event["type"] in ("failed", "stopped"):
            sys.exit(f"{job_id} {event}: {run.failure()}")
    return first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cnn", action="store_true", help="time a tiny CNN job instead")
    parser.add_argument("--address", help="a running cluster's address (else one is started)")
    args = parser.parse_args()
    spec = TINY["cnn" if args.cnn else "logreg"]
    print(f"Ray overhead of a tiny {spec.title} job — {date.today()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    cluster = None if args.address else LocalCluster(num_cpus=4)
    address = args.address or cluster.address
    try:
        print(f"  cluster at {address}: {time.perf_counter() - started:.1f} s to start")
        started = time.perf_counter()
        on_ray = RayExecutor(address)
        if not on_ray.decided.wait(120) or not on_ray.connected:
            sys.exit(f"cannot use the cluster: {on_ray.problem}")
        print(f"  the app joined it in {time.perf_counter() - started:.1f} s")
        local = LocalExecutor()
        with tempfile.TemporaryDirectory() as store:
            cold = timed(on_ray, "cold", spec, store)
            print(f"  first job on the cluster: first event {cold[0]:.2f} s, done {cold[1]:.2f} s")
            times: dict[str, list[tuple[float, float]]] = {"this machine": [], "Ray": []}
            for i in range(args.runs):   # in turn, so both see the same load
                times["this machine"].append(timed(local, f"local{i}", spec, store))
                times["Ray"].append(timed(on_ray, f"ray{i}", spec, store))
        print(f"\n  median of {args.runs}     first event    done")
        medians = {}
        for name, pairs in times.items():
            medians[name] = [statistics.median(p[k] for p in pairs) for k in (0, 1)]
            print(f"  {name:<20}{medians[name][0]:>9.2f} s{medians[name][1]:>9.2f} s")
        extra = [r - lo for r, lo in zip(medians["Ray"], medians["this machine"])]
        print(f"  Ray adds            {extra[0]:>+9.2f} s{extra[1]:>+9.2f} s   (goal: <= 1 s)")
        on_ray.close()
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
