"""Where this server's jobs train: on the Ray cluster at `RAY_ADDRESS` when one is set and
answers, on this machine otherwise, and meanwhile.

`from_environment()` picks the executor the server's JobRunner uses. Without `RAY_ADDRESS` it
is the local one, and nothing about Ray is imported. With it, `ClusterOrLocal` sends jobs to
the cluster (core/ray_executor.py) while it can be used; while it cannot, jobs train here and
`problem` says so in one sentence for the Train page, and the cluster is tried again every
RETRY_S seconds.
"""

from __future__ import annotations

import os
import threading
import time

from core.executors import Executor, LocalExecutor, Run
from core.kinds import Spec

ADDRESS_VARIABLE = "RAY_ADDRESS"
RETRY_S = 30.0        # a cluster that could not be used is tried again after this
FIRST_WAIT_S = 15.0   # a job started while the app is still joining the cluster waits this long


def from_environment(local: Executor | None = None) -> Executor:
    """The executor for this server: the Ray cluster named by RAY_ADDRESS (with this machine
    as a fallback), or this machine alone when the variable is not set."""
    local = local or LocalExecutor()
    address = os.environ.get(ADDRESS_VARIABLE, "").strip()
    return ClusterOrLocal(address, local) if address else local


class ClusterOrLocal:
    """Jobs go to the Ray cluster at `address` while it can be used, to `local` otherwise."""

    def __init__(self, address: str, local: Executor, retry_s: float = RETRY_S):
        from core.ray_executor import RayExecutor  # no Ray code here without a cluster

        self.address, self.local, self.retry_s = address, local, retry_s
        self._connect = RayExecutor
        self.cluster = RayExecutor(address)
        self._before: str | None = None   # why the last try failed, while the next one runs
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """Where jobs train now, for people."""
        return (self.cluster if self.cluster.connected else self.local).name

    @property
    def joining(self) -> bool:
        """Whether the app is joining the cluster now (at start, or trying it again)."""
        return not self.cluster.decided.is_set()

    @property
    def problem(self) -> str | None:
        """Why jobs train on this machine instead of the cluster, in one sentence; None while
        the cluster is used, or while the app first joins it (a later try keeps the last why)."""
        cluster = self.cluster
        why = cluster.problem or (None if cluster.decided.is_set() else self._before)
        if why is None:
            return None
        return (f"{cluster.name[0].upper()}{cluster.name[1:]} {why}, so jobs train "
                f"on {self.local.name}; it is tried again every {self.retry_s:.0f} s.")

    def slots(self) -> int:
        cluster = self._usable()
        return cluster.slots() if cluster else self.local.slots()

    def launch(self, job_id: str, spec: Spec, role: str, models_root: str | None) -> Run:
        cluster = self._usable(wait_s=FIRST_WAIT_S)
        if cluster is not None:
            try:
                return cluster.launch(job_id, spec, role, models_root)
            except Exception:   # it went away a moment ago: `problem` says so
                pass
        return self.local.launch(job_id, spec, role, models_root)

    def close(self) -> None:
        self.cluster.close()

    def _usable(self, wait_s: float = 0.0):
        """The cluster's executor if jobs can go to it now, else None; after a failure, once
        `retry_s` has passed, the next call starts joining it again."""
        with self._lock:
            cluster = self.cluster
            if cluster.lost_at is not None and time.monotonic() - cluster.lost_at > self.retry_s:
                self._before = cluster.problem
                cluster = self.cluster = self._connect(self.address)
        cluster.decided.wait(wait_s)
        return cluster if cluster.connected else None
