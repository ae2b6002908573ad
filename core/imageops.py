"""The OpenCV Lab's operations on NumPy images: edges, thresholds, augmentation.

Every function is pure: it takes uint8 arrays (H x W gray or H x W x 3 RGB) and never
changes them (when nothing needs doing, the input itself may come back). For each
operation shown on the page there is a `*_code` function that returns the one line of
OpenCV that does the same thing, so a student can copy it. Gray operations use a
variable called `gray`, the others `img`, and every line assigns to `out`.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from core.images import to_gray

# ---------------------------------------------------------------- edges

def canny(image: np.ndarray, low: float, high: float, blur_ksize: int = 0,
          aperture: int = 3, l2: bool = False) -> np.ndarray:
    """Canny edges (255 on edges, 0 elsewhere) of the grayscale image.

    An optional Gaussian blur first removes noise that would otherwise show as edges.
    Larger Sobel apertures (5, 7) give larger gradients, so they need higher thresholds.
    """
    gray = blur(to_gray(image), blur_ksize)
    return cv2.Canny(gray, low, high, apertureSize=aperture, L2gradient=l2)


def canny_code(low: float, high: float, blur_ksize: int = 0, aperture: int = 3,
               l2: bool = False) -> str:
    """The one line of OpenCV that `canny` runs with these settings."""
    src = f"cv2.GaussianBlur(gray, ({blur_ksize}, {blur_ksize}), 0)" if blur_ksize > 1 else "gray"
    extra = (f", apertureSize={aperture}" if aperture != 3 else "") + (
        ", L2gradient=True" if l2 else "")
    return f"out = cv2.Canny({src}, {_num(low)}, {_num(high)}{extra})"


def auto_canny_thresholds(image: np.ndarray, sigma: float = 0.33) -> tuple[int, int]:
    """Canny thresholds from the median brightness: (1 - sigma) and (1 + sigma) times it.

    When most pixels are one flat background value (a black MNIST digit background,
    a white page), the median is that background and says nothing about the edges,
    so the median of the other pixels is used instead.
    """
    gray = to_gray(image)
    median = float(np.median(gray))
    if median in (0.0, 255.0):
        rest = gray[gray != median]
        if rest.size:
            median = float(np.median(rest))
    low = int(max(0, (1 - sigma) * median))
    high = int(min(255, (1 + sigma) * median))
    return low, high


# ---------------------------------------------------------------- thresholds

THRESHOLD_MODES = {
    "binary": "Binary",
    "binary_inv": "Binary inverse",
    "trunc": "Truncate",
    "tozero": "To zero",
    "otsu": "Otsu (chooses the threshold)",
    "adaptive_mean": "Adaptive mean",
    "adaptive_gaussian": "Adaptive Gaussian",
}
_SIMPLE = {"binary": "THRESH_BINARY", "binary_inv": "THRESH_BINARY_INV",
           "trunc": "THRESH_TRUNC", "tozero": "THRESH_TOZERO"}
_ADAPTIVE = {"adaptive_mean": "ADAPTIVE_THRESH_MEAN_C",
             "adaptive_gaussian": "ADAPTIVE_THRESH_GAUSSIAN_C"}


def threshold(image: np.ndarray, mode: str, thresh: float = 127, block_size: int = 11,
              c: float = 2) -> tuple[np.ndarray, float | None]:
    """Threshold the grayscale image; returns (result, the threshold used).

    Otsu picks the threshold that best separates the histogram into two groups and
    returns it. Adaptive modes compare each pixel with the (mean or Gaussian-weighted)
    average of its block_size x block_size neighbourhood minus c, so there is no single
    threshold and None is returned.
    """
    gray = to_gray(image)
    if mode in _SIMPLE:
        used, out = cv2.threshold(gray, thresh, 255, getattr(cv2, _SIMPLE[mode]))
        return out, float(used)
    if mode == "otsu":
        used, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return out, float(used)
    if mode in _ADAPTIVE:
        _check_odd(block_size, "block_size", minimum=3)
        out = cv2.adaptiveThreshold(gray, 255, getattr(cv2, _ADAPTIVE[mode]),
                                    cv2.THRESH_BINARY, block_size, c)
        return out, None
    raise ValueError(f"unknown threshold mode {mode!r}; choose from {list(THRESHOLD_MODES)}")


def threshold_code(mode: str, thresh: float = 127, block_size: int = 11, c: float = 2) -> str:
    """The one line of OpenCV that `threshold` runs with these settings."""
    if mode in _SIMPLE:
        return f"T, out = cv2.threshold(gray, {_num(thresh)}, 255, cv2.{_SIMPLE[mode]})"
    if mode == "otsu":
        return "T, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)"
    if mode in _ADAPTIVE:
        return (f"out = cv2.adaptiveThreshold(gray, 255, cv2.{_ADAPTIVE[mode]}, "
                f"cv2.THRESH_BINARY, {block_size}, {_num(c)})")
    raise ValueError(f"unknown threshold mode {mode!r}")


def histogram(image: np.ndarray) -> np.ndarray:
    """How many pixels have each gray level 0..255 (256 counts)."""
    counts = cv2.calcHist([to_gray(image)], [0], None, [256], [0, 256])
    return counts.ravel().astype(np.int64)


# ---------------------------------------------------------------- augmentation

def flip(image: np.ndarray, horizontal: bool = True) -> np.ndarray:
    """Mirror left-right (or upside down with horizontal=False)."""
    return cv2.flip(image, 1 if horizontal else 0)


def flip_code(horizontal: bool = True, src: str = "img") -> str:
    return f"out = cv2.flip({src}, {1 if horizontal else 0})"


def _rotation(shape: tuple[int, ...], angle: float,
              keep_whole: bool) -> tuple[tuple[float, float], tuple[int, int], tuple[float, float]]:
    """Centre of rotation, output (width, height) and the extra shift that keeps it whole."""
    height, width = shape[:2]
    centre = ((width - 1) / 2, (height - 1) / 2)   # the middle of the pixel grid
    if not keep_whole:
        return centre, (width, height), (0.0, 0.0)
    cos, sin = abs(np.cos(np.radians(angle))), abs(np.sin(np.radians(angle)))
    size = (round(height * sin + width * cos), round(height * cos + width * sin))
    return centre, size, ((size[0] - width) / 2, (size[1] - height) / 2)


def rotate(image: np.ndarray, angle: float, keep_whole: bool = False,
           border: int = 0) -> np.ndarray:
    """Rotate counter-clockwise by `angle` degrees about the centre.

    keep_whole=False keeps the original size, so the corners are cut off (crop);
    keep_whole=True enlarges the canvas so the whole image stays visible.
    Uncovered areas are filled with `border` (0 = black, like an MNIST background).
    """
    centre, size, (dx, dy) = _rotation(image.shape, angle, keep_whole)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[0, 2] += dx
    matrix[1, 2] += dy
    return cv2.warpAffine(image, matrix, size, borderValue=border)


def rotate_code(shape: tuple[int, ...], angle: float, keep_whole: bool = False,
                src: str = "img") -> str:
    """The one line of OpenCV that `rotate` runs for an image of this shape."""
    centre, size, (dx, dy) = _rotation(shape, angle, keep_whole)
    matrix = f"cv2.getRotationMatrix2D(({_num(centre[0])}, {_num(centre[1])}), {_num(angle)}, 1.0)"
    if keep_whole:
        matrix += f" + [[0, 0, {_num(dx)}], [0, 0, {_num(dy)}]]"
    return f"out = cv2.warpAffine({src}, {matrix}, ({size[0]}, {size[1]}))"


def _contrast_gamma(brightness: float, contrast: float) -> tuple[float, float]:
    """addWeighted's alpha and gamma: scale around mid-gray 128, then add brightness.

    Rounded to 2 decimals so the code shown on the page gives exactly the same pixels.
    """
    alpha = round(float(contrast), 2)
    return alpha, round(float(brightness) + 128 * (1 - alpha), 2)


def brightness_contrast(image: np.ndarray, brightness: float = 0,
                        contrast: float = 1.0) -> np.ndarray:
    """out = contrast * (img - 128) + 128 + brightness, clipped to 0..255.

    cv2.addWeighted saturates (clips) instead of wrapping around as uint8 NumPy
    arithmetic would, and unlike cv2.convertScaleAbs it does not turn negatives positive.
    """
    alpha, gamma = _contrast_gamma(brightness, contrast)
    return cv2.addWeighted(image, alpha, image, 0, gamma)


def brightness_contrast_code(brightness: float = 0, contrast: float = 1.0,
                             src: str = "img") -> str:
    alpha, gamma = _contrast_gamma(brightness, contrast)
    return f"out = cv2.addWeighted({src}, {_num(alpha)}, {src}, 0, {_num(gamma)})"


class Augmented(NamedTuple):
    """One randomly augmented image and a short description of what was done."""

    image: np.ndarray
    caption: str


def random_augmentations(image: np.ndarray, n: int, seed: int = 0,
                         flips: bool = True) -> list[Augmented]:
    """`n` random variants of one image, as a training pipeline makes them each epoch.

    Each: a horizontal flip half of the time (if `flips`), a rotation of up to 15°
    either way, brightness -40..+40 and contrast x0.8..x1.2. The same seed gives the
    same images. Flips are wrong for digits (a mirrored 2 is not a 2), hence the switch.
    """
    rng = np.random.default_rng(seed)
    variants = []
    for _ in range(n):
        coin, angle = rng.random(), rng.uniform(-15, 15)
        brightness, contrast = rng.uniform(-40, 40), rng.uniform(0.8, 1.2)
        flipped = flips and coin < 0.5
        out = flip(image) if flipped else image
        out = brightness_contrast(rotate(out, angle), brightness, contrast)
        caption = (("flipped, " if flipped else "") + f"rotated {angle:+.0f}°, "
                   f"brightness {brightness:+.0f}, contrast ×{contrast:.2f}")
        variants.append(Augmented(out, caption))
    return variants


def blur(image: np.ndarray, ksize: int) -> np.ndarray:
    """Gaussian blur with an odd ksize x ksize kernel; ksize 0 or 1 means no blur."""
    if ksize <= 1:
        return image
    _check_odd(ksize, "ksize", minimum=3)
    return cv2.GaussianBlur(image, (ksize, ksize), 0)


# ---------------------------------------------------------------- small helpers

def _check_odd(value: int, name: str, minimum: int) -> None:
    if value < minimum or value % 2 == 0:
        raise ValueError(f"{name} must be an odd number >= {minimum}, got {value}")


def _num(x: float) -> str:
    """A number as a person would write it in code: 50, 1.5, 639.5 (exact, no rounding)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))
