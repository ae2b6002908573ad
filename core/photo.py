"""A photo of a handwritten digit on paper, in any light -> the same input as a drawing.

The digit's ink is found first (grey, shrink, blur, threshold, keep the digit's connected
components), then core.preprocess.to_mnist makes the 28x28 input from that clean mask, as
MNIST was made from black-and-white scans.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from core import images
from core.preprocess import Preprocessed, as_grey, to_mnist, to_uint8

# Sizes are fractions of the photo's longer side.
PHOTO_MAX_SIDE = 1000   # larger photos are shrunk first: a 12 MP photo gives the same digit
BLUR_SIZE = 5           # Gaussian blur kernel: smooths paper grain and sensor noise
NEIGHBOURHOOD = 0.25    # the paper's brightness is judged over windows this wide: over twice
                        # a thick stroke
STAND_OUT = 10          # grey levels a pixel must differ from the paper's brightness to stand out
MIN_INK_CONTRAST = 20   # ink's mean is this many grey levels below the paper's (faint pencil in
                        # dim light ~30; the two halves of blurred camera noise differ by under 6)
MAX_OTSU_INK = 0.25     # Otsu marking more than a quarter of the photo as ink,
MAX_OTSU_EDGE_INK = 0.1  # or a tenth of its edge, has split the light, not the ink
MIN_PART = 0.05         # a component under 5% of the digit's area is a speck
NEAR = 0.3              # a part within 30% of the digit's size belongs to it (a 5's top bar)


def odd_window(image: np.ndarray, fraction: float) -> int:
    """A window `fraction` of the image's longer side, odd (OpenCV needs a centre), >= 3 px."""
    return max(3, round(fraction * max(image.shape))) | 1


def more_dark_than_light_marks(grey: np.ndarray) -> bool:
    """Whether a photo's ink is darker than its paper: do more pixels stand out dark than light?

    Paper is most of a photo, so ink is what differs from the paper's brightness around
    it. (light_border, which to_mnist uses, fails on photos: a shadow over half the
    border flips it.)
    """
    grey8 = to_uint8(grey)
    difference = grey8.astype(np.int16) - paper_brightness(grey8)
    return np.count_nonzero(difference < -STAND_OUT) > np.count_nonzero(difference > STAND_OUT)


def otsu_mask(dark_ink: np.ndarray) -> np.ndarray:
    """Ink mask (uint8 0/255): pixels darker than the level Otsu picks to split the histogram.

    Otsu always splits, even blank paper: when the two sides differ by less than
    MIN_INK_CONTRAST grey levels it has split noise, and there is no ink.
    """
    _, mask = cv2.threshold(dark_ink, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink, paper = dark_ink[mask > 0], dark_ink[mask == 0]
    if ink.size == 0 or paper.size == 0 or paper.mean() - ink.mean() < MIN_INK_CONTRAST:
        return np.zeros_like(mask)
    return mask


def looks_evenly_lit(mask: np.ndarray) -> bool:
    """Did Otsu find a digit, rather than the darker half of an unevenly lit page?"""
    edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return (np.count_nonzero(mask) <= MAX_OTSU_INK * mask.size
            and np.count_nonzero(edge) <= MAX_OTSU_EDGE_INK * edge.size)


def paper_brightness(dark_ink: np.ndarray) -> np.ndarray:
    """The paper's brightness at every pixel: the median of a neighbourhood wider than strokes.

    Ink is the minority of every such neighbourhood, so the median is paper, and it
    follows gradients and the sharp edge of a shadow.
    """
    return cv2.medianBlur(dark_ink, odd_window(dark_ink, NEIGHBOURHOOD))


def paper_behind_ink(dark_ink: np.ndarray) -> np.ndarray:
    """The paper's brightness at every pixel, ink removed: a morphological closing (max, then
    min, over windows wider than strokes) fills every dark stroke with the paper around it.

    Unlike the median, it does not need ink to be a neighbourhood's minority, so thick
    marker strokes where a digit crosses itself (an 8's waist) stay ink; and it keeps the
    sharp edge of a shadow where it is.
    """
    side = odd_window(dark_ink, NEIGHBOURHOOD)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    # Padded with the edge pixels first: the photo goes on beyond its edges as it ends (a
    # dim corner stays dim, a table at the edge stays wide, not a thin dark stripe).
    padded = cv2.copyMakeBorder(dark_ink, side, side, side, side, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
    return closed[side:-side, side:-side]


def flatten_light(dark_ink: np.ndarray) -> np.ndarray:
    """The photo divided by the paper's brightness, so gradients and shadows vanish."""
    flat = dark_ink / np.maximum(paper_behind_ink(dark_ink), 1.0)
    return to_uint8(np.clip(flat, 0, 1))


def threshold_ink(dark_ink: np.ndarray) -> tuple[np.ndarray, str]:
    """Ink mask (uint8 0/255) of a blurred photo with dark ink, and how it was made.

    Otsu's one global level is right for even light and keeps thick strokes whole; when
    its mask shows it split the light instead, the light is flattened first ("flattened").
    README, "Choices, measured", says why not an adaptive threshold.
    """
    mask = otsu_mask(dark_ink)
    if looks_evenly_lit(mask):
        return mask, "otsu"
    return otsu_mask(flatten_light(dark_ink)), "flattened"


def keep_digit(mask: np.ndarray) -> np.ndarray:
    """The digit's part of an ink mask: the largest connected component, plus parts near it.

    Specks under MIN_PART of the digit's area, or farther than NEAR times its size, are
    dropped; closer parts stay, so a 5's detached top bar is not cut off.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count == 1:
        return np.zeros_like(mask)
    area = stats[:, cv2.CC_STAT_AREA]
    main = 1 + int(np.argmax(area[1:]))  # label 0 is the paper
    size = max(stats[main, cv2.CC_STAT_WIDTH], stats[main, cv2.CC_STAT_HEIGHT])
    keep = [i for i in range(1, count)
            if i == main or (area[i] >= MIN_PART * area[main]
                             and box_gap(stats[i], stats[main]) <= NEAR * size)]
    return np.where(np.isin(labels, keep), 255, 0).astype(np.uint8)


def box_gap(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels between two (x, y, width, height) boxes; 0 when they overlap."""
    gap_x = max(0, b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]))
    gap_y = max(0, b[1] - (a[1] + a[3]), a[1] - (b[1] + b[3]))
    return int(max(gap_x, gap_y))


def from_photo(image: np.ndarray) -> Preprocessed:
    """A photo of a handwritten digit on paper, in any light -> the same input as to_mnist.

    Grey -> shrink -> Gaussian blur -> threshold (Otsu, flattening uneven light first) ->
    keep the digit's components -> to_mnist on that clean mask, as MNIST was made from
    black-and-white scans. `thresholded` holds the whole mask for the page to show.
    """
    grey = images.bounded(as_grey(image), PHOTO_MAX_SIDE)
    dark_on_light = more_dark_than_light_marks(grey)
    dark_ink = to_uint8(grey if dark_on_light else 1 - grey)
    blurred = cv2.GaussianBlur(dark_ink, (BLUR_SIZE, BLUR_SIZE), 0)
    mask, method = threshold_ink(blurred)
    result = to_mnist(keep_digit(mask))
    return replace(result, inverted=dark_on_light, thresholded=mask, threshold_method=method)
