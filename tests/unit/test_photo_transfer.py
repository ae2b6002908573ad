"""Transfer learning for photos (issue 26): a CNN on a person's photo dataset starts from the
most accurate CIFAR-10 CNN in the store.

A tiny CIFAR-10 CNN (Fast, 1 epoch on 300 synthetic CIFAR-10 images, tests/cifar_synth.py) is
trained through the job runner, then a CNN on a 3-class photo dataset made as a person makes
one starts from it (fine-tuned, 2 epochs): the base is named in its Spec and meta.json, its
convolutions are the base's before training (checked in a subprocess: this process never
imports TensorFlow), it is saved and served with 3 outputs, and every sentence names that base.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core import comparison, jobs, kinds, lite, runs, store, transfer, worker
from core.job import Job
from core.kinds import recipe_spec
from core.serving import Serving
from tests import cifar_synth, tri

ROOT = Path(__file__).resolve().parents[2]
GONE = "cnn-cifar10-20260101-000000-gone00"   # a base deleted before its job started

SCRIPT = r'''
import json, sys
import numpy as np
from core import cnn
from core.kinds import recipe_spec

base_file, key, base_id = sys.argv[1:4]
base = cnn.load(base_file)
spec = recipe_spec("Fast", key, epochs=2, batch_size=32, start_from="fine-tune", base=base_id)
fresh = cnn.build(spec, 6, base_file)
same = [all(np.array_equal(a, b) for a, b in zip(old.get_weights(), new.get_weights()))
        for old, new in zip(cnn.convolution_layers(base), cnn.convolution_layers(fresh),
                            strict=True)]
frozen = [not layer.trainable for layer in cnn.convolution_layers(fresh)]
print("RESULT " + json.dumps({"same": same, "frozen": frozen,
                              "outputs": int(fresh.output_shape[-1]),
                              "base_outputs": int(base.output_shape[-1])}))
'''


def photos(n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """`n` photos of tri.py's three shapes (32 x 32 colour: red shapes on a dark ground)."""
    x, y = tri.images(n, seed=3)
    x = np.stack([np.pad(img, 2)[..., None] * np.array([1.0, 0.3, 0.2]) for img in x])
    return x.astype(np.uint8), y


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A CIFAR-10 CNN trained here, a photo CNN fine-tuned from it and a job whose base is gone,
    all through one job runner; the environment (datasets, CIFAR10_PATH) stays for the tests."""
    from core import own_datasets, own_examples

    folder = tmp_path_factory.mktemp("photoxfer")
    models = folder / "models"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITLAB_DATASETS", str(folder / "datasets"))   # the workers see them too
        mp.setenv("DIGITLAB_MODELS", str(models))
        mp.setenv("CIFAR10_PATH", str(folder / "cifar.tar.gz"))
        cifar_synth.tarball(folder / "cifar.tar.gz", 300, 60)
        made = own_datasets.create("Snaps", "photo", tri.NAMES, owner="me")
        x, y = photos()
        own_examples.add_prepared(made.key, "me", [int(label) for label in y], list(x))
        runner = jobs.JobRunner(models)
        try:
            base_job = runner.wait(runner.start(
                recipe_spec("Fast", "cifar10", epochs=1, batch_size=32)).id, timeout=600)
            assert base_job.status == "done", base_job.error
            base = transfer.best_base(store.list_models(models)[0])
            spec = recipe_spec("Fast", made.key, epochs=2, batch_size=32,
                               start_from="fine-tune", base=base.id)
            job = runner.wait(runner.start(spec).id, timeout=600)
            gone = runner.wait(runner.start(spec.replace(base=GONE, seed=1)).id, timeout=300)
        finally:
            runner.shutdown()
        yield SimpleNamespace(key=made.key, models=models, base=base, base_job=base_job,
                              spec=spec, job=job, gone=gone)


@pytest.fixture(scope="module")
def keras_found(world):
    """What the script found of a fresh photo CNN built from the base (in a subprocess)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(world.base.path / "model.keras"),
                           world.key, world.base.id], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def a_model(root: Path, name: str, accuracy: float | None, dataset: str = "cifar10",
            kind: str = "cnn", keras_file: bool = True, uploaded: bool = False):
    """A stored model's folder with just what listing and choosing a base read."""
    folder = root / name
    folder.mkdir(parents=True)
    meta = {"kind": kind, "dataset": dataset, "test_accuracy": accuracy,
            "settings": {"recipe": "Airbench"} if kind == "cnn" and not uploaded else {},
            "created_at": f"2026-12-01T10:{len(list(root.iterdir())):02d}:00+00:00",
            **({"uploaded": {"file_name": "m.keras"}} if uploaded else {})}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / store.MODEL_FILES[kind]).write_bytes(b"")
    if keras_file:
        (folder / "model.keras").write_bytes(b"")
    return folder


def test_the_base_is_the_most_accurate_cifar10_cnn_with_its_keras_file(tmp_path):
    a_model(tmp_path, "cnn-cifar10-a", 0.61)
    a_model(tmp_path, "cnn-cifar10-b", 0.72)
    a_model(tmp_path, "cnn-cifar10-no-keras", 0.90, keras_file=False)
    a_model(tmp_path, "cnn-cifar10-uploaded", 0.95, uploaded=True)
    a_model(tmp_path, "logreg-cifar10", 0.93, kind="logreg")
    a_model(tmp_path, "cnn-mnist", 0.99, dataset="mnist")
    a_model(tmp_path, "cnn-cifar10-unscored", None)
    models = store.list_models(tmp_path, tmp_path / "no-built-ins")[0]
    assert transfer.best_base(models).id == "cnn-cifar10-b"
    assert transfer.best_base([m for m in models if m.dataset == "mnist"]) is None


def test_pruning_keeps_the_base(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_MODELS", "1")
    a_model(tmp_path, "cnn-cifar10-best", 0.8)      # the oldest
    a_model(tmp_path, "cnn-cifar10-newer", 0.5)
    a_model(tmp_path, "cnn-mnist-newest", 0.99, dataset="mnist")
    assert store.prune(tmp_path) == ["cnn-cifar10-newer"]


def test_a_photo_cnn_names_its_base_in_its_spec_and_refuses_without_one(world):
    assert transfer.from_store(world.key) and not transfer.offered(world.key)
    assert not transfer.from_store("cifar10") and not transfer.from_store("fashion_mnist")
    assert world.spec.settings()["base"] == world.base.id
    assert "base" not in recipe_spec("Fast", world.key).settings()
    assert kinds.settings_text(world.spec, ["start_from", "epochs"]) == (
        "from the CIFAR-10 CNN trained here, fine-tuned · epochs 2")   # a waiting job, told from others
    with pytest.raises(ValueError, match="starts from a CIFAR-10 CNN in the store: name it"):
        recipe_spec("Fast", world.key, start_from="frozen")
    with pytest.raises(ValueError, match="fine-tuning needs at least 2 epochs"):
        world.spec.replace(epochs=1)
    with pytest.raises(ValueError, match="from scratch starts from no other model"):
        world.spec.replace(start_from="scratch")
    with pytest.raises(ValueError, match="sketches starts from the built-in MNIST CNN"):
        recipe_spec("Deeper", "fashion_mnist", start_from="frozen", base=world.base.id)


def test_a_base_of_another_recipe_or_gone_is_refused_in_a_sentence(world):
    with pytest.raises(ValueError, match="only when it is of its recipe, Fast, not Airbench"):
        worker.start_base(world.spec.replace(recipe="Airbench"))
    assert world.gone.status == "failed"
    assert "the CIFAR-10 CNN to start from is not in the store" in world.gone.error
    assert world.base.id in {m.id for m in store.list_models(world.models)[0]}   # nothing lost


def test_the_fresh_convolutions_are_the_bases_frozen_with_a_head_per_class(keras_found):
    assert keras_found["same"] == [True] * 6   # Fast: 3 convolutions, each normalised
    assert keras_found["frozen"] == [True] * 6
    assert keras_found["outputs"] == 3 and keras_found["base_outputs"] == 10


def test_the_run_trains_through_the_job_runner_and_is_saved_and_served_with_3_outputs(world):
    assert world.job.status == "done", world.job.error
    model = store.get(world.job.model_id, root=world.models)
    assert model.class_names == tri.NAMES and lite.LiteModel(model.file).classes == 3
    serving = Serving()
    try:
        probs = serving.predict_proba(model, photos(6)[0])
    finally:
        serving.predictor.close()
    assert probs.shape == (6, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_meta_records_the_base_and_every_sentence_names_it(world):
    model = store.get(world.job.model_id, root=world.models)
    accuracy = world.base_job.test_accuracy
    assert model.meta["settings"]["base"] == world.base.id
    assert model.meta["base"] == {"id": world.base.id, "recipe": "Fast", "dataset": "cifar10",
                                  "test_accuracy": accuracy, "builtin": False}
    named = f"the CIFAR-10 CNN trained here (Fast, {accuracy:.1%})".replace("%", " %")
    assert runs.name(model).startswith(f"CNN (Fast) · from {named}, fine-tuned")
    assert comparison.started_from_claim(model).startswith(f"the convolutions of {named}, "
                                                           "frozen for the first epoch")
    assert Job.from_model(model).spec == world.spec   # a run opened from Runs keeps its base


def test_a_photo_start_reads_in_options_and_claims():
    base = {"id": "x", "recipe": "Airbench", "dataset": "cifar10", "test_accuracy": 0.931,
            "builtin": False}
    assert transfer.phrase("frozen", base) == "from the CIFAR-10 CNN trained here (Airbench, 93.1 %), frozen"
    assert list(transfer.options(base).values()) == [
        "From scratch", "From the CIFAR-10 CNN trained here (Airbench, 93.1 %), fine-tuned",
        "From the CIFAR-10 CNN trained here (Airbench, 93.1 %), frozen"]
    assert transfer.claim("frozen", 3, base) == ("the convolutions of the CIFAR-10 CNN trained "
                                                 "here (Airbench, 93.1 %), frozen throughout "
                                                 "(only a new head trained)")
    assert transfer.phrase("fine-tune", {"id": "x", "dataset": "cifar10"}) == (
        "from the CIFAR-10 CNN trained here, fine-tuned")   # a base gone before its record was read
    assert transfer.spec_fields("frozen", base) == {"start_from": "frozen", "base": "x"}
    assert transfer.spec_fields("scratch", base) == {"start_from": "scratch"}
