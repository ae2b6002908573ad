"""What runs inside training worker processes: fit, score, export and save a model.

In the app this is the only module that imports TensorFlow (through core.cnn), and it does so
lazily, inside the functions, so the Streamlit server can import it by name without
paying for Keras.
"""

from __future__ import annotations

import dataclasses
import gc
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core import data, events, logreg, metrics, scorecard, speed_check, store, transfer
from core.kinds import Spec

VAL_FRACTION = 0.1


def images_per_epoch(spec: Spec) -> int | None:
    """How many images a job trains on per epoch (validation set aside), if its size is set."""
    return None if spec.train_size is None else round(spec.train_size * (1 - VAL_FRACTION))

Emit = Callable[[events.Event], None]
Outcome = tuple[dict, Callable]  # (meta for the store, function that writes the model files)


def training_data(spec: Spec) -> tuple[data.Dataset, tuple[np.ndarray, ...]]:
    """The dataset plus (x_train, y_train, x_val, y_val): validation comes from training data."""
    ds = data.load(spec.dataset, only=spec.source)
    x, y = ds.x_train, ds.y_train
    if spec.train_size and spec.train_size < len(y):
        keep, _ = data.stratified_split(y, 1 - spec.train_size / len(y), seed=spec.seed)
        x, y = x[keep], y[keep]
    train, val = data.stratified_split(y, VAL_FRACTION, seed=spec.seed)
    split = (x[train], y[train], x[val], y[val])
    absent = [name for i, name in enumerate(ds.class_names) if not np.any(split[1] == i)]
    if absent:   # a model would have fewer outputs than the dataset has classes
        raise ValueError(f"no training images of {', '.join(absent)}: every class needs some")
    ds = dataclasses.replace(ds, x_train=None)   # the split is a copy: let the whole go
    del x
    give_back_memory()
    return ds, split


def give_back_memory() -> None:
    """Return freed memory to the system (Linux, glibc): reading a dataset's archive leaves
    ~200 MB of freed blocks in this process's heap, which training would otherwise add to."""
    gc.collect()   # what is freed includes tf.data pipelines, which sit in reference cycles
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # another C library: nothing to do
        pass


def versions() -> dict:
    """Library versions the model was trained with (Keras only if this job loaded it)."""
    import sklearn
    found = {"python": platform.python_version(), "numpy": np.__version__,
             "scikit-learn": sklearn.__version__}
    if "keras" in sys.modules:
        import keras
        import tensorflow as tf
        found |= {"keras": keras.__version__, "tensorflow": tf.__version__}
    return found


def base_meta(spec: Spec, ds: data.Dataset, n_train: int, n_val: int) -> dict:
    return {"kind": spec.kind, "dataset": ds.name, "dataset_title": ds.title,
            "dataset_source": ds.source, "dataset_description": ds.description,
            "class_names": list(ds.class_names),   # one per output, in order
            "settings": spec.settings(), "input_shape": list(ds.shape),
            "train_size": n_train, "val_size": n_val, "test_size": int(len(ds.y_test)),
            **({"experiment": {"id": spec.experiment, "swept": spec.swept}}
               if spec.experiment else {})}


def reached_the_end(history: list[dict], epochs: int) -> bool:
    """Whether a run's curve points go all the way to its last epoch (else it stopped early)."""
    return bool(history) and history[-1]["epoch"] >= epochs


def train_logreg(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> Outcome | None:
    """Fit a Logistic Regression round by round; returns meta for the store, or None if stopped."""
    import skops.io as sio

    ds, (x_train, y_train, x_val, y_val) = training_data(spec)
    n_images = len(y_train)
    if spec.augment:
        x_train, y_train = logreg.shifted_copies(x_train, y_train)
    copies = f" and their shifted copies ({len(y_train):,} in all)" if spec.augment else ""
    emit(events.status(f"Training on {n_images:,} images{copies}", n_images))
    model = logreg.build(C=spec.C, seed=spec.seed)
    history, start = [], time.perf_counter()

    def report(point: dict, fitted) -> None:
        history.append(point)
        emit(events.epoch(point, spec.epochs, learned=logreg.weight_images(fitted, ds.shape)))

    logreg.fit_rounds(model, x_train, y_train, x_val, y_val, spec.epochs, report, should_stop,
                      events.points_per_epoch(spec.epochs))
    if should_stop() or not reached_the_end(history, spec.epochs):
        return None
    train_seconds = time.perf_counter() - start
    test_accuracy, test_loss = logreg.scores(model, logreg.flatten(ds.x_test), ds.y_test)
    test_probs = logreg.predict_proba(logreg.weights(model), ds.x_test)   # as the app runs it
    meta = base_meta(spec, ds, n_images, len(y_val)) | {
        "history": history, "test_accuracy": test_accuracy, "test_loss": test_loss,
        "train_seconds": train_seconds, "params": int(model.coef_.size + model.intercept_.size)}

    def write(folder):
        logreg.save_weights(model, folder / store.MODEL_FILES["logreg"])
        sio.dump(model, folder / store.SOURCE_FILES["logreg"])
        scorecard.write(folder / scorecard.FILE, test_probs, ds.y_test, ds.source)

    return meta, write


def train_cnn(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> Outcome | None:
    """Fit a Keras CNN; returns meta for the store, or None if stopped."""
    base_file, base = start_base(spec)   # a base that cannot be used fails before TensorFlow
    emit(events.status("Starting TensorFlow"))
    from core import cnn

    ds, (x_train, y_train, x_val, y_val) = training_data(spec)
    n_train, n_val = len(y_train), len(y_val)
    per_epoch = int(np.ceil(n_train / spec.batch_size))
    model = cnn.build(spec, spec.epochs * per_epoch, base_file)
    train = cnn.batches(x_train, y_train, spec.batch_size, shuffle=True, seed=spec.seed,
                        classes=cnn.label_classes(spec))
    val = cnn.Validation(x_val, y_val, cnn.validation_batch_size(spec.batch_size, ds.shape))
    stats = cnn.PopulationStatistics(cnn.with_channels(x_train), seed=spec.seed)
    del x_train, y_train, x_val, y_val   # the pipelines hold their own copy
    give_back_memory()
    emit(events.status(f"Training on {n_train:,} images", n_train))
    history: list[dict] = []

    def record(event: events.Event) -> None:
        if event["type"] == "epoch":
            history.append(events.curve_point(event))
        emit(event)

    start = time.perf_counter()
    peek = (lambda m: cnn.accuracy(m, ds.x_test, ds.y_test)) if spec.benchmark_peek else None
    cnn.fit(model, train, val, stats, spec.epochs, per_epoch, record, should_stop, peek, spec)
    if should_stop() or not reached_the_end(history, spec.epochs):
        return None
    train_seconds = time.perf_counter() - start
    del train, val, stats   # exporting needs the memory more
    give_back_memory()
    emit(events.status("Exporting and scoring on the test set"))
    with tempfile.TemporaryDirectory(prefix="digitlab-") as tmp:
        exported = Path(tmp) / store.MODEL_FILES["cnn"]
        cnn.export_lite(model, exported)
        test_probs = lite_probs(exported, ds.x_test)
        test_accuracy, test_loss = metrics.accuracy_and_loss(ds.y_test, test_probs)
        lite_bytes = exported.read_bytes()
    meta = base_meta(spec, ds, n_train, n_val) | {
        "history": history, "test_accuracy": test_accuracy, "test_loss": test_loss,
        "train_seconds": train_seconds, "params": int(model.count_params())} | (
        {"base": base} if base else {})

    def write(folder):
        (folder / store.MODEL_FILES["cnn"]).write_bytes(lite_bytes)
        model.save(folder / store.SOURCE_FILES["cnn"])  # to download, fine-tune or export again
        model.save(folder / "model.h5")                 # legacy format, for people who want it
        scorecard.write(folder / scorecard.FILE, test_probs, ds.y_test, ds.source)

    return meta, write


def start_base(spec: Spec) -> tuple[Path | None, dict | None]:
    """The model.keras a photo CNN starts from and what meta.json keeps of it (core.transfer);
    (None, None) for the others. ValueError, in a sentence, when the base cannot be used."""
    if spec.base is None:
        return None, None
    try:
        model = store.get(spec.base)
    except store.StoreError:
        model = None
    if problem := transfer.base_refusal(spec.recipe, model):
        raise ValueError(problem)
    return model.path / transfer.BASE_FILE, transfer.base_record(model)


def lite_probs(path: Path, x: np.ndarray) -> np.ndarray:
    """Class probabilities of the exported CNN for images x: exactly what the app runs, so
    its score, and the answers kept with it for the Compare page."""
    from core.lite import LiteModel

    return LiteModel(path).predict(x)


TRAINERS = {"logreg": train_logreg, "cnn": train_cnn}


def run_training(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> None:
    """Train the model `spec` describes and save it; every outcome ends with one final event."""
    if spec.kind == "speed":
        speed_check.measure_speed(spec, emit, should_stop)
        emit(events.stopped() if should_stop() else events.done())
        return
    outcome = TRAINERS[spec.kind](spec, emit, should_stop)
    if outcome is None:
        emit(events.stopped())
        return
    meta, write_files = outcome
    meta["versions"] = versions()
    emit(events.status("Saving the model"))
    saved = store.save(meta, write_files)
    emit(events.done(saved.id, meta["test_accuracy"], meta["train_seconds"]))
