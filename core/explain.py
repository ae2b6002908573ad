"""Why a model answered what it did: occlusion saliency (any model) and a Logistic
Regression's per-pixel evidence.

Occlusion asks the model itself: blank a small square of the 28 x 28 input, read the
probabilities again, and call a place important when blanking it lowers a class's
probability. It needs nothing but predictions, so it explains both models the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PATCH = 4    # px: the blanked square, about a stroke's width in MNIST
STRIDE = 2   # px between squares: 13 x 13 places cover the 28 x 28 input
SIDE = 28
FLOOR = 1e-12  # probabilities below this count as this (float32 softmax can reach 0)


def patch_corners() -> list[tuple[int, int]]:
    """Top-left corners of every place the square is put."""
    steps = range(0, SIDE - PATCH + 1, STRIDE)
    return [(r, c) for r in steps for c in steps]


def occlusion(predict: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    """C x 28 x 28: how much blanking the squares over each pixel lowers each class's log-odds.

    `image` is 28 x 28 in [0, 1] (white ink on black); `predict` maps N x 28 x 28 to N x C.
    Squares over no ink change nothing (blank on blank), so only squares touching ink are
    run: one batch of at most 169 images. Positive: the pixel's ink speaks for the class;
    negative: against it. Each pixel averages the squares that cover it. Log-odds, not
    probabilities: a sure model's 0.99999 barely moves when a stroke goes, its odds do.
    """
    image = np.asarray(image, np.float32).reshape(SIDE, SIDE)
    inked = [(r, c) for r, c in patch_corners() if image[r:r + PATCH, c:c + PATCH].any()]
    batch = np.repeat(image[None], len(inked) + 1, axis=0)   # [0]: the image as it is
    for i, (r, c) in enumerate(inked, start=1):
        batch[i, r:r + PATCH, c:c + PATCH] = 0
    odds = log_odds(predict(batch))
    drops = odds[0] - odds[1:]                                    # N x C
    total = np.zeros((odds.shape[1], SIDE, SIDE), np.float32)
    for drop, (r, c) in zip(drops, inked):
        total[:, r:r + PATCH, c:c + PATCH] += drop[:, None, None]
    return total / coverage()


def log_odds(probs: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) per class, with 1 - p summed from the other classes (exact near 1)."""
    probs = np.maximum(np.asarray(probs, np.float64), FLOOR)
    return np.log(probs) - np.log(np.maximum(probs.sum(1, keepdims=True) - probs, FLOOR))


def coverage() -> np.ndarray:
    """28 x 28: how many squares cover each pixel (1 to 4)."""
    count = np.zeros((SIDE, SIDE), np.float32)
    for r, c in patch_corners():
        count[r:r + PATCH, c:c + PATCH] += 1
    return count


def evidence(coef: np.ndarray, image: np.ndarray, cls: int) -> np.ndarray:
    """28 x 28: each pixel's term w_c,i * x_i of a Logistic Regression's score for class `cls`.

    The terms add up to the class's score minus its intercept: the model is exactly this sum.
    """
    return (np.asarray(coef)[cls].reshape(SIDE, SIDE) * np.asarray(image, np.float32)
            ).astype(np.float32)


def blank_pixels(image: np.ndarray, order: np.ndarray, share: float) -> np.ndarray:
    """`image` with the first `share` of its ink pixels, in `order` (flat indices), set to 0."""
    ink = order[image.reshape(-1)[order] > 0]
    out = image.reshape(-1).copy()
    out[ink[:max(1, round(share * len(ink)))]] = 0
    return out.reshape(image.shape)


def deletion_check(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                   labels: np.ndarray, share: float = 0.1, seed: int = 0) -> np.ndarray:
    """Per image: does blanking its most salient ink lower the true class more than random ink?

    The saliency is the occlusion map of the true class; both blank the same number of
    ink pixels (`share` of them). Returns a boolean per image: True when the map wins.
    """
    rng = np.random.default_rng(seed)
    wins = []
    for image, label in zip(images, labels):
        image = np.asarray(image, np.float32).reshape(SIDE, SIDE)
        salient = np.argsort(-occlusion(predict, image)[label].reshape(-1), kind="stable")
        random = rng.permutation(SIDE * SIDE)
        probs = predict(np.stack([blank_pixels(image, salient, share),
                                  blank_pixels(image, random, share)]))[:, label]
        wins.append(probs[0] < probs[1])
    return np.array(wins)
