"""A throwaway Ray cluster on this machine, for the Ray tests and benchmarks.

`LocalCluster(num_cpus)` starts a head node (`ray start --head --block`) with its own free
ports and temp folder; `add_node(num_cpus)` joins more nodes to it (as a cluster of several
machines would have); `stop()` ends only its own processes (each node's process group: `ray
stop` would end every Ray cluster on the machine) and removes its folder. Ray reports the
node by this machine's own address even when asked for 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
STARTED = "Ray runtime started"
START_S = 120          # a node must have started within this (~13 s on 2 idle cores)
OBJECT_STORE = 2**28   # bytes of shared memory each node takes for Ray's objects


def free_ports(n: int) -> list[int]:
    """Ports free on this machine now (from the ephemeral range, outside Ray's worker ports)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class LocalCluster:
    """A Ray cluster on this machine: a head node now, more with `add_node`."""

    def __init__(self, num_cpus: int = 4):
        self.temp = Path(tempfile.mkdtemp(prefix="dlray-"))  # short: socket paths fit 107 bytes
        self.nodes: list[subprocess.Popen] = []
        port, client, agent, dashboard = free_ports(4)
        self.address = f"127.0.0.1:{port}"
        self._start("head", ["--head", f"--port={port}", f"--ray-client-server-port={client}",
                             f"--dashboard-port={dashboard}", "--include-dashboard=false"],
                    num_cpus, agent)

    def add_node(self, num_cpus: int = 2) -> subprocess.Popen:
        """Join another node (a `ray start --address` of its own) to this cluster."""
        return self._start(f"node{len(self.nodes)}", [f"--address={self.address}"], num_cpus,
                           free_ports(1)[0])

    def _start(self, name: str, args: list[str], num_cpus: int, agent_port: int):
        log_path = self.temp / f"{name}.log"
        env = os.environ | {"TMPDIR": str(self.temp)}   # the jobs' temp folders go with it
        with open(log_path, "w") as log:
            node = subprocess.Popen(
                [str(RAY), "start", "--block", *args, "--node-ip-address=127.0.0.1",
                 f"--num-cpus={num_cpus}", f"--object-store-memory={OBJECT_STORE}",
                 f"--dashboard-agent-listen-port={agent_port}", "--disable-usage-stats",
                 f"--temp-dir={self.temp}"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.nodes.append(node)
        deadline = time.monotonic() + START_S
        while STARTED not in log_path.read_text():
            if node.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Ray node {name} did not start:\n"
                                   + log_path.read_text()[-3000:])
            time.sleep(0.2)
        return node

    def kill_node(self, node: subprocess.Popen) -> None:
        """End one node at once, as a machine that dies."""
        _end_group(node.pid, signal.SIGKILL, 5)

    def stop(self) -> None:
        """End every process of this cluster (nothing else) and remove its folder."""
        for node in reversed(self.nodes):
            _end_group(node.pid, signal.SIGTERM, 1) or _end_group(node.pid, signal.SIGKILL, 5)
        for pid in self.workers():   # in sessions of their own, named by this cluster's folder
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)

    def workers(self) -> list[int]:
        """The worker processes of this cluster's nodes (their command line names its folder)."""
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(self.temp).encode() in cmdline.read_bytes():
                    found.append(int(cmdline.parent.name))
            except OSError:   # it ended meanwhile
                pass
        return found


def _end_group(pgid: int, sig: int, wait_s: float) -> bool:
    """Send `sig` to a process group; whether all of it has gone within `wait_s`."""
    deadline = time.monotonic() + wait_s
    try:
        os.killpg(pgid, sig)
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)
            time.sleep(0.1)
            try:
                os.waitpid(pgid, os.WNOHANG)   # reap the group's leader, our child
            except ChildProcessError:
                pass
        return False
    except ProcessLookupError:
        return True
