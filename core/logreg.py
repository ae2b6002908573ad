"""Logistic Regression (scikit-learn) trained in rounds, so the page can draw its curves.

Each round continues L-BFGS (scikit-learn's default solver) for `ITERATIONS_PER_EPOCH`
iterations from where the last one stopped; every iteration reads all the training
images. It converges to the optimum of the regularised loss (README, "Choices, measured").
Short runs also measure their curves inside rounds (`fit_rounds`), without changing the fit.
"""

from __future__ import annotations

import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core import events, metrics

if TYPE_CHECKING:  # scikit-learn (~80 MiB) is imported when a model is built or scored
    from sklearn.linear_model import LogisticRegression


def flatten(x: np.ndarray) -> np.ndarray:
    """N uint8 images of any shape -> N x (pixels x channels) float32 features in [0, 1].

    One float array is made, not two (50,000 CIFAR-10 images are 586 MB as float32).
    """
    return np.divide(x.reshape(len(x), -1), np.float32(255), dtype=np.float32)


ITERATIONS_PER_EPOCH = 20
BLAS_THREADS = 1   # a round's matrix products on one core: see fit_rounds


def build(C: float = 1.0, seed: int = 0) -> LogisticRegression:
    """An untrained multinomial Logistic Regression that learns one round per `fit`."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="lbfgs", max_iter=ITERATIONS_PER_EPOCH,
                              warm_start=True, tol=0.0, random_state=seed)


def shifted_copies(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images plus their copies moved one pixel up, down, left and right (5x the data).

    A linear model cannot learn that a digit is the same digit one pixel over; seeing it
    both ways spreads its weights and reads slightly off-centre digits (drawn ones) better.
    """
    moved = [np.roll(x, step, axis) for axis in (1, 2) for step in (-1, 1)]
    return np.concatenate([x, *moved]), np.tile(y, 5)


def scores(model: LogisticRegression, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, log loss) of `model` on flattened images `x` with labels `y`.

    The loss is core.metrics' (as the CNN's): a curve point scores all the training images,
    and scikit-learn's log_loss took a quarter of that time in checks.
    """
    proba = model.predict_proba(x)
    truth = np.searchsorted(model.classes_, y)   # the column of each image's class
    return metrics.accuracy_and_loss(truth, proba)


Report = Callable[[dict, "LogisticRegression"], None]   # (curve point, the model at that point)


def fit_rounds(model: LogisticRegression, x_train: np.ndarray, y_train: np.ndarray,
               x_val: np.ndarray, y_val: np.ndarray, epochs: int, report: Report,
               should_stop: Callable[[], bool] = lambda: False, points_per_round: int = 1) -> None:
    """Train for `epochs` rounds, reporting `points_per_round` curve points in each, evenly
    spaced in L-BFGS iterations, the last at the round's end (core.events.Epoch).

    Accuracy and loss are scored on all the training and all the validation images at every
    point. Points inside a round come from a scikit-learn callback that reads L-BFGS's
    iterate after the chosen iterations, so the optimisation is the one without them (same
    iterations, same final weights): only the scoring is added.

    BLAS runs on BLAS_THREADS: L-BFGS makes ~23 pairs of thin products (rows x 784 by 784 x 10)
    a round, and OpenBLAS's two threads wait for each other at every one, which on 2 shared cores
    cost 0.2-0.3 s a round whatever the rows and made rounds 1.7x slower on all 54,000 (up to
    7x when another process held a core); on one thread a round's time is its rows / a speed,
    so the speed check's small rounds predict a large run's (docs/performance.md).
    """
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    xt, xv = flatten(x_train), flatten(x_val)
    inside = events.point_steps(ITERATIONS_PER_EPOCH, points_per_round)[:-1]
    start = time.perf_counter()

    def point(fitted: LogisticRegression, epoch: float) -> None:
        accuracy, loss = scores(fitted, xt, y_train)
        val_accuracy, val_loss = scores(fitted, xv, y_val)
        report({"epoch": epoch, "time": time.perf_counter() - start, "accuracy": accuracy,
                "loss": loss, "val_accuracy": val_accuracy, "val_loss": val_loss}, fitted)

    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        for done in range(epochs):
            if should_stop():
                return
            if inside:
                model.set_callbacks(AfterIterations(inside, lambda fitted, i, done=done:
                                                    point(fitted, done + i / ITERATIONS_PER_EPOCH)))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)  # a round stops L-BFGS
                    model.fit(xt, y_train)
            finally:
                model.set_callbacks()   # a saved model keeps no callback
            point(model, float(done + 1))


class AfterIterations:
    """A scikit-learn fit callback (sklearn.callback) that calls `at(fitted, i)` after each
    chosen L-BFGS iteration `i` of a fit, `fitted` being the model as it is at that moment."""

    def __init__(self, iterations: list[int], at: Callable[["LogisticRegression", int], None]):
        self.iterations, self.at = set(iterations), at

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        done = context.task_id + 1   # scikit-learn numbers a fit's L-BFGS iterations from 0
        if (context.task_name == "lbfgs-iter" and fitted_estimator is not None
                and done in self.iterations):
            self.at(fitted_estimator, done)


def weight_images(model: LogisticRegression | Weights, shape: tuple[int, int, int]) -> np.ndarray:
    """The weights as one image per class, to show: 10 x H x W (grey) or 10 x H x W x 3 (colour)."""
    h, w, c = shape
    images = np.asarray(model.coef_, np.float32).reshape(len(model.coef_), h, w, c)
    return images[..., 0] if c == 1 else images


@dataclass(frozen=True)
class Weights:
    """A fitted multinomial Logistic Regression as plain arrays, named as scikit-learn names them.

    This is what the app loads to read digits (from model.npz): a softmax over 10 linear
    scores needs NumPy only, while importing scikit-learn and skops costs the server ~100 MiB.
    """

    coef_: np.ndarray        # 10 x features (one per pixel and colour channel)
    intercept_: np.ndarray   # 10
    classes_: np.ndarray     # 10

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        scores = features @ self.coef_.T + self.intercept_
        scores -= scores.max(axis=1, keepdims=True)  # softmax without overflow
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def weights(model: LogisticRegression) -> Weights:
    """The arrays of a fitted multinomial LogisticRegression."""
    return Weights(model.coef_.astype(np.float32), model.intercept_.astype(np.float32),
                   np.asarray(model.classes_))


def save_weights(model: LogisticRegression, path) -> None:
    w = weights(model)
    with open(path, "wb") as f:
        np.savez(f, coef=w.coef_, intercept=w.intercept_, classes=w.classes_)


def load_weights(path, shape: tuple[int, int, int]) -> Weights:
    """Weights from model.npz (plain arrays only: no pickle) for images of `shape` (H, W, C);
    ValueError if they do not fit."""
    if not zipfile.is_zipfile(path):  # else NumPy's message suggests unpickling it
        raise ValueError("it is not an .npz file")
    with np.load(path, allow_pickle=False) as f:
        w = Weights(f["coef"], f["intercept"], f["classes"])
    n, features = len(w.classes_), int(np.prod(shape))
    if w.coef_.shape != (n, features) or w.intercept_.shape != (n,) or n < 2:
        raise ValueError(f"the arrays have shapes {w.coef_.shape}, {w.intercept_.shape}, "
                         f"{w.classes_.shape}, not those of a model for "
                         f"{' x '.join(map(str, shape))} images")
    return w


PREDICT_CHUNK = 1000   # images made float at a time: a whole CIFAR-10 test set would be 123 MB


def predict_proba(model: LogisticRegression | Weights, x: np.ndarray) -> np.ndarray:
    """Class probabilities for N images of the model's shape (uint8 0-255 or float 0-1),
    a chunk at a time, so the server never holds a float copy of a whole test set."""
    x = np.asarray(x)
    chunks = [x[i:i + PREDICT_CHUNK] for i in range(0, len(x), PREDICT_CHUNK)] or [x]
    return np.concatenate([model.predict_proba(features(chunk)) for chunk in chunks])


def features(x: np.ndarray) -> np.ndarray:
    """Images (uint8 0-255 or float 0-1) as the rows of features a Logistic Regression reads."""
    return flatten(x) if x.dtype == np.uint8 else x.reshape(len(x), -1).astype(np.float32)
