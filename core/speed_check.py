"""The speed check: how fast this machine trains each model and recipe on a dataset's image
shape, and what each costs once, measured in a worker process for core.costs' estimates.

A few CNN batches and Logistic Regression rounds are timed per case, on the dataset's own
images (or random ones of its shape when it is not here): the default models first.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core import data, events, kinds, logreg, metrics, store
from core.kinds import Spec

Emit = Callable[[events.Event], None]

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
    from core.lite import LiteModel

    model = cnn.build(spec, steps=1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="digitlab-") as tmp:
        path = Path(tmp) / store.MODEL_FILES["cnn"]
        cnn.export_lite(model, path)
        metrics.accuracy_and_loss(y_test, LiteModel(path).predict(x_test))
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
    """The speed check's cases: those the Train page shows first (a Logistic Regression, the
    default recipe) first, so their estimates come soonest; the augmented ones last, the default
    recipe's first; then the Logistic Regression again: its ~1 s samples a shared machine's load
    (a round took 0.15-0.31 s from one second to the next) at the check's end too."""
    first = kinds.default_recipe(dataset)
    cases = sorted(kinds.speed_cases(dataset),
                   key=lambda c: (c.augment, c.kind == "cnn" and c.recipe != first))
    return cases + cases[:1]


def with_augmentation(case: Spec, timed: dict[str, Measured], first: str) -> Measured:
    """An augmented recipe's speed: its own without, slowed by the augmentation's cost an image
    timed on the `first` recipe (the layers cost the same whatever network follows them)."""
    speed, _, per_epoch, once = timed[kinds.speed_key(case.replace(augment=False))]
    with_, timed_s, *_ = timed[kinds.speed_key(case.replace(recipe=first))]
    per_image = max(0.0, 1 / with_ - 1 / timed[kinds.speed_key(case.replace(recipe=first,
                                                                           augment=False))][0])
    return 1 / (1 / speed + per_image), timed_s, per_epoch, once


def measure_speed(spec: Spec, emit: Emit, should_stop: Callable[[], bool]) -> None:
    """How fast this machine trains each model and recipe on `spec.dataset`'s image shape, and
    what each costs once (core.costs): the default models first."""
    start = time.perf_counter()
    x, y, x_test, y_test = speed_images(spec.dataset)
    import skops.io  # noqa: F401 - a Logistic Regression job loads it to save: part of its start
    emit(events.startup("logreg", time.perf_counter() - start))
    export_s, timed, first = None, {}, kinds.default_recipe(spec.dataset)
    for case in check_order(spec.dataset):
        if should_stop():
            return
        if case.kind == "logreg":
            measured = logreg_speed(case, x, y)
        elif case.augment and case.recipe != first:
            measured = with_augmentation(case, timed, first)   # ~13 s less to wait
        else:
            if export_s is None:
                start = time.perf_counter()
                import keras  # noqa: F401 - how long a CNN job takes to start is part of its estimate
                emit(events.startup("cnn", time.perf_counter() - start))
                export_s = export_seconds(case, x_test, y_test)
            measured = cnn_speed(case, x, y, export_s)
            timed[kinds.speed_key(case)] = measured
        emit(events.speed(case.kind, kinds.speed_key(case), *measured))
