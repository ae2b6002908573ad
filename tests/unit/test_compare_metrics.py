"""core.metrics for the Compare page: scores against scikit-learn's own, and the cell click."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, confusion_matrix, log_loss,
                             precision_recall_fscore_support)

from core import compare_charts, metrics, robustness

CLASSES = [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def known():
    """Labels and probabilities of a made-up model that is right about 80 % of the time."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 10, 500)
    logits = rng.normal(0, 1, (500, 10))
    logits[np.arange(500), y] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs.astype(np.float32)


def test_evaluation_matches_scikit_learn(known):
    y, probs = known
    ev = metrics.evaluate(y, probs, seconds=0.5, n_classes=10)
    pred = probs.argmax(axis=1)
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="macro", zero_division=0)
    assert ev.accuracy == pytest.approx(accuracy_score(y, pred))
    assert (ev.precision, ev.recall, ev.f1) == pytest.approx((p, r, f))
    exact = probs.astype(np.float64) / probs.astype(np.float64).sum(axis=1, keepdims=True)
    assert ev.log_loss == pytest.approx(log_loss(y, exact), rel=1e-5)
    np.testing.assert_array_equal(ev.confusion, confusion_matrix(y, pred, labels=range(10)))
    assert ev.n_wrong == int(np.sum(pred != y))
    assert 0.6 < ev.accuracy < 0.95


def test_per_class_matches_scikit_learn(known):
    y, probs = known
    pred = probs.argmax(axis=1)
    report = metrics.per_class(y, pred, n_classes=10)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    for key, expected in zip(("precision", "recall", "f1", "support"), (p, r, f, s)):
        np.testing.assert_allclose(report[key], expected)


def test_a_class_never_predicted_scores_zero_not_nan():
    y = np.array([0, 1, 2, 2])
    pred = np.array([0, 1, 1, 1])          # class 2 is never predicted
    report = metrics.per_class(y, pred, n_classes=3)
    assert report["precision"][2] == 0 and report["recall"][2] == 0


def test_wrong_number_of_classes_is_refused_in_plain_words():
    with pytest.raises(ValueError, match="3 scores per image.*10 classes"):
        metrics.evaluate(np.array([0, 1]), np.full((2, 3), 1 / 3), n_classes=10)


def test_top_confusions_are_the_largest_off_diagonal_cells():
    cm = np.array([[50, 2, 7],
                   [0, 40, 0],
                   [7, 1, 30]])
    assert metrics.top_confusions(cm, 3) == [(0, 2, 7), (2, 0, 7), (0, 1, 2)]
    assert metrics.top_confusions(np.eye(3, dtype=int) * 5) == []


def test_row_normalised_keeps_empty_rows_at_zero():
    shares = metrics.row_normalised(np.array([[3, 1], [0, 0]]))
    np.testing.assert_allclose(shares, [[0.75, 0.25], [0, 0]])


def test_cell_indices_and_disagreements():
    y = np.array([1, 1, 2, 3, 3])
    a = np.array([1, 7, 2, 3, 5])
    b = np.array([1, 1, 4, 8, 5])
    np.testing.assert_array_equal(metrics.cell_indices(y, a, 1, 7), [1])
    groups = metrics.disagreements(y, a, b)
    np.testing.assert_array_equal(groups["a_right"], [2, 3])
    np.testing.assert_array_equal(groups["b_right"], [1])
    np.testing.assert_array_equal(groups["both_wrong"], [])   # index 4: same wrong answer


def test_reliability_matches_scikit_learns_calibration_curve(known):
    y, probs = known
    rel = metrics.reliability(y, probs, n_bins=10)
    confidence = probs.max(axis=1).astype(np.float64)
    correct = probs.argmax(axis=1) == y
    prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=10)
    used = rel.count > 0
    np.testing.assert_allclose(rel.accuracy[used], prob_true)
    np.testing.assert_allclose(rel.confidence[used], prob_pred, rtol=1e-6)
    expected_ece = np.sum(rel.count[used] / len(y) * np.abs(prob_true - prob_pred))
    assert rel.ece == pytest.approx(expected_ece)
    assert rel.count.sum() == len(y)


def test_ece_by_hand():
    # Two images 90 % sure (one right), two 60 % sure (both right): |0.5-0.9|/2 + |1-0.6|/2.
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    assert metrics.reliability(y, probs).ece == pytest.approx(0.4)


def test_clicked_cell_reads_the_markers_customdata():
    assert compare_charts.clicked_cell([{"x": "5", "y": "3", "customdata": [3, 5, 12, 0.1]}]) == (3, 5)
    assert compare_charts.clicked_cell([]) is None
    assert compare_charts.clicked_cell(None) is None
    assert compare_charts.clicked_cell([{"x": "5", "y": "3", "curve_number": 0}]) is None  # heatmap


def test_every_marker_of_the_figure_maps_back_to_its_own_cell():
    """A click on the marker drawn at (x=predicted, y=true) must give exactly that cell."""
    cm = np.arange(100).reshape(10, 10)
    fig = compare_charts.confusion_matrix(cm, CLASSES, "t", "data", selected=(2, 7))
    heatmap, markers = fig.data
    assert heatmap.hoverinfo == "skip" and markers.marker.opacity == 0
    for i, (x, y, data) in enumerate(zip(markers.x, markers.y, markers.customdata)):
        # What Streamlit returns when that marker is clicked (lists, as in JSON).
        point = {"curve_number": 1, "point_index": i, "x": x, "y": y, "customdata": list(data)}
        true, pred = compare_charts.clicked_cell([point])
        assert (CLASSES[true], CLASSES[pred]) == (y, x)
        assert data[2] == cm[true, pred]


def test_perturbations_are_seeded_and_keep_the_format():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 28, 28)).astype(np.uint8)
    for kind in robustness.ROBUSTNESS:
        out = robustness.perturb(x, kind, seed=3)
        assert out.shape == x.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out, robustness.perturb(x, kind, seed=3))
        assert np.array_equal(out, x) == (kind == "original")
    with pytest.raises(ValueError):
        robustness.perturb(x, "upside down")


def test_robustness_scores_predict_once_on_every_perturbed_subset():
    y = np.array([0, 1] * 30)
    x = np.zeros((60, 28, 28), np.uint8)
    calls = []

    def always_zero(images):
        calls.append(len(images))
        return np.tile([1.0] + [0.0] * 9, (len(images), 1))

    scores = robustness.robustness_scores(always_zero, x, y, size=40)
    assert calls == [40 * len(robustness.ROBUSTNESS)]
    assert list(scores) == list(robustness.ROBUSTNESS)
    idx = robustness.robustness_subset(60, 40)
    assert all(s == pytest.approx(np.mean(y[idx] == 0)) for s in scores.values())
    np.testing.assert_array_equal(idx, robustness.robustness_subset(60, 40))   # fixed subset


def test_latency_warms_up_then_takes_the_median():
    calls = []
    p50 = metrics.latency_p50(lambda batch: calls.append(batch.shape), np.zeros((28, 28)),
                              warmup=2, repeats=5)
    assert calls == [(1, 28, 28)] * 7 and p50 >= 0


def test_score_loads_with_one_image_then_times_the_whole_set(known):
    y, probs = known
    calls = []

    def predict(images):
        calls.append(len(images))
        return probs[:len(images)]

    ev = metrics.score(predict, np.zeros((len(y), 28, 28), np.uint8), y, n_classes=10)
    assert calls == [1, len(y)] and ev.seconds >= 0
    assert ev.accuracy == pytest.approx(np.mean(probs.argmax(axis=1) == y))
