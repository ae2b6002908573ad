"""core.explain: occlusion saliency asks the model itself, and a Logistic Regression's evidence
adds up to its score."""

from functools import partial

import numpy as np
import pytest

from core import data, explain, logreg, store
from core.lite import LiteModel
from core.predictor import Predictor

BUILTIN = store.BUILTIN_ROOT
needs_builtins = pytest.mark.skipif(not (BUILTIN / "cnn-default" / "model.tflite").exists(),
                                    reason="built-in models missing: run `make models`")


@pytest.fixture(scope="module")
def digits():
    ds = data.load("mnist")
    return ds.x_test[:50].astype(np.float32) / 255, ds.y_test[:50]


@pytest.fixture(scope="module")
def lr_weights():
    return logreg.load_weights(BUILTIN / "logreg-default" / "model.npz", (28, 28, 1))


def looks_at_top_left(batch: np.ndarray) -> np.ndarray:
    """A stand-in model: class 1 is as likely as there is ink in the top-left 8 x 8 corner."""
    ink = batch[:, :8, :8].sum(axis=(1, 2))
    p1 = 1 / (1 + np.exp(-(ink - 2)))
    return np.stack([1 - p1, p1], axis=1)


def test_occlusion_finds_the_only_pixels_a_model_uses():
    image = np.zeros((28, 28), np.float32)
    image[2:6, 2:6] = 1      # ink the model uses
    image[20:24, 20:24] = 1  # ink it ignores
    heat = explain.occlusion(looks_at_top_left, image)
    assert heat.shape == (2, 28, 28)
    assert heat[1, 2:6, 2:6].min() > 0          # blanking it lowers class 1
    assert np.all(heat[1, 16:, 16:] == 0)       # blanking ignored ink changes nothing
    assert np.allclose(heat[0], -heat[1])       # with two classes, one's loss is the other's gain


def test_occlusion_runs_only_squares_that_touch_ink():
    image = np.zeros((28, 28), np.float32)
    image[13, 13] = 1
    sizes = []
    explain.occlusion(lambda b: sizes.append(len(b)) or looks_at_top_left(b), image)
    assert sizes == [1 + 4]  # the image itself, and the 4 squares over the one pixel
    assert explain.coverage(28, 28).min() == 1 and explain.coverage(28, 28).max() == 4


def test_a_blank_image_has_an_empty_map():
    assert not explain.occlusion(looks_at_top_left, np.zeros((28, 28), np.float32)).any()


@needs_builtins
def test_logreg_evidence_adds_up_to_the_score_minus_the_intercept(digits, lr_weights):
    images, _ = digits
    for image in images[:20]:
        scores = image.reshape(-1) @ lr_weights.coef_.T + lr_weights.intercept_
        for cls in range(10):
            terms = explain.evidence(lr_weights.coef_, image, cls)
            assert terms.shape == (28, 28)
            assert terms.sum() == pytest.approx(scores[cls] - lr_weights.intercept_[cls], abs=1e-5)


@needs_builtins
def test_blanking_the_salient_ink_hurts_more_than_random_ink(digits, lr_weights):
    """The deletion test (benchmarks/draw.py runs it on 200 digits: >= 90 % for the CNN)."""
    images, labels = digits
    cnn = LiteModel(BUILTIN / "cnn-default" / "model.tflite")
    assert explain.deletion_check(cnn.predict, images, labels).mean() >= 0.8
    lr = partial(logreg.predict_proba, lr_weights)
    assert explain.deletion_check(lr, images, labels).mean() >= 0.8


@needs_builtins
def test_the_prediction_worker_gives_the_same_map_as_the_model_in_process(digits):
    image = digits[0][0]
    path = BUILTIN / "cnn-default" / "model.tflite"
    predictor = Predictor()
    try:
        through_worker = explain.occlusion(partial(predictor.predict, path), image)
        inside = predictor.inside(path, image[None])
    finally:
        predictor.close()
    assert np.allclose(through_worker, explain.occlusion(LiteModel(path).predict, image), atol=1e-5)
    assert [layer.maps.ndim for layer in inside.layers] == [3] * len(inside.layers)
    assert inside.filters.shape[1:] == (3, 3)
