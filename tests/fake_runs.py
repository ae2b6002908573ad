"""Made-up runs in a model store, without training: a meta.json and tiny model files.

A Logistic Regression gets a real (tiny, fitted on noise) model.npz, so pages can load it;
a CNN gets placeholder files, enough to be listed (nothing here runs one).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np

from core import logreg, store


@functools.cache
def tiny_logreg():
    """A Logistic Regression fitted on noise (once per test process)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(max_iter=20).fit(rng.random((30, 784)), np.arange(30) % 10)


def write_files(kind: str):
    def write(folder: Path) -> None:
        if kind == "logreg":
            logreg.save_weights(tiny_logreg(), folder / "model.npz")
        else:
            for name in store.DOWNLOADS["cnn"]:
                (folder / name).write_bytes(b"placeholder")
    return write


def curve(epochs: int, val_accuracy: float = 0.9, seconds: float = 2.0) -> list[dict]:
    """A made-up learning curve: `epochs` points rising to `val_accuracy`."""
    return [{"epoch": float(e), "time": e * seconds, "accuracy": val_accuracy * e / epochs,
             "loss": 1.0 / e, "val_accuracy": val_accuracy * e / epochs, "val_loss": 1.1 / e}
            for e in range(1, epochs + 1)]


def save_run(root: Path, kind: str = "cnn", dataset: str = "mnist", **settings) -> store.ModelInfo:
    """A run of `kind` with these settings (over a recipe's or C's defaults) in store `root`.

    Keys of meta.json itself can be given with a "meta_" prefix: meta_test_accuracy=0.97.
    """
    meta = {k.removeprefix("meta_"): settings.pop(k) for k in list(settings)
            if k.startswith("meta_")}
    base = ({"recipe": "Fast", "epochs": 2, "batch_size": 128, "learning_rate": 0.003,
             "schedule": "one-cycle", "augment": False} if kind == "cnn" else
            {"epochs": 3, "C": 0.1, "augment": False}) | {"train_size": 3000, "seed": 0}
    settings = base | settings
    meta = {"kind": kind, "dataset": dataset, "dataset_title": "MNIST",
            "dataset_source": "canonical", "settings": settings, "train_size": 2700,
            "val_size": 300, "test_accuracy": 0.9, "train_seconds": 10.0,
            "history": curve(int(settings["epochs"]))} | meta
    return store.save(meta, write_files(kind), root)
