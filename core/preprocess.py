"""Any digit image -> a 28x28 float32 input in MNIST's own style.

MNIST was made like this: the ink of each digit was cropped to its bounding box, scaled
with anti-aliasing to fit a 20x20 box (keeping the aspect ratio), and placed in a 28x28
field so that its centre of mass sits on pixel (14, 14) (measured on the test set: every
digit's longer side is exactly 20 px, its centre of mass within half a pixel of (14, 14)).
A model trained on MNIST only reads digits that look like that, so every image the app
predicts on goes through the same steps here. A small digit drawn in a corner of the
canvas then becomes the same input as a large centred one.

`to_mnist` takes drawings and clean images: the canvas's RGBA, grayscale, RGB or float,
light-on-dark or dark-on-light. Photos of paper first go through core.photo, which finds
the digit's ink, then through the same steps.
Colour arrays are RGB(A), as Pillow and the drawing canvas give them, not OpenCV's BGR.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FIELD = 28          # side of the model input
BOX = 20            # the digit is scaled to fit a BOX x BOX square inside it, as in MNIST
CENTRE = 14.0       # where MNIST puts the centre of mass (pixel index, x and y)

# What counts as ink, and when there is no digit. Ink is measured after the background
# is moved to 0 and the strongest ink stretched to 1.
BORDER_FRACTION = 0.02  # the outer 2% of the image (at least 1 px) tells the background level
MIN_CONTRAST = 0.15     # ink must stand ~38 of 255 grey levels above the background, or it is blank
INK_LEVEL = 0.2         # fainter pixels are noise (JPEG ringing, smudges) and are dropped
MIN_INK_PIXELS = 15     # fewer is a speck: the thinnest MNIST '1' has 34 pixels at this level
MIN_EXTENT = 0.1        # the ink must span 10% of the image's longer side: 28 px on a 280 px
                        # canvas, less than a small digit; a 28x28 MNIST digit spans 20/28
MAX_STROKE_RATIO = 0.2  # mean stroke width / digit height above this is thinned to it: thicker
                        # than 98% of MNIST's digits (median 0.11), as a wide brush on a small digit is
MIN_STROKES_LONG = 1.5  # and 1.5 times its thickest stroke: a dot is as long as it is wide,
                        # whatever the brush (all 10,000 MNIST test digits: 1.67 or more)

BLANK = "The image is blank: there is nothing to read."   # any dataset of drawings: no "digit"
TOO_SMALL = "The ink is too small to read: draw or write it bigger."


@dataclass(frozen=True)
class Preprocessed:
    """The model input plus the steps that led to it, for the page to show."""

    input28: np.ndarray         # (28, 28) float32 in [0, 1], white digit on black: the model input
    is_empty: bool              # no digit found: show `reason`, predict nothing
    reason: str                 # why it is empty, in words a person can act on ("" if not)
    ink: np.ndarray             # uint8, the input's size (a shrunk photo's): white ink on black,
                                # background and noise removed (photos: the digit's components)
    cropped: np.ndarray         # uint8 crop of `ink` to the digit's bounding box ((0, 0) when empty)
    box: tuple[int, int, int, int] | None  # (x, y, width, height) of that crop in `ink`
    inverted: bool              # the input was dark ink on a light background
    thresholded: np.ndarray | None = None  # from_photo only: the photo's ink mask, uint8 0/255
    threshold_method: str = ""  # from_photo only: "otsu", or "flattened" (uneven light evened first)


# ---------------------------------------------------------------- any image -> grey levels

def to_unit_range(a: np.ndarray) -> np.ndarray:
    """Pixel values as float32 in [0, 1]: integers are 0-255 (uint16: 0-65535), floats 0-1 or 0-255."""
    if a.dtype == bool:
        return a.astype(np.float32)
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535
    if np.issubdtype(a.dtype, np.integer):
        return np.clip(a.astype(np.float32) / 255, 0, 1)
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError("the image contains NaN or infinite values")
    if a.max() > 1:
        a = a / 255
    return np.clip(a, 0, 1)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Grey level of RGB(A) pixels (uint8, or float32 in [0, 1]) as float32 in [0, 1].

    uint8 input (the canvas's) is converted after cvtColor: a third of the work.
    """
    code = cv2.COLOR_RGBA2GRAY if rgb.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), code)
    return grey.astype(np.float32) / 255 if grey.dtype == np.uint8 else grey


def flatten_rgba(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Grey strokes with transparency laid on the colour they are not, so they keep their contrast.

    The canvas gives strokes on a transparent background: white strokes go over black,
    dark strokes (the canvas's default colour is black) over white.
    """
    if alpha.sum() == 0:
        return np.zeros_like(grey)
    strokes_are_dark = np.average(grey, weights=alpha) < 0.5
    backdrop = 1.0 if strokes_are_dark else 0.0
    return grey * alpha + backdrop * (1 - alpha)


def as_grey(image: np.ndarray) -> np.ndarray:
    """Any 2-D image (grey, RGB, RGBA; uint8, bool or float) as float32 grey levels in [0, 1]."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        raise ValueError(f"expected a grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4) image, "
                         f"got shape {a.shape}")
    if a.ndim == 2:
        return to_unit_range(a)
    grey = luminance(a if a.dtype == np.uint8 else to_unit_range(a))  # alpha is ignored here
    opaque = a.shape[2] == 3 or a[..., 3].min() == (255 if a.dtype == np.uint8 else 1)
    return grey if opaque else flatten_rgba(grey, to_unit_range(a[..., 3]))


# ---------------------------------------------------------------- ink

def border_level(grey: np.ndarray) -> float:
    """Median of the image's outer frame: the background, even if a stroke touches the edge."""
    h, w = grey.shape
    k = max(1, round(BORDER_FRACTION * min(h, w)))
    frame = np.concatenate([grey[:k].ravel(), grey[-k:].ravel(),
                            grey[:, :k].ravel(), grey[:, -k:].ravel()])
    return float(np.median(frame))


def light_border(grey: np.ndarray) -> bool:
    """True when the image's frame is light, so the ink is the dark part (paper, not canvas)."""
    return border_level(grey) > 0.5


def ink_of(grey: np.ndarray, inverted: bool) -> np.ndarray:
    """White ink on black: background at 0, strongest ink at 1, faint noise set to 0."""
    ink = 1 - grey if inverted else grey
    ink = np.clip(ink - border_level(ink), 0, 1)
    contrast = float(ink.max())
    if contrast < MIN_CONTRAST:
        return np.zeros_like(ink)
    ink = ink / contrast
    ink[ink < INK_LEVEL] = 0
    return ink


def bounding_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the non-zero pixels, or None if there are none."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def stroke_width(ink: np.ndarray) -> float:
    """Width of the thickest stroke: twice the largest distance from ink to the background."""
    solid = (ink >= 0.5).astype(np.uint8)
    return 2 * float(cv2.distanceTransform(solid, cv2.DIST_L2, 5).max())


def why_empty(ink: np.ndarray, box: tuple[int, int, int, int] | None) -> str:
    """Why this ink is not a digit (BLANK, TOO_SMALL), or "" when it may be one."""
    if box is None:
        return BLANK
    x, y, w, h = box
    extent = max(w, h)
    too_few = np.count_nonzero(ink) < MIN_INK_PIXELS
    too_short = extent < MIN_EXTENT * max(ink.shape)
    a_dot = extent < MIN_STROKES_LONG * stroke_width(np.pad(ink[y:y + h, x:x + w], 1))
    return TOO_SMALL if too_few or too_short or a_dot else ""


# ---------------------------------------------------------------- MNIST's steps

def mean_stroke_width(ink: np.ndarray) -> float:
    """Average stroke width: a stroke of width w and length L has area wL and outline ~2L."""
    solid = (ink >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(solid, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2 * float(solid.sum()) / max(outline, 1.0)


def thin_thick_strokes(crop: np.ndarray) -> np.ndarray:
    """Erode strokes much thicker than MNIST's down to MAX_STROKE_RATIO of the digit's size.

    A 30 px brush on an 80 px digit would become a blob at 20x20; MNIST's own digits are
    almost never touched.
    """
    excess = mean_stroke_width(crop) - MAX_STROKE_RATIO * max(crop.shape)
    radius = int(round(excess / 2))
    if radius < 1:
        return crop
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.erode(crop, kernel)


def fit_in_box(crop: np.ndarray, size: int = BOX) -> np.ndarray:
    """Scale so the longer side is `size` px, keeping the aspect ratio.

    Shrinking averages pixels (INTER_AREA), the anti-aliasing that gave MNIST its grey
    edges; the rare enlargement (ink smaller than 20 px) interpolates linearly.
    """
    h, w = crop.shape
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, (new_w, new_h), interpolation=interpolation)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(x, y) of the intensity-weighted mean pixel position.

    Plain NumPy: cv2.moments would read a 2-column image (a thin '1') as a list of points.
    """
    total = image.sum()
    ys, xs = np.indices(image.shape)
    return float((xs * image).sum() / total), float((ys * image).sum() / total)


def place_in_field(digit: np.ndarray) -> np.ndarray:
    """Paste into a 28x28 field so the centre of mass lands exactly on (14, 14).

    Shifted by fractions of a pixel (bilinear), not MNIST's whole pixels, so the input does
    not jump when the drawing changes a little. A very lopsided digit may lose an edge,
    as it did in MNIST.
    """
    cx, cy = centre_of_mass(digit)
    shift = np.float32([[1, 0, CENTRE - cx], [0, 1, CENTRE - cy]])
    return cv2.warpAffine(digit, shift, (FIELD, FIELD), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats as 0-255 bytes, for showing."""
    return np.round(image * 255).astype(np.uint8)


def to_mnist(image: np.ndarray) -> Preprocessed:
    """Any digit image -> the 28x28 float32 input MNIST models expect, plus the steps.

    Ink (inverted if dark-on-light) -> crop to its bounding box -> thin strokes far
    thicker than MNIST's -> fit in 20x20 with anti-aliasing -> place in 28x28 by centre of
    mass -> scale to [0, 1]. Blank or speck-sized ink gives `is_empty=True`, an all-zero
    input and a `reason`.
    """
    grey = as_grey(image)
    inverted = light_border(grey)
    ink = ink_of(grey, inverted)
    box = bounding_box(ink)
    reason = why_empty(ink, box)
    if reason:
        return Preprocessed(np.zeros((FIELD, FIELD), np.float32), True, reason, to_uint8(ink),
                            np.zeros((0, 0), np.uint8), box, inverted)
    x, y, w, h = box
    crop = ink[y:y + h, x:x + w]
    field = place_in_field(fit_in_box(thin_thick_strokes(crop)))
    input28 = np.clip(field / field.max(), 0, 1).astype(np.float32)
    return Preprocessed(input28, False, "", to_uint8(ink), to_uint8(crop), box, inverted)
