"""Why a model answered what it did: occlusion saliency (any model) and a Logistic
Regression's per-pixel evidence.

Occlusion asks the model itself: blank a small square of the input image, read the
probabilities again, and call a place important when blanking it lowers a class's
probability. It needs nothing but predictions, so it explains both models the same way.
Images are H x W (grey) or H x W x C (colour) floats in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PATCH = 4    # px: the blanked square, about a stroke's width in MNIST
STRIDE = 2   # px between squares: 13 x 13 places cover a 28 x 28 input
FLOOR = 1e-12  # probabilities below this count as this (float32 softmax can reach 0)


def patch_corners(height: int, width: int) -> list[tuple[int, int]]:
    """Top-left corners of every place the square is put."""
    return [(r, c) for r in range(0, height - PATCH + 1, STRIDE)
            for c in range(0, width - PATCH + 1, STRIDE)]


def occlusion(predict: Callable[[np.ndarray], np.ndarray], image: np.ndarray,
              fill: float | np.ndarray = 0.0) -> np.ndarray:
    """K x H x W: how much blanking the squares over each pixel lowers each class's log-odds.

    `image` is H x W (x C) in [0, 1]; `predict` maps N images of that shape to N x K
    probabilities. A blanked square takes the value `fill` (black, for white ink on black;
    a photo's mean colour, for photos). Squares that are `fill` already change nothing, so
    only the others are run: one batch (at most 169 images for 28 x 28). Positive: the
    pixel speaks for the class; negative: against it. Each pixel averages the squares that
    cover it. Log-odds, not probabilities: a sure model's 0.99999 barely moves when a
    stroke goes, its odds do.
    """
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    fill = np.asarray(fill, np.float32)
    changed = [(r, c) for r, c in patch_corners(height, width)
               if np.any(image[r:r + PATCH, c:c + PATCH] != fill)]
    batch = np.repeat(image[None], len(changed) + 1, axis=0)   # [0]: the image as it is
    for i, (r, c) in enumerate(changed, start=1):
        batch[i, r:r + PATCH, c:c + PATCH] = fill
    odds = log_odds(predict(batch))
    drops = odds[0] - odds[1:]                                    # N x K
    total = np.zeros((odds.shape[1], height, width), np.float32)
    for drop, (r, c) in zip(drops, changed):
        total[:, r:r + PATCH, c:c + PATCH] += drop[:, None, None]
    return total / coverage(height, width)


def log_odds(probs: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) per class, with 1 - p summed from the other classes (exact near 1)."""
    probs = np.maximum(np.asarray(probs, np.float64), FLOOR)
    return np.log(probs) - np.log(np.maximum(probs.sum(1, keepdims=True) - probs, FLOOR))


def coverage(height: int, width: int) -> np.ndarray:
    """H x W: how many squares cover each pixel (1 to 4)."""
    count = np.zeros((height, width), np.float32)
    for r, c in patch_corners(height, width):
        count[r:r + PATCH, c:c + PATCH] += 1
    return np.maximum(count, 1)   # a last row or column no square reaches counts once


def evidence(coef: np.ndarray, image: np.ndarray, cls: int) -> np.ndarray:
    """H x W: each pixel's terms w_c,i * x_i of a Logistic Regression's score for class `cls`,
    summed over its colour channels.

    The terms add up to the class's score minus its intercept: the model is exactly this sum.
    """
    image = np.asarray(image, np.float32)
    terms = np.asarray(coef)[cls].reshape(image.shape) * image
    return (terms.sum(axis=2) if terms.ndim == 3 else terms).astype(np.float32)


def blank_pixels(image: np.ndarray, order: np.ndarray, share: float) -> np.ndarray:
    """`image` with the first `share` of its ink pixels, in `order` (flat indices), set to 0."""
    ink = order[image.reshape(-1)[order] > 0]
    out = image.reshape(-1).copy()
    out[ink[:max(1, round(share * len(ink)))]] = 0
    return out.reshape(image.shape)


def deletion_check(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                   labels: np.ndarray, share: float = 0.1, seed: int = 0) -> np.ndarray:
    """Per grey image: does blanking its most salient ink lower the true class more than random ink?

    The saliency is the occlusion map of the true class; both blank the same number of
    ink pixels (`share` of them). Returns a boolean per image: True when the map wins.
    """
    rng = np.random.default_rng(seed)
    wins = []
    for image, label in zip(images, labels):
        image = np.asarray(image, np.float32)
        salient = np.argsort(-occlusion(predict, image)[label].reshape(-1), kind="stable")
        random = rng.permutation(image.size)
        probs = predict(np.stack([blank_pixels(image, salient, share),
                                  blank_pixels(image, random, share)]))[:, label]
        wins.append(probs[0] < probs[1])
    return np.array(wins)
