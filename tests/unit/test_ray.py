"""Jobs on a Ray cluster (core.cluster, core.ray_executor): a local head node this file starts
on this machine and stops at its end, with its own ports and temp folder.

Ray is used from a bridge process (core/ray_bridge.py), so neither this pytest process nor the
Streamlit server ever imports `ray`; the last test checks that. The jobs are tiny Logistic
Regressions (1,000 or 2,000 images) or long ones that are stopped or killed within seconds.
"""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import cluster, events, jobs, store
from core.executors import LocalExecutor
from core.kinds import Spec
from core.ray_executor import RayExecutor
from tests.ray_cluster import LocalCluster, free_ports

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="Ray is not installed (pip install -r requirements-ray.txt)")

ROOT = Path(__file__).resolve().parents[2]
TINY = Spec("logreg", "mnist", epochs=1, train_size=1000)
LONG = Spec("logreg", "mnist", epochs=300, train_size=3000)   # minutes: it is always ended


@pytest.fixture(scope="session")
def ray_address():
    """A one-node Ray cluster (4 CPUs: room for 2 jobs) on this machine for these tests;
    only its own processes are ended afterwards."""
    cluster = LocalCluster(num_cpus=4)
    yield cluster.address
    cluster.stop()


@pytest.fixture(scope="module")
def on_ray(ray_address):
    """The app's executor for that cluster, joined once for this file's tests."""
    executor = RayExecutor(ray_address)
    assert executor.decided.wait(60) and executor.connected, executor.problem
    yield executor
    executor.close()


@pytest.fixture
def runner(on_ray, tmp_path):
    """A JobRunner that trains on the cluster and saves into a store the cluster never saw."""
    r = jobs.JobRunner(tmp_path / "store", executor=on_ray)
    yield r
    r.shutdown()


def wait_for(condition, timeout: float = 120, what: str = ""):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def user_models(root: Path) -> list[str]:
    return [m.id for m in store.list_models(root, builtin_root=root / "none")[0]]


def test_the_cluster_has_room_for_two_jobs(on_ray):
    assert on_ray.slots() == 2   # 4 CPUs, 2 a job
    assert on_ray.name == f"the Ray cluster at {on_ray.address}"


def test_a_finished_model_is_in_the_app_store_before_its_done_event(on_ray, tmp_path):
    run = on_ray.launch("tiny", TINY, "train", str(tmp_path))
    seen = []
    for event in run.events():
        seen.append(event["type"])
        if event["type"] == "done":
            model = store.get(event["model_id"], root=tmp_path)   # already there
    assert seen[-1] == "done" and "epoch" in seen, seen
    assert {p.name for p in model.path.iterdir()} >= {"meta.json", "model.npz", "model.skops"}
    assert model.meta["trained_on"] == run.where != "local"
    socket.inet_aton(run.where)   # the node's IP address
    assert store.load_logreg(model).coef_.shape[0] == 10


def test_two_jobs_from_two_sessions_train_at_the_same_time_on_the_cluster(runner):
    """The runner starts as many jobs as the cluster has room for (2): a second person's
    job trains and is saved while the first person's long one still trains."""
    first = runner.start(LONG, owner="anna")
    wait_for(lambda: first.history, what="the first job's first curve point")
    second = runner.start(TINY, owner="ben")
    assert second is not first and not second.waiting   # a trainer was free
    assert runner.wait(second.id, timeout=180).status == "done", second.error
    assert first.status == "running"                    # both trained at once, on two workers
    assert runner.runs[first.id].pid != runner.runs[second.id].pid
    assert user_models(Path(runner.models_root)) == [second.model_id]
    runner.stop(first.id)
    assert runner.wait(first.id, timeout=60).status == "stopped"


def test_curve_points_arrive_while_it_trains_and_stop_ends_it(runner):
    job = runner.start(LONG, owner="anna")
    wait_for(lambda: job.history, what="a first curve point")
    assert job.active   # a point of a run that has minutes to go
    runner.stop(job.id)
    runner.wait(job.id, timeout=30)
    assert job.status == "stopped" and job.model_id is None
    assert user_models(Path(runner.models_root)) == []


def test_a_killed_ray_worker_fails_its_job_and_the_next_job_runs(runner):
    job = runner.start(LONG, owner="anna")
    wait_for(lambda: job.id in runner.runs and runner.runs[job.id].pid, what="its worker")
    os.kill(runner.runs[job.id].pid, signal.SIGKILL)
    runner.wait(job.id, timeout=60)
    assert job.status == "failed" and "Ray worker process running it died" in job.error
    nxt = runner.wait(runner.start(TINY, owner="ben").id, timeout=120)
    assert nxt.status == "done", nxt.error
    assert store.get(nxt.model_id, root=Path(runner.models_root)).meta["trained_on"] != "local"


def test_a_node_that_dies_fails_its_job_with_a_sentence(tmp_path):
    """A cluster of its own: a head that runs no jobs (as on KubeRay) and one node that does."""
    two = LocalCluster(num_cpus=0)
    try:
        node = two.add_node(num_cpus=2)
        executor = RayExecutor(two.address)
        assert executor.decided.wait(60) and executor.slots() == 1
        run = executor.launch("doomed", LONG, "train", str(tmp_path))
        wait_for(lambda: run.pid is not None, what="the job to start on the node")
        two.kill_node(node)
        assert not [e for e in run.events() if e["type"] in ("done", "stopped", "failed")]
        assert run.failure() == f"the Ray node {run.where} running it died"
        assert not run.stop_requested   # so the runner says: failed, with that sentence
        executor.close()
    finally:
        two.stop()


def test_the_speed_check_runs_on_the_cluster(on_ray, tmp_path):
    run = on_ray.launch("speed", Spec("speed", "mnist"), "speed", str(tmp_path))
    first = next(iter(run.events()), None)
    assert first, run.failure()
    assert first["type"] == "speed" and first["startup_s"] > 0 and run.where != "local"
    run.kill()
    list(run.events())


def pretend_to_train(spec: Spec, channel, stop_flag, models_root: str) -> None:
    """A local worker that is done at once (where a job trains is all that is tested)."""
    channel.put(events.status("Training", n_train=100))
    channel.put(events.done())


def test_an_unreachable_cluster_is_said_and_jobs_train_here(tmp_path, monkeypatch):
    port = free_ports(1)[0]   # nothing listens there
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    executor = cluster.from_environment(LocalExecutor(pretend_to_train))
    assert executor.cluster.decided.wait(10)
    assert executor.problem == (f"The Ray cluster at 127.0.0.1:{port} cannot be reached "
                                "(connection refused), so jobs train on this machine; it is "
                                "tried again every 30 s.")
    assert executor.name == "this machine" and executor.slots() == 1
    runner = jobs.JobRunner(tmp_path, executor=executor)
    job = runner.wait(runner.start(TINY).id, timeout=120)
    assert job.status == "done" and runner.runs[job.id].where == "local"


def test_a_cluster_that_goes_away_is_said_and_tried_again(ray_address, tmp_path):
    executor = cluster.ClusterOrLocal(ray_address, LocalExecutor(), retry_s=0.5)
    assert executor.cluster.decided.wait(60) and executor.problem is None
    assert executor.name.startswith("the Ray cluster at")
    executor.cluster.process.kill()   # the bridge's connection ends, as when the cluster goes
    wait_for(lambda: executor.problem, timeout=10, what="the sentence")
    assert "lost its connection" in executor.problem and executor.name == "this machine"
    time.sleep(0.6)
    assert executor.slots() >= 1   # past retry_s: joining it again, and it answers
    wait_for(lambda: executor.cluster.connected, timeout=60, what="the cluster again")
    assert executor.problem is None
    executor.close()


def test_the_server_and_these_tests_never_import_ray():
    code = ("import sys; from core import cluster, jobs, ray_executor; from pages import common; "
            "cluster.from_environment(); print('ray' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
    assert "ray" not in sys.modules   # this process used the cluster all along, through a bridge
