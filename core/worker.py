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

from core import data, events, kinds, logreg, metrics, scorecard, store
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
    emit(events.status("Starting TensorFlow"))
    from core import cnn

    ds, (x_train, y_train, x_val, y_val) = training_data(spec)
    n_train, n_val = len(y_train), len(y_val)
    per_epoch = int(np.ceil(n_train / spec.batch_size))
    model = cnn.build(spec, spec.epochs * per_epoch)
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
        "train_seconds": train_seconds, "params": int(model.count_params())}

    def write(folder):
        (folder / store.MODEL_FILES["cnn"]).write_bytes(lite_bytes)
        model.save(folder / store.SOURCE_FILES["cnn"])  # to download, fine-tune or export again
        model.save(folder / "model.h5")                 # legacy format, for people who want it
        scorecard.write(folder / scorecard.FILE, test_probs, ds.y_test, ds.source)

    return meta, write


def lite_probs(path: Path, x: np.ndarray) -> np.ndarray:
    """Class probabilities of the exported CNN for images x: exactly what the app runs, so
    its score, and the answers kept with it for the Compare page."""
    from core.lite import LiteModel

    return LiteModel(path).predict(x)


SPEED_BATCHES = 12   # CNN batches timed per recipe at most, after two to warm up,
SPEED_S = 1.5        # or as many as fit in these seconds (at least three)
SPEED_MIB = 64       # Logistic Regression: the larger rounds' rows hold this much float32, more
#                      than a CPU's last-level cache (32 MiB here), as a large run's do
SPEED_ROUNDS = 2     # Logistic Regression: rounds timed on each, after a first from zero
Measured = tuple[float, float, float, float]   # images/s, seconds timed, per epoch, extra once


def cnn_speed(spec: Spec, x: np.ndarray, y: np.ndarray, export_s: float = 0.0) -> Measured:
    """(images/s, seconds timed, 0, compile + `export_s`) of one CNN recipe, from a few timed
    batches (SPEED_BATCHES, or SPEED_S of them) after two that trace and compile it."""
    import keras

    from core import cnn

    batch, classes, ends = spec.batch_size, cnn.label_classes(spec), []

    class Enough(keras.callbacks.Callback):
        def on_train_batch_end(self, step, logs=None):
            ends.append(time.perf_counter())
            if len(ends) >= 3 and ends[-1] - start >= SPEED_S:
                self.model.stop_training = True   # Keras stops after this batch

    model = cnn.build(spec, steps=1000)
    start = time.perf_counter()
    model.fit(cnn.batches(x[:2 * batch], y[:2 * batch], batch, classes=classes), verbose=0,
              shuffle=False)
    warm_s = time.perf_counter() - start
    n = SPEED_BATCHES * batch
    start = time.perf_counter()
    model.fit(cnn.batches(x[:n], y[:n], batch, classes=classes), verbose=0, shuffle=False,
              callbacks=[Enough()])
    timed = ends[-1] - start
    speed = len(ends) * batch / timed
    return speed, timed, 0.0, max(0.0, warm_s - 2 * batch / speed) + export_s


def export_seconds(spec: Spec, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Seconds to export an (untrained) CNN of `spec` to LiteRT and score it on the test set."""
    from core import cnn

    model = cnn.build(spec, steps=1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="digitlab-") as tmp:
        cnn.export_lite(model, Path(tmp) / store.MODEL_FILES["cnn"])
        metrics.accuracy_and_loss(y_test, lite_probs(Path(tmp) / store.MODEL_FILES["cnn"], x_test))
    return time.perf_counter() - start


def logreg_rounds(spec: Spec, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(first round's seconds, the mean of the SPEED_ROUNDS after it) of a Logistic Regression
    on these images (and their shifted copies, if augmented), scored on them and a tenth, as a
    job's points are."""
    if spec.augment:
        x, y = logreg.shifted_copies(x, y)
    ends = []   # seconds since training began at each round's end
    logreg.fit_rounds(logreg.build(spec.C), x, y, x[:len(x) // 10], y[:len(y) // 10],
                      1 + SPEED_ROUNDS, lambda point, _: ends.append(point["time"]))
    return ends[0], (ends[-1] - ends[0]) / SPEED_ROUNDS


def speed_rows(shape: tuple[int, ...]) -> int:
    """Rows of the speed check's larger Logistic Regression rounds for images of `shape`:
    SPEED_MIB of float32 features (21,399 MNIST images, 5,461 CIFAR-10 ones)."""
    return SPEED_MIB * 2**20 // (4 * int(np.prod(shape)))


def logreg_speed(spec: Spec, x: np.ndarray, y: np.ndarray) -> Measured:
    """(images/s, seconds timed, seconds each round costs whatever its images, the first
    round's extra) of a Logistic Regression, from rounds on speed_rows rows and a tenth of
    them (an augmented one trains on 5 rows an image: it is timed on a fifth of the images).

    The rounds after the first are timed: the first from zero weights costs more (imports, and
    L-BFGS searching further), which a real job pays once, not every round. On one BLAS thread
    (core.logreg) a round's time grows with its rows from a few milliseconds at none, a third
    faster per row while they fit in the CPU's cache: on a quiet machine 6,000 MNIST rows
    (18 MiB) trained at 41,700 rows/s, 54,000 at 27,000 (docs/performance.md), so the check
    times rows that do not fit, as a large run's do not.
    """
    copies = len(logreg.shifted_copies(x[:1], y[:1])[1]) if spec.augment else 1
    big = speed_rows(x.shape[1:]) // copies
    small = big // 10
    _, small_s = logreg_rounds(spec, x[:small], y[:small])
    first_s, big_s = logreg_rounds(spec, x[:big], y[:big])
    speed = (big - small) / (big_s - small_s) if big_s > small_s * 1.2 else big / big_s
    per_round = max(0.0, big_s - big / speed)
    return speed, SPEED_ROUNDS * (small_s + big_s), per_round, max(0.0, first_s - big_s)


def speed_images(dataset: str) -> tuple[np.ndarray, ...]:
    """Training and test images of `dataset` to time (x, y, x_test, y_test), or random ones of
    its shape when it is not here (how long a batch takes does not depend on the pixels)."""
    n = max(speed_rows(data.info(dataset).shape), (SPEED_BATCHES + 3) * 256)
    try:
        ds = data.load(dataset)
        return ds.x_train[:n], ds.y_train[:n], ds.x_test, ds.y_test
    except data.DataError:
        h, w, c = data.info(dataset).shape
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (n, h, w, c) if c > 1 else (n, h, w), dtype=np.uint8)
        y = np.arange(n, dtype=np.uint8) % len(data.info(dataset).class_names)
        return x, y, x, y


def check_order(dataset: str) -> list[Spec]:
    """The speed check's cases, those the Train page shows first (a Logistic Regression, the
    default recipe, without augmentation) first, so their estimates come soonest; then the
    Logistic Regression once more: its ~1 s is a short sample of a shared machine's load (a
    round took 0.15-0.31 s from one second to the next), and the end of the check is another."""
    first = kinds.default_recipe(dataset)
    cases = sorted(kinds.speed_cases(dataset),
                   key=lambda c: c.augment or (c.kind == "cnn" and c.recipe != first))
    return cases + cases[:1]


def measure_speed(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> None:
    """How fast this machine trains each model and recipe on images of `spec.dataset`'s shape,
    and what each costs once (core.costs): the default models first."""
    start = time.perf_counter()
    x, y, x_test, y_test = speed_images(spec.dataset)
    import skops.io  # noqa: F401 - a Logistic Regression job loads it to save: part of its start
    emit(events.startup("logreg", time.perf_counter() - start))
    export_s = None
    for case in check_order(spec.dataset):
        if should_stop():
            return
        if case.kind == "logreg":
            measured = logreg_speed(case, x, y)
        else:
            if export_s is None:
                start = time.perf_counter()
                import keras  # noqa: F401 - how long a CNN job takes to start is part of its estimate
                emit(events.startup("cnn", time.perf_counter() - start))
                export_s = export_seconds(case, x_test, y_test)
            measured = cnn_speed(case, x, y, export_s)
        emit(events.speed(case.kind, kinds.speed_key(case), *measured))


TRAINERS = {"logreg": train_logreg, "cnn": train_cnn}


def run_training(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> None:
    """Train the model `spec` describes and save it; every outcome ends with one final event."""
    if spec.kind == "speed":
        measure_speed(spec, emit, should_stop)
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
