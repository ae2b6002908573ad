"""How a model's accuracy holds up when test images are rotated, shifted, noisy or blurred.

The Compare page's question: does augmentation make a model robust? Perturbations work on
any size of uint8 image, grey (N x H x W) or colour (N x H x W x 3).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from core import imageops

ROBUSTNESS = {   # how each test image is changed, in words for the page
    "original": "unchanged",
    "rotated": "15° left or right (at random)",
    "shifted": "3 px left, right, up or down (at random)",
    "noisy": "Gaussian noise, σ = 50 of 255 gray levels",
    "blurred": "Gaussian blur, 5 x 5 kernel",
}
SHIFTS = ((-3, 0), (3, 0), (0, -3), (0, 3))


def robustness_subset(n: int, size: int = 1000, seed: int = 0) -> np.ndarray:
    """A fixed, seeded choice of `size` test indices (all of them if there are fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def perturb(x: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """The uint8 images changed as ROBUSTNESS[kind] says; the same seed, same result."""
    rng = np.random.default_rng(seed)
    if kind == "original":
        return np.array(x)
    if kind == "rotated":
        angles = rng.choice([-15.0, 15.0], len(x))
        return np.stack([imageops.rotate(img, a) for img, a in zip(x, angles)])
    if kind == "shifted":
        moves = rng.integers(0, len(SHIFTS), len(x))
        return np.stack([shift(img, *SHIFTS[m]) for img, m in zip(x, moves)])
    if kind == "noisy":
        return gaussian_noise(np.asarray(x), 50.0, seed=seed)
    if kind == "blurred":
        return np.stack([imageops.blur(img, 5) for img in x])
    raise ValueError(f"unknown perturbation {kind!r}; choose from {list(ROBUSTNESS)}")


def robustness_sets(x: np.ndarray, size: int = 1000, seed: int = 0) -> tuple[np.ndarray, dict]:
    """(subset indices, {perturbation: perturbed images of that subset}) for every kind."""
    idx = robustness_subset(len(x), size, seed)
    return idx, {kind: perturb(x[idx], kind, seed) for kind in ROBUSTNESS}


def robustness_scores(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                      y: np.ndarray, size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Accuracy of `predict` on each perturbed version of a fixed subset of (x, y).

    All versions go to the model in one call: one round trip to a CNN worker.
    """
    idx, sets = robustness_sets(x, size, seed)
    probs = np.asarray(predict(np.concatenate(list(sets.values()))))
    preds = probs.argmax(axis=1).reshape(len(sets), len(idx))
    return {kind: float(np.mean(p == np.asarray(y)[idx])) for kind, p in zip(sets, preds)}


def shift(image: np.ndarray, dx: int, dy: int, border: int = 0) -> np.ndarray:
    """Move the image dx pixels right and dy pixels down, filling with `border`."""
    height, width = image.shape[:2]
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, (width, height), borderValue=border)


def gaussian_noise(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise with standard deviation `sigma` (in gray levels), clipped to 0..255."""
    rng = np.random.default_rng(seed)
    noisy = image.astype(np.float64) + rng.normal(0.0, sigma, image.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)
