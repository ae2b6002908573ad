"""Trained models on disk: one folder each, written atomically, loaded without trusting them.

    <root>/<model id>/
        meta.json        what, on which data, settings, per-epoch history, test accuracy, ...
        model.tflite     CNN as the app runs it (LiteRT, core.lite), written by our own
                         training worker; model.keras and model.h5 beside it to download
        model.npz        Logistic Regression as the app runs it (plain arrays, no pickle),
                         with model.skops, the scikit-learn estimator, beside it to download

User models live under `DIGITLAB_MODELS` (default `./models`); the built-in models in
`assets/models/` are listed too and are read-only. Every model file the app loads was
written by its own training worker, shipped in assets/, or made from an upload by the
upload worker (core.uploads: checked, converted and scored there, the original kept
beside it; meta.json's "uploaded" says so).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from core import data, kinds, logreg, transfer
from core.datasets import info, known, model_classes

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_ROOT = ROOT / "assets" / "models"
MODEL_FILES = {"cnn": "model.tflite", "logreg": "model.npz"}  # what the app loads
SOURCE_FILES = {"cnn": "model.keras", "logreg": "model.skops"}  # what the libraries load
DOWNLOADS = {"cnn": ("model.keras", "model.h5", "model.tflite"), "logreg": ("model.skops", "model.npz")}
STALE_TMP_S = 3600  # a temp folder this old is left over from a killed save
DEFAULT_CAP = 20    # user models kept per server; the oldest go first (DIGITLAB_MAX_MODELS)


class StoreError(Exception):
    """A model folder or file that cannot be used; the message says which and why."""


def user_root() -> Path:
    """Where this server keeps the models people train."""
    return Path(os.environ.get("DIGITLAB_MODELS", ROOT / "models"))


def cap() -> int:
    """How many user models the store keeps (a shared server must not fill its disk)."""
    return int(os.environ.get("DIGITLAB_MAX_MODELS", DEFAULT_CAP))


@dataclass(frozen=True)
class ModelInfo:
    """One stored model, described by its meta.json."""

    id: str
    path: Path
    meta: dict
    builtin: bool

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def file(self) -> Path:
        return self.path / MODEL_FILES[self.kind]

    @property
    def downloads(self) -> list[Path]:
        """The files a person can download, in the order they are offered."""
        return [self.path / name for name in DOWNLOADS[self.kind] if (self.path / name).is_file()]

    @property
    def dataset(self) -> str:
        return self.meta["dataset"]

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes it answers, one per output (core.datasets.model_classes)."""
        return model_classes(self.meta)

    @property
    def uploaded(self) -> dict | None:
        """{"file_name", "format", "bytes", ...} when it was trained elsewhere and uploaded."""
        return self.meta.get("uploaded")

    @property
    def shape(self) -> tuple[int, int, int]:
        """One input image, H x W x C: as recorded, else its dataset's."""
        return tuple(self.meta.get("input_shape") or info(self.dataset).shape)

    @property
    def version(self) -> tuple[str, float]:
        """What a cached result of this model depends on: its id and its file's version."""
        return self.id, self.file.stat().st_mtime

    @property
    def recipe(self) -> str | None:
        """A CNN's recipe (models saved before recipes were named so kept it as "preset")."""
        settings = self.meta.get("settings", {})
        return settings.get("recipe") or settings.get("preset")

    @property
    def history(self) -> list[dict]:
        """Its training curves' points (core.events.curve_point), each with "time", the seconds
        since training began (histories saved before it was kept have per-epoch "seconds")."""
        points, elapsed = [], 0.0
        for point in self.meta.get("history") or []:
            elapsed += point.get("seconds", 0.0)
            points.append(point if "time" in point else {**point, "time": elapsed})
        return points

    @property
    def experiment(self) -> dict | None:
        """{"id", "swept"} when this model is one run of a sweep (core.kinds.sweep)."""
        return self.meta.get("experiment")

    @property
    def test_accuracy(self) -> float | None:
        return self.meta.get("test_accuracy")

    @property
    def created_at(self) -> str:
        return self.meta.get("created_at", "")

    @property
    def title(self) -> str:
        """Its kind and recipe: "Logistic Regression", "CNN (Fast)", "CNN (uploaded: m.h5)"."""
        if self.uploaded:
            return kinds.title(self.kind, f"uploaded: {self.uploaded.get('file_name', 'a file')}")
        return kinds.title(self.kind, self.recipe)

    @property
    def date(self) -> str:
        """When it was saved, to the minute (UTC): "2026-12-01 10:30"."""
        return self.created_at[:16].replace("T", " ")

    @property
    def when(self) -> str:
        """"built-in", or the date and time it was saved (UTC, to the minute)."""
        return "built-in" if self.builtin else self.date

    @property
    def label(self) -> str:
        """A short name for menus: kind, recipe, data, accuracy, and built-in or date."""
        return f"{self.title} · {self.meta.get('dataset_title', self.dataset)} · {self.scored}"

    @property
    def short_label(self) -> str:
        """For a menu of one dataset's models, where the dataset goes without saying:
        "CNN (Deeper) · 99.5% · built-in"."""
        return f"{self.title} · {self.scored}"

    @property
    def scored(self) -> str:
        """Its test accuracy and when it was made: "99.5% · built-in"."""
        acc = f"{self.test_accuracy:.1%}" if self.test_accuracy is not None else "not scored"
        return f"{acc} · {self.when}"

    @property
    def data_sizes(self) -> str:
        """Its training and validation images as recorded: "54,001 training + 5,999 validation
        images (10% held out)", the share as the Train page states it before a run."""
        if self.uploaded:
            return "trained elsewhere"
        n_train, n_val = self.meta.get("train_size"), self.meta.get("val_size")
        if n_train is None:
            return "not recorded"
        if not n_val:
            return f"{n_train:,} training images, none held out for validation"
        return (f"{n_train:,} training + {n_val:,} validation images "
                f"({n_val / (n_train + n_val):.0%} held out)")

    @property
    def trained_note(self) -> str:
        """The data it was trained (and validated) on, in a few words."""
        if self.uploaded:
            return "data outside this app (trained elsewhere and uploaded)"
        source = self.meta.get("dataset_source")
        return f"{self.data_sizes}, {data.SOURCE_NAMES.get(source, source)}"

    @property
    def trained_where(self) -> str:
        """Where it trained, as its meta.json's "trained_on" says: "this app's server", "the
        cluster node 10.0.0.5" (core.executors: a Run's `where`), else "trained elsewhere"
        (uploaded) or "not recorded"."""
        where = self.meta.get("trained_on")
        if self.uploaded or where is None:
            return "trained elsewhere" if self.uploaded else "not recorded"
        return "this app's server" if where == "local" else f"the cluster node {where}"

    def recorded(self, key: str, fmt: str, unit: str = "") -> str:
        """A number from its meta.json, formatted, or "not recorded" when it is missing."""
        value = self.meta.get(key)
        return f"{value:{fmt}}{unit}" if value is not None else "not recorded"


def read_meta(folder: Path) -> dict:
    """The validated meta.json of a model folder."""
    path = folder / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{folder.name}: no meta.json, so it is not a Digit Lab model") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoreError(f"{folder.name}: meta.json is unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("kind") not in MODEL_FILES or "dataset" not in meta:
        raise StoreError(f"{folder.name}: meta.json does not describe a CNN or a Logistic Regression")
    if not isinstance(meta.get("class_names", []), list):
        raise StoreError(f"{folder.name}: meta.json's class_names is not a list of names")
    if not known(meta["dataset"]):
        raise StoreError(f"{folder.name}: trained on {meta['dataset']!r}, a dataset this app "
                         "does not know")
    served = MODEL_FILES[meta["kind"]]
    if not (folder / served).is_file():
        raise StoreError(f"{folder.name}: {served} is missing")
    return meta


def list_models(root: Path | None = None, builtin_root: Path | None = None
                ) -> tuple[list[ModelInfo], list[str]]:
    """All usable models (built-ins first, then newest first) and why others were skipped."""
    models, problems = [], []
    for base, builtin in ((builtin_root or BUILTIN_ROOT, True), (root or user_root(), False)):
        if not base.is_dir():
            continue
        found = []
        for folder in sorted(base.iterdir()):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            try:
                found.append(ModelInfo(folder.name, folder, read_meta(folder), builtin))
            except StoreError as e:
                problems.append(str(e))
        models += sorted(found, key=lambda m: m.created_at, reverse=not builtin)
    return models, problems


def get(model_id: str, root: Path | None = None) -> ModelInfo:
    """The model with this id, or StoreError if there is none (any more)."""
    for model in list_models(root)[0]:
        if model.id == model_id:
            return model
    raise StoreError(f"model {model_id} not found; it may have been deleted")


def new_id(kind: str, dataset: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{kind}-{dataset}-{stamp}-{uuid.uuid4().hex[:6]}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def save(meta: dict, write_files: Callable[[Path], None], root: Path | None = None) -> ModelInfo:
    """Write a model atomically: files go to a temp folder that is renamed when complete.

    A crash (or kill) at any point leaves either no model or a whole one, never half.
    """
    root = root or user_root()
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(root)
    model_id = meta.get("id") or new_id(meta["kind"], meta["dataset"])
    meta = {**meta, "id": model_id, "created_at": meta.get("created_at") or now_iso()}
    tmp = root / f".tmp-{model_id}"
    try:
        tmp.mkdir()
        write_files(tmp)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        read_meta(tmp)  # the saved folder must pass the same checks as any other
        os.rename(tmp, root / model_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root)
    return ModelInfo(model_id, root / model_id, meta, builtin=False)


def add_to_meta(model_id: str, fields: dict, root: Path | str | None = None) -> None:
    """Add `fields` to a saved user model's meta.json (atomically); nothing if it is gone."""
    folder = Path(root or user_root()) / model_id
    try:
        meta = read_meta(folder)
        tmp = folder / ".meta.json.tmp"
        tmp.write_text(json.dumps(meta | fields, indent=2))
        os.replace(tmp, folder / "meta.json")
    except (StoreError, OSError):   # deleted meanwhile (pruned): there is nothing to add to
        pass


def prune(root: Path) -> list[str]:
    """Delete the oldest user models beyond the cap; built-ins are never touched, nor the
    CIFAR-10 CNN that photo CNNs start from (core.transfer.best_base)."""
    mine = [m for m in list_models(root)[0] if not m.builtin]   # newest first
    base = transfer.best_base(mine)
    removed = [m.id for m in mine[cap():] if m is not base]
    for model_id in removed:
        delete(model_id, root)
    return removed


def delete(model_id: str, root: Path | None = None) -> None:
    """Remove a user's model; built-ins cannot be deleted."""
    model = get(model_id, root)
    if model.builtin:
        raise StoreError("built-in models are read-only")
    trash = model.path.with_name(f".deleting-{model.id}")
    os.rename(model.path, trash)  # atomic: the model disappears from listings at once
    shutil.rmtree(trash, ignore_errors=True)


def _remove_stale_tmp(root: Path) -> None:
    for folder in root.glob(".tmp-*"):
        if time.time() - folder.stat().st_mtime > STALE_TMP_S:
            shutil.rmtree(folder, ignore_errors=True)


def load_logreg(model: ModelInfo):
    """The Logistic Regression of `model` as core.logreg.Weights (from model.npz, no pickle)."""
    try:
        return logreg.load_weights(model.file, model.shape)
    except Exception as e:  # not a zip, pickled arrays, missing or misshapen arrays ...
        raise StoreError(f"{model.id}: {model.file.name} was refused ({type(e).__name__}: {e})") from None


def load_skops(folder: Path):
    """The scikit-learn LogisticRegression in `folder`/model.skops, with skops' default-trusted
    types only (a file naming any other type is refused, so no code from it runs)."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    path = folder / SOURCE_FILES["logreg"]
    try:
        estimator = sio.load(path)
    except Exception as e:  # untrusted types, corrupt zip, wrong format ...
        raise StoreError(f"{folder.name}: {path.name} was refused ({type(e).__name__}: {e})") from None
    if not isinstance(estimator, LogisticRegression):
        raise StoreError(f"{folder.name}: {path.name} holds a {type(estimator).__name__}, "
                         "not a LogisticRegression")
    return estimator
