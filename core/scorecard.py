"""A model's answers on its test set, kept with it, so that Compare shows them without
running the model again (scoring a CNN on 10,000 images takes ~8 s on 2 shared cores).

The training worker writes `test_probs.npz` into the model's folder when it saves it (the
built-ins ship theirs); a model without one (an upload, an older run) is scored once and
its answers kept under the user store's `.scores/` folder. Stored answers are used only for
the very test set they were made on: the same labels in the same order, from the same source.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core import store

FILE = "test_probs.npz"
CACHE = ".scores"   # under store.user_root(); store.list_models skips dot folders


def write(path: Path, probs: np.ndarray, y_test: np.ndarray, source: str) -> None:
    """Keep N x C probabilities with the labels and source of the test set they answer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, probs=np.asarray(probs, np.float32),
                            y_test=np.asarray(y_test, np.uint8), source=np.array(source))
    os.replace(tmp, path)   # atomic: a reader sees no file or a whole one


def cache_path(model: store.ModelInfo) -> Path:
    """Where answers computed by the server for `model` (this version of its file) are kept."""
    _, mtime = model.version
    return store.user_root() / CACHE / f"{model.id}-{mtime:.0f}.npz"


def read(model: store.ModelInfo, y_test: np.ndarray, source: str) -> np.ndarray | None:
    """`model`'s stored probabilities for this test set, or None if none fit it."""
    for path in (model.path / FILE, cache_path(model)):
        probs = _matching(path, np.asarray(y_test), source)
        if probs is not None:
            return probs
    return None


def _matching(path: Path, y_test: np.ndarray, source: str) -> np.ndarray | None:
    """The probabilities in `path` if they answer exactly this test set, else None."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["source"]) != source or not np.array_equal(f["y_test"], y_test):
                return None
            return f["probs"]
    except (OSError, KeyError, ValueError):   # missing, unreadable or another layout
        return None


def keep(model: store.ModelInfo, probs: np.ndarray, y_test: np.ndarray, source: str) -> None:
    """Keep answers the server computed, for the next server start (best effort: a read-only
    store only means they are computed again)."""
    try:
        write(cache_path(model), probs, y_test, source)
    except OSError:
        pass
