"""Jobs as Ray tasks on a cluster, seen from the server: `RayExecutor` and its runs.

The connection to the cluster lives in a bridge process (core/ray_bridge.py) that this
module starts and talks to through two queues: `ray` never enters the server, and a cluster
that vanishes cannot take the server down with it. Each job's worker runs on a node as a
task (core/ray_node.py); its events come back live through the bridge, and a finished
model's files are in the server's store before its `done` event arrives here.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator

from core import events
from core.kinds import Spec
from core.processes import name_this_process, start_process

CONNECT_S = 30.0   # the bridge must have joined the cluster within this, else it is unreachable
PROBE_S = 2.0      # how long the cluster's address may take to accept a connection
WATCH_S = 2.0      # how often the address is checked while connected
LOST_AFTER = 2     # checks in a row that fail before the cluster counts as gone
ENDED = object()   # put in a run's inbox after its last event


class ClusterUnavailable(Exception):
    """The cluster cannot take a job now; the message says why."""


def host_port(address: str) -> tuple[str, int] | None:
    """The (host, port) to check of a Ray address ("10.0.0.5:6379", "ray://host:10001"), or
    None when it names no port ("auto": Ray finds the cluster itself)."""
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    return (host.strip("[]"), int(port)) if sep and port.isdigit() else None


def unanswered(address: str) -> str | None:
    """None when something accepts connections at `address`, else why not, in a few words."""
    target = host_port(address)
    if target is None:
        return None
    try:
        with socket.create_connection(target, timeout=PROBE_S):
            return None
    except OSError as e:
        return (e.strerror or str(e) or type(e).__name__).lower()


def run_bridge(address: str, commands, replies) -> None:
    """Entry point of the bridge process: `ray` is imported there, never in the server."""
    name_this_process()
    os.environ["RAY_ENABLE_AUTO_CONNECT"] = "0"  # a Ray call after leaving must not start a
    from core import ray_bridge  # cluster of its own on this machine

    ray_bridge.serve(address, commands, replies)


class RayRun:
    """One job's task on the cluster, followed from the server through the bridge."""

    waited_s = 0.0   # nothing it waits for is a once-a-server cost

    def __init__(self, job_id: str, address: str, commands):
        self.job_id, self.commands = job_id, commands
        self.where = address           # the node's address, once the task runs on one
        self.pid: int | None = None    # the task's worker process on that node
        self.inbox: queue.Queue = queue.Queue()
        self._stop_requested = False
        self._failure: str | None = None

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def events(self) -> Iterator[events.Event]:
        while (event := self.inbox.get()) is not ENDED:
            yield event

    def stop(self, grace_s: float) -> None:
        self._stop_requested = True
        self.commands.put(("stop", self.job_id, grace_s))

    def kill(self) -> None:
        self._stop_requested = True
        self.commands.put(("kill", self.job_id))

    def failure(self) -> str:
        return self._failure or "its task ended without a result"

    def started(self, where: str, pid: int) -> None:
        self.where, self.pid = where, pid

    def end(self, failure: str | None) -> None:
        self._failure = failure
        self.inbox.put(ENDED)


class RayExecutor:
    """Runs each job's worker as a Ray task (2 CPUs, 1.5 GiB) on the cluster at `address`.

    It connects in the background from the moment it is made: `decided` is set once it is
    connected or known to be unreachable (`problem` then says why, in a few words).
    """

    def __init__(self, address: str, connect_s: float = CONNECT_S):
        self.address, self.connect_s = address, connect_s
        self.name = f"the Ray cluster at {address}"
        self.connected = False
        self.problem: str | None = None
        self.lost_at: float | None = None   # when it became unusable (monotonic seconds)
        self.decided = threading.Event()
        self.runs: dict[str, RayRun] = {}
        self._room = 0
        self._lock = threading.Lock()
        self._ctx = mp.get_context("spawn")
        self.commands, self.replies = self._ctx.Queue(), self._ctx.Queue()
        self.process = None
        threading.Thread(target=self._connect, daemon=True, name="digitlab-ray-connect").start()

    def slots(self) -> int:
        """Jobs the cluster's nodes have room for (at least 1 while connected: a job sent to
        a full or autoscaling cluster waits there for a node); 0 when it cannot be used."""
        return max(1, self._room) if self.connected else 0

    def launch(self, job_id: str, spec: Spec, role: str, models_root: str | None) -> RayRun:
        with self._lock:
            if not self.connected:
                raise ClusterUnavailable(self.problem or f"{self.name} is still connecting")
            run = self.runs[job_id] = RayRun(job_id, self.address, self.commands)
            self.commands.put(("launch", job_id, spec, role, models_root))
        return run

    def close(self) -> None:
        """Leave the cluster: its jobs end, and the bridge process exits."""
        self._give_up("it was closed")

    def _connect(self) -> None:
        why = unanswered(self.address)
        if why:
            self._give_up(f"cannot be reached ({why})")
            return
        self.process = start_process(self._ctx, run_bridge, "digitlab-ray-bridge",
                                     (self.address, self.commands, self.replies))
        self._route()

    def _route(self) -> None:
        """Until the cluster is given up: pass the bridge's replies on, and check that the
        bridge lives and the cluster still answers."""
        deadline, misses, check_at = time.monotonic() + self.connect_s, 0, 0.0
        while self.problem is None:
            try:
                self._take(self.replies.get(timeout=0.5))
            except queue.Empty:   # every reply read: has the bridge gone?
                if not self.process.is_alive():
                    self._give_up(f"lost its connection (the bridge process ended, "
                                  f"exit code {self.process.exitcode})")
            now = time.monotonic()
            if not self.connected and now > deadline:
                self._give_up(f"did not let this app join within {self.connect_s:.0f} s")
            elif self.connected and now > check_at:
                check_at, misses = now + WATCH_S, (misses + 1 if unanswered(self.address) else 0)
                if misses >= LOST_AFTER:
                    self._give_up("stopped answering")

    def _take(self, reply: tuple) -> None:
        """One reply of the bridge (core/ray_bridge.py lists them)."""
        kind, *rest = reply
        if kind == "ready":
            self._room, self.connected = rest[0], True
            self.decided.set()
        elif kind == "unreachable":
            self._give_up(f"refused this app ({rest[0]})")
        elif kind == "slots":
            self._room = rest[0]
        elif kind == "where" and rest[0] in self.runs:
            self.runs[rest[0]].started(rest[1], rest[2])
        elif kind == "events" and rest[0] in self.runs:
            for event in rest[1]:
                self.runs[rest[0]].inbox.put(event)
        elif kind == "end":
            with self._lock:
                run = self.runs.pop(rest[0], None)
            if run is not None:
                run.end(rest[1])

    def _give_up(self, why: str) -> None:
        """Stop using the cluster: say why, end the bridge, and end its runs with that."""
        with self._lock:
            if self.problem is not None:
                return
            self.problem, self.connected, self.lost_at = why, False, time.monotonic()
            runs, self.runs = list(self.runs.values()), {}
        self.decided.set()
        if self.process is not None and self.process.is_alive():
            self.commands.put(None)
            self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
        for run in runs:
            run.end(f"{self.name} {why}")
