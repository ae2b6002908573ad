"""The app's one connection to a Ray cluster, held by a process of its own (the bridge).

core/ray_executor.py starts this process and talks to it through two queues, so the Streamlit
server never imports `ray`, and a cluster that vanishes takes only this process with it (Ray
ends a driver that has lost its cluster for a minute). The bridge sends each job's worker to
the cluster as a task (core/ray_node.py), reads the jobs' events from their mailbox, and writes
each finished model's files into the app's store before it passes on the `done` event.

Commands in:  ("launch", job_id, spec, role, models_root), ("stop", job_id, grace_s),
              ("kill", job_id), or None to quit.
Replies out:  ("ready", slots) or ("unreachable", why), once; ("slots", n) every WATCH_S;
              ("where", job_id, node address, pid); ("events", job_id, [event, ...]);
              ("end", job_id, None or how it failed, in a few words).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import ray

from core import ray_node, store

ROOT = Path(__file__).resolve().parents[1]
# What the cluster's workers get of the app's folder (Ray's working_dir): the code, and
# MNIST, which ships with the app. Anything else beside them stays here.
SHIPPED = {"": {"core", "assets"}, "assets": {"data"}, "assets/data": {"mnist"}}
POLL_S = 0.1    # how often running jobs' events are read from the mailbox
WATCH_S = 2.0   # how often the cluster's room is counted


def shipped_code() -> dict:
    """Ray's runtime_env for the app's jobs: this folder as the workers' working directory,
    less everything SHIPPED does not name (tests, docs, models, .venv, .git, ...)."""
    excludes = ["__pycache__", "*.pyc"]
    for parent, keep in SHIPPED.items():
        excludes += [f"/{p.relative_to(ROOT)}" for p in sorted((ROOT / parent).iterdir())
                     if p.name not in keep]
    return {"working_dir": str(ROOT), "excludes": excludes}


def connect(address: str) -> None:
    """Join the cluster at `address` as a driver, quietly, with the app's code shipped."""
    ray.init(address=address, runtime_env=shipped_code(), logging_level=logging.ERROR,
             log_to_driver=False, configure_logging=True)


def cluster_slots() -> int:
    """How many jobs the cluster's live nodes have room for, each asking for ray_node.CPUS
    CPUs and ray_node.MEMORY bytes of memory (counted node by node, from their totals)."""
    room = 0
    for node in ray.nodes():
        if node.get("Alive"):
            have = node.get("Resources", {})
            room += int(min(have.get("CPU", 0) // ray_node.CPUS,
                            have.get("memory", 0) // ray_node.MEMORY))
    return room


def failure(error: Exception, where: str | None) -> str:
    """How a task ended without a result, in a few words for the page."""
    exc = ray.exceptions
    node = f"Ray node {where}" if where else "Ray node"
    if isinstance(error, exc.TaskCancelledError):
        return "it was cancelled on the Ray cluster"
    if isinstance(error, exc.NodeDiedError):
        return f"the {node} running it died"
    if isinstance(error, exc.OutOfMemoryError):
        return f"the {node} running it ran out of memory"
    if isinstance(error, exc.WorkerCrashedError):
        return f"the Ray worker process running it died on the {node}"
    if isinstance(error, exc.RuntimeEnvSetupError):
        return "the Ray cluster could not set up the app's code: " + first_line(error)
    if isinstance(error, exc.RayTaskError):
        cause = error.cause if isinstance(error.cause, BaseException) else error
        return f"the task failed: {type(cause).__name__}: {first_line(cause)}"
    return f"the Ray cluster reported {type(error).__name__}: {first_line(error)}"


def first_line(error: BaseException) -> str:
    """The line of an error's message that says what happened (a Ray error's last one)."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1 if isinstance(error, ray.exceptions.RayError) else 0][:300] if lines else ""


class Task:
    """One job on the cluster, as the bridge knows it."""

    def __init__(self, job_id: str, ref, models_root: str | None):
        self.job_id, self.ref, self.models_root = job_id, ref, models_root
        self.where: str | None = None


class Bridge:
    """Launches, follows and stops the jobs' tasks; replies on `replies`."""

    def __init__(self, replies):
        self.replies = replies
        self.mailbox = ray_node.Mailbox.options(
            resources={"node:__internal_head__": 0.001}).remote()   # on the head: it lives as
        ray.get(self.mailbox.take_all.remote())                    # long as the cluster
        self.tasks: dict[str, Task] = {}
        self.lock = threading.Lock()
        self.mail_lost: str | None = None   # why the mailbox could not be read, if it could not
        self.quitting = threading.Event()    # the loops end: the bridge is leaving the cluster

    def launch(self, job_id: str, spec, role: str, models_root: str | None) -> None:
        self.mailbox.open.remote(job_id)
        task = ray_node.train if spec.kind == "logreg" else ray_node.train_fresh
        ref = task.remote(job_id, spec, self.mailbox)
        with self.lock:
            self.tasks[job_id] = Task(job_id, ref, models_root)

    def stop(self, job_id: str, grace_s: float) -> None:
        """Ask the job's worker to stop; cancel its task if it still runs after `grace_s`."""
        self.mailbox.stop.remote(job_id)
        threading.Timer(grace_s, self.kill, (job_id, False)).start()

    def kill(self, job_id: str, ask: bool = True) -> None:
        if ask:
            self.mailbox.stop.remote(job_id)
        task = self.tasks.get(job_id)
        if task is not None:
            ray.cancel(task.ref, force=True)   # nothing if it has ended

    def pump(self) -> None:
        """Until quitting: pass on the jobs' new events; finish each job whose task has ended."""
        while not self.quitting.is_set():
            with self.lock:
                tasks = list(self.tasks.values())
            ended = self.ended(tasks)   # before the mail is read: all their events are in it
            self.pass_on_mail()
            for task in tasks:
                if task.job_id in ended:
                    self.finish(task)

    def ended(self, tasks: list[Task]) -> set[str]:
        """The jobs among `tasks` whose task has ended, after waiting POLL_S for them."""
        if not tasks:
            time.sleep(POLL_S)
            return set()
        ready, _ = ray.wait([t.ref for t in tasks], num_returns=len(tasks), timeout=POLL_S)
        return {t.job_id for t in tasks if t.ref in ready}

    def pass_on_mail(self) -> None:
        """Each job's new events, and once the node it runs on, to the server."""
        try:
            mail = ray.get(self.mailbox.take_all.remote())
        except ray.exceptions.RayError as e:   # the head node is gone, most likely
            self.mail_lost = failure(e, None)
            return
        for job_id, (node, batch) in mail.items():
            task = self.tasks.get(job_id)
            if node and task:
                task.where = node["ip"]
                self.replies.put(("where", job_id, node["ip"], node["pid"]))
            if batch:
                self.replies.put(("events", job_id, batch))

    def finish(self, task: Task) -> None:
        """Settle an ended task: its model into the app's store, then its `done`; or how it failed."""
        try:
            result, why = ray.get(task.ref), None
        except ray.exceptions.RayError as e:
            result, why = {}, failure(e, task.where)
        if result:
            try:
                save(result["files"], task.where, task.models_root)
                self.replies.put(("events", task.job_id, [result["done"]]))
            except (store.StoreError, OSError, ValueError) as e:
                why = f"its model could not be saved here ({e})"
        self.mailbox.close.remote(task.job_id)
        if not result and not why and self.mail_lost:   # its last events may be lost too
            why = f"the Ray cluster lost its events ({self.mail_lost})"
        with self.lock:
            del self.tasks[task.job_id]
        self.replies.put(("end", task.job_id, why))

    def watch(self) -> None:
        """Until quitting: tell the server how many jobs the cluster has room for; end this process
        if the server has gone (its tasks end with it: Ray cancels a lost driver's work)."""
        server = os.getppid()
        while not self.quitting.wait(WATCH_S):
            if os.getppid() != server:
                os._exit(0)
            try:
                self.replies.put(("slots", cluster_slots()))
            except Exception:   # the server's own check of the address says what happened
                pass


def save(files: dict[str, bytes], where: str | None, models_root: str | None) -> store.ModelInfo:
    """A model's files, as a task returned them, saved atomically into the app's store
    (core.store.save), its meta.json saying which node trained it."""
    meta = json.loads(files["meta.json"]) | {"trained_on": where or "a Ray node"}

    def write(folder: Path) -> None:
        for name, data in files.items():
            target = (folder / name).resolve()
            if name == "meta.json" or not target.is_relative_to(folder.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    return store.save(meta, write, Path(models_root) if models_root else None)


def serve(address: str, commands, replies) -> None:
    """The bridge process: connect, then do what `commands` say until told to quit."""
    try:
        connect(address)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))   # the server is leaving: so
        bridge = Bridge(replies)                                # is this driver, at once
        room = cluster_slots()
        ray_node.warm_up.remote()
    except Exception as e:
        replies.put(("unreachable", first_line(e) or type(e).__name__))
        leave(replies)
    replies.put(("ready", room))
    loops = [threading.Thread(target=loop, daemon=True, name=f"digitlab-ray-{loop.__name__}")
             for loop in (bridge.pump, bridge.watch)]
    for thread in loops:
        thread.start()
    actions = {"launch": bridge.launch, "stop": bridge.stop, "kill": bridge.kill}
    for command in iter(commands.get, None):
        try:
            actions[command[0]](*command[1:])
        except Exception as e:   # e.g. a spec the cluster cannot take: that job fails
            replies.put(("end", command[1], f"the Ray cluster refused it ({first_line(e)})"))
    bridge.quitting.set()
    for thread in loops:
        thread.join(5)   # no Ray call may follow ray.shutdown
    ray.shutdown()       # Ray ends this driver's tasks and the mailbox
    leave(replies)


def leave(replies) -> None:
    """End this process once every reply is sent: at once, without waiting for the threads
    that still poll the cluster."""
    replies.close()
    replies.join_thread()
    os._exit(0)
