"""How two trained models compare: scores from their confusion matrices, calibration, speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------- comparing two models
# Everything below starts from the true labels and a model's N x C class probabilities,
# so it is the same for a Logistic Regression and a CNN, and testable without either.

@dataclass(frozen=True)
class Reliability:
    """A reliability diagram: per confidence bin, how sure the model was and how often right."""

    edges: np.ndarray        # n_bins + 1 bin edges on [0, 1]
    confidence: np.ndarray   # mean top-class probability per bin (NaN if the bin is empty)
    accuracy: np.ndarray     # share of correct predictions per bin (NaN if empty)
    count: np.ndarray        # images per bin
    ece: float               # expected calibration error: weighted mean |accuracy - confidence|


@dataclass(frozen=True)
class Evaluation:
    """One model scored on one test set: its probabilities and the numbers derived from them."""

    y_true: np.ndarray
    probs: np.ndarray
    seconds: float           # time to predict the whole test set
    accuracy: float
    precision: float         # macro average over classes
    recall: float
    f1: float
    log_loss: float
    confusion: np.ndarray    # counts, rows = true class, columns = predicted class
    per_class: dict          # "precision" / "recall" / "f1" / "support": one value per class
    reliability: Reliability

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def n_wrong(self) -> int:
        return int(np.sum(self.pred != self.y_true))


def check_probabilities(probs: np.ndarray, n_images: int, n_classes: int) -> np.ndarray:
    """The probabilities as float64 N x C, or ValueError in plain words if they do not fit.

    A model trained on other classes (or another kind of data) gives the wrong shape.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != n_images:
        raise ValueError(f"the model returned {probs.shape} outputs for {n_images:,} images")
    if probs.shape[1] != n_classes:
        raise ValueError(f"the model gives {probs.shape[1]} scores per image, but this dataset "
                         f"has {n_classes} classes: it was trained on something else")
    return probs


def evaluate(y_true: np.ndarray, probs: np.ndarray, seconds: float = 0.0,
             *, n_classes: int) -> Evaluation:
    """Every number the Compare page shows about one model, from its test-set probabilities
    over the `n_classes` classes of the dataset it is scored on (a model of others is refused).

    Computed with NumPy from the confusion matrix (the tests check each number against
    scikit-learn's): importing sklearn.metrics would cost the server ~100 MiB.
    """
    probs = check_probabilities(probs, len(y_true), n_classes)
    y_true = np.asarray(y_true).astype(np.int64)
    pred = probs.argmax(axis=1)
    classes = per_class(y_true, pred, n_classes)
    return Evaluation(
        y_true=y_true, probs=probs.astype(np.float32), seconds=seconds,
        accuracy=float(np.mean(pred == y_true)),
        precision=float(classes["precision"].mean()), recall=float(classes["recall"].mean()),
        f1=float(classes["f1"].mean()),
        log_loss=log_loss(y_true, probs), confusion=confusion(y_true, pred, n_classes),
        per_class=classes,
        reliability=reliability(y_true, probs))


def log_loss(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean cross-entropy of the true classes (probabilities clipped at 1e-15, as scikit-learn does)."""
    picked = _normalised(probs)[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(picked)))


def accuracy_and_loss(y_true: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """Accuracy of the top class and mean cross-entropy: a curve point's or a score's pair."""
    return float(np.mean(probs.argmax(1) == y_true)), log_loss(y_true, probs)


def score(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray,
          *, n_classes: int) -> Evaluation:
    """Evaluate a model given as a predict function on test images x with labels y.

    One image goes first, so loading the model is not counted in `seconds`.
    """
    predict(x[:1])
    probs, seconds = timed(predict, x)
    return evaluate(y, probs, seconds, n_classes=n_classes)


def _normalised(probs: np.ndarray) -> np.ndarray:
    """Rows that sum to exactly 1 in float64 (float32 outputs are off by ~1e-7, log loss warns)."""
    probs = np.clip(probs, 1e-15, 1.0)
    return probs / probs.sum(axis=1, keepdims=True)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """C x C counts: row = true class, column = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def row_normalised(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of a true class given each prediction."""
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)


def per_class(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Precision, recall, F1 and support of every class (0 where a class is never predicted)."""
    cm = confusion(y_true, y_pred, n_classes)
    hits = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def top_confusions(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The k most frequent mistakes as (true, predicted, count), most frequent first."""
    mistakes = [(int(cm[t, p]), t, p) for t in range(len(cm)) for p in range(len(cm))
                if t != p and cm[t, p] > 0]
    mistakes.sort(key=lambda m: (-m[0], m[1], m[2]))
    return [(t, p, n) for n, t, p in mistakes[:k]]


def cell_indices(y_true: np.ndarray, y_pred: np.ndarray, true: int, pred: int) -> np.ndarray:
    """Indices of the test images in one confusion-matrix cell."""
    return np.flatnonzero((np.asarray(y_true) == true) & (np.asarray(y_pred) == pred))


def disagreements(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict[str, np.ndarray]:
    """Where two models predict different classes, split by who (if anyone) is right.

    Keys: "a_right" (only A is right), "b_right" (only B is right), "both_wrong".
    """
    y_true, pred_a, pred_b = map(np.asarray, (y_true, pred_a, pred_b))
    differ = pred_a != pred_b
    return {"a_right": np.flatnonzero(differ & (pred_a == y_true)),
            "b_right": np.flatnonzero(differ & (pred_b == y_true)),
            "both_wrong": np.flatnonzero(differ & (pred_a != y_true) & (pred_b != y_true))}


def reliability(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 10) -> Reliability:
    """Bin the images by top-class probability; compare confidence with accuracy per bin.

    ECE is the mean gap |accuracy - confidence| weighted by how many images fall in
    each bin: 0 means "when it says 90 % it is right 90 % of the time".
    """
    probs = np.asarray(probs, dtype=np.float64)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, confidence, n_bins) / count
        mean_acc = np.bincount(bins, correct.astype(float), n_bins) / count
    used = count > 0
    ece = float(np.sum(count[used] / count.sum() * np.abs(mean_acc[used] - mean_conf[used])))
    return Reliability(edges, mean_conf, mean_acc, count, ece)


FEW_IMAGES = 100   # a reliability bin with fewer images gives only a rough accuracy: at 100
                   # images of a 50 % bin, chance alone moves it by up to ±10 points (95 %)


def few_image_bins(rel: Reliability) -> np.ndarray:
    """Which bins of a reliability diagram hold some, but fewer than FEW_IMAGES, images."""
    return (rel.count > 0) & (rel.count < FEW_IMAGES)


# ---------------------------------------------------------------- speed

def latency_p50(predict: Callable[[np.ndarray], object], image: np.ndarray,
                warmup: int = 3, repeats: int = 30) -> float:
    """Median seconds for `predict` on one image, after a few warm-up calls."""
    batch = np.asarray(image)[None]
    for _ in range(warmup):
        predict(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def timed(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> tuple[np.ndarray, float]:
    """(predict(x), seconds it took)."""
    start = time.perf_counter()
    result = predict(x)
    return result, time.perf_counter() - start
