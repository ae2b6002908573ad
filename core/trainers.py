"""How many jobs train at once on this machine, and how many threads each trainer gets.

A training worker holds up to TRAINER_GIB of memory (a CNN on CIFAR-10 with TensorFlow loaded),
and trainers that each ask for every core only slow one another down. So the default number of
trainers is what both the memory left after the server and the cores allow, and each trainer's
worker limits its thread pools (TensorFlow, BLAS, OpenMP) to its share of the cores before
those libraries load. `DIGITLAB_TRAINERS` overrides the count; `DIGITLAB_SPEED_CHECK=off`
keeps the trainers from the background speed check.
"""

from __future__ import annotations

import os
from pathlib import Path

GIB = 2 ** 30
TRAINER_GIB = 1.5        # memory one training worker may hold at its peak
SERVER_GIB = 0.5         # kept for the server to grow into (prediction worker, page caches)
SMALL_BOX_GIB = 4.0      # a machine this small (Streamlit Community Cloud) trains one at a time
THREADS_PER_TRAINER = 2  # fewest cores a trainer should have to itself
ENV = "DIGITLAB_TRAINERS"
SPEED_CHECK_ENV = "DIGITLAB_SPEED_CHECK"


def count(available: float, total: float, cores: int) -> int:
    """Trainers for a machine with `available` bytes of memory free now (the server already
    running), `total` bytes in all, and `cores` usable cores: at least 1, and 1 on a small box."""
    if total <= SMALL_BOX_GIB * GIB:
        return 1
    by_memory = int((available - SERVER_GIB * GIB) // (TRAINER_GIB * GIB))
    by_cores = cores // THREADS_PER_TRAINER
    return max(1, min(by_memory, by_cores))


def threads_each(cores: int, trainers: int) -> int:
    """Each trainer's share of the cores, at least one thread."""
    return max(1, cores // max(1, trainers))


def configured(env: dict | None = None, machine: tuple[float, float, int] | None = None
               ) -> tuple[int, int]:
    """(trainers, threads each) for this server: `DIGITLAB_TRAINERS` if set to a whole number
    of at least 1 (ValueError otherwise), else `count` of this machine (`machine`: available
    bytes, total bytes, cores; measured when not given)."""
    env = os.environ if env is None else env
    available, total, cores = machine or measure()
    given = env.get(ENV, "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise ValueError(f"{ENV} must be a whole number of at least 1, not {given!r}")
        trainers = int(given)
    else:
        trainers = count(available, total, cores)
    return trainers, threads_each(cores, trainers)


def speed_check_on(env: dict | None = None) -> bool:
    """Whether the server times each model on its own before anyone trains (core.jobs), unless
    `DIGITLAB_SPEED_CHECK` is "off": that saves up to a minute of a core (a server in a test);
    the estimates then come from the runs that finished."""
    env = os.environ if env is None else env
    return env.get(SPEED_CHECK_ENV, "").strip().lower() != "off"


def measure() -> tuple[float, float, int]:
    """(available bytes, total bytes, usable cores) of this machine, or of the container it
    runs in when a cgroup limits it (as Streamlit Community Cloud's does)."""
    total, available = meminfo("MemTotal"), meminfo("MemAvailable")
    limit, used = cgroup_memory()
    if limit is not None and limit < total:
        total, available = limit, min(available, limit - (used or 0))
    return available, total, usable_cores()


def meminfo(field: str) -> float:
    """A field of /proc/meminfo in bytes (on a system without it: 8 GiB, a laptop's)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8.0 * GIB


def cgroup_memory() -> tuple[float | None, float | None]:
    """(limit, usage) in bytes of this process's cgroup (v2), or (None, None) without a limit."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text().strip()
        used = float((base / "memory.current").read_text())
    except (OSError, ValueError):
        return None, None
    return (None, None) if limit == "max" else (float(limit), used)


def usable_cores() -> int:
    """Cores this process may use: its CPU affinity, lowered by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, int(float(quota) / float(period))))
    except (OSError, ValueError):
        pass
    return cores


def limit_threads(threads: int) -> None:
    """In a worker, before TensorFlow or scikit-learn loads: use at most `threads` threads in
    TensorFlow's pools, OpenMP and BLAS (NumPy's BLAS is already loaded: threadpoolctl)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(min(2, threads))
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
