"""A made-up dataset of three classes for tests: circles, squares and triangles drawn with
OpenCV, white on black like MNIST, with noise.

It is registered as dataset "tri" (a record of core.datasets, as a dataset a person makes
will be) and read from an .npz through its record's variable, core.data's "path the user
gives". `worker` is a job runner's worker that registers it in its own process first.
"""

from __future__ import annotations

import cv2
import numpy as np

from core import datasets, executors, jobs
from core.datasets import DatasetInfo
from core.kinds import Spec, recipe_spec

KEY = "tri"
ENV = "DIGITLAB_TEST_TRI_PATH"
NAMES = ("circle", "square", "triangle")
RECORD = DatasetInfo(
    KEY, "Tri", "three shapes", NAMES, (28, 28, 1),
    citation="drawn by tests/tri.py", licence="made up for tests", homepage="",
    get_it="tests/tri.py makes it", env_var=ENV, digits=True)


def shape_image(label: int, rng: np.random.Generator) -> np.ndarray:
    """One 28 x 28 uint8 image of class `label`: an outline of a random size and place."""
    image = np.zeros((28, 28), np.uint8)
    r = int(rng.integers(6, 10))
    cx, cy = (int(v) for v in rng.integers(r + 2, 28 - r - 2, 2))
    thick = int(rng.integers(2, 4))
    if label == 0:
        cv2.circle(image, (cx, cy), r, 255, thick, cv2.LINE_AA)
    elif label == 1:
        cv2.rectangle(image, (cx - r, cy - r), (cx + r, cy + r), 255, thick, cv2.LINE_AA)
    else:
        points = np.array([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], np.int32)
        cv2.polylines(image, [points], True, 255, thick, cv2.LINE_AA)
    noisy = image.astype(np.int16) + rng.normal(0, 20, image.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (the classes in turn) and their labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.uint8) % len(NAMES)
    return np.stack([shape_image(int(label), rng) for label in y]), y


def make(path, n_train: int = 600, n_test: int = 150):
    """Write the dataset as an .npz (x_train, y_train, x_test, y_test) at `path`."""
    x_train, y_train = images(n_train, seed=0)
    x_test, y_test = images(n_test, seed=1)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def register() -> None:
    """Make "tri" a dataset this process knows (its file is at the variable ENV)."""
    datasets.DATASETS[KEY] = RECORD


def worker(job_spec, channel, stop_flag, models_root) -> None:
    """A training worker (core.executors.run_worker) that knows "tri": the spawned process
    starts from scratch, without the test's own registration."""
    register()
    executors.run_worker(job_spec, channel, stop_flag, models_root)


def spec(kind: str) -> Spec:
    """A small job of `kind` on "tri" (registered first: a Spec checks its dataset)."""
    if kind == "logreg":
        return Spec("logreg", KEY, epochs=3, C=1.0)
    return recipe_spec("Fast", KEY, epochs=1, batch_size=32)


def train(root, kinds=("logreg", "cnn"), timeout: float = 600) -> dict:
    """Train a job of each of `kinds` on "tri" through a real job runner into store `root`
    (this process must have it registered): {kind: the ended Job}."""
    runner = jobs.JobRunner(root, worker=worker)
    try:
        started = {kind: runner.start(spec(kind)) for kind in kinds}
        return {kind: runner.wait(job.id, timeout=timeout) for kind, job in started.items()}
    finally:
        runner.shutdown()
