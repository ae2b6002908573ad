"""A hand-made set of pen strokes for the digits 0-9, for testing what people draw.

Each digit is a list of strokes; a stroke is a list of (x, y) points in a unit box
(y down), drawn as one mouse-down ... mouse-up. `placed` scales a digit into a box of
the canvas, `render` rasterises it the way the canvas does (white, round, anti-aliased
brush on black), and the browser tests replay the same points with the mouse.
"""

from __future__ import annotations

import cv2
import numpy as np

Stroke = list[tuple[float, float]]


def arc(cx, cy, rx, ry, start_deg, end_deg, n=24) -> Stroke:
    t = np.radians(np.linspace(start_deg, end_deg, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


DIGIT_STROKES: dict[int, list[Stroke]] = {
    0: [arc(0.5, 0.5, 0.32, 0.45, -90, 275, 36)],
    1: [[(0.38, 0.18), (0.52, 0.05), (0.52, 0.95)]],
    2: [arc(0.5, 0.3, 0.3, 0.25, 190, 360 + 30, 20) + [(0.15, 0.95), (0.88, 0.95)]],
    3: [arc(0.48, 0.28, 0.3, 0.23, 200, 450, 20) + arc(0.48, 0.72, 0.34, 0.23, -90, 160, 20)],
    4: [[(0.62, 0.95), (0.62, 0.05), (0.12, 0.68), (0.9, 0.68)]],
    5: [[(0.82, 0.05), (0.28, 0.05), (0.22, 0.45)] + arc(0.5, 0.66, 0.32, 0.29, -130, 150, 22)],
    6: [[(0.72, 0.05)] + arc(0.72, 0.62, 0.52, 0.57, -90, -180, 12)[1:]
        + arc(0.5, 0.7, 0.3, 0.25, 180, 540, 30)],
    7: [[(0.1, 0.06), (0.9, 0.06), (0.42, 0.95)]],
    8: [arc(0.5, 0.27, 0.24, 0.22, 90, 450, 30) + arc(0.5, 0.72, 0.3, 0.23, -90, 270, 30)],
    9: [arc(0.48, 0.3, 0.3, 0.25, 0, 360, 30) + [(0.78, 0.3), (0.72, 0.95)]],
}


def placed(digit: int, left: float, top: float, height: float) -> list[Stroke]:
    """The digit's strokes in canvas pixels: a box `height` tall (0.7 as wide) at (left, top)."""
    width = 0.7 * height
    return [[(left + x * width, top + y * height) for x, y in stroke]
            for stroke in DIGIT_STROKES[digit]]


def render(strokes: list[Stroke], brush: int = 20, size: int = 280) -> np.ndarray:
    """RGBA canvas image of the strokes, as streamlit-drawable-canvas returns it."""
    canvas = np.zeros((size, size, 4), np.uint8)
    canvas[..., 3] = 255
    for stroke in strokes:
        points = np.round(np.array(stroke) * 16).astype(np.int32)  # 4 fractional bits
        cv2.polylines(canvas, [points], False, (255, 255, 255, 255), brush, cv2.LINE_AA, shift=4)
    return canvas


# Sizes and places a person might draw at on a 280x280 canvas: large and centred, small
# in a corner, and in between. (left, top, height)
PLACEMENTS = [(75, 40, 200), (20, 20, 110), (160, 150, 100), (100, 90, 140), (30, 120, 150),
              (170, 25, 80)]
BRUSHES = [12, 20, 30]


LIGHTS = ("even", "gradient", "shadow")


def photographed(mask: np.ndarray, light: str = "even", ink_on_paper: bool = True,
                 table: bool = False, seed: int = 0) -> np.ndarray:
    """An RGB "photo" of a white-on-black ink mask: dark ink on paper under some light.

    Brightness = light x reflectance (paper 0.85, ink 0.12) + camera noise. Light is
    "even", a "gradient" from full on the left to 30 % on the right, or a sharp "shadow"
    at 45 % over the lower right, its edge crossing the middle. With `table`, the paper
    ends 25 px before the right edge and a dark table shows.
    """
    h, w = mask.shape
    stroke = cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255
    reflectance = 0.85 - 0.73 * stroke if ink_on_paper else 0.1 + 0.75 * stroke
    if table:
        reflectance[:, -25:] = 0.2
    ys, xs = np.indices((h, w))
    light_level = {"even": np.full((h, w), 0.9),
                   "gradient": np.broadcast_to(np.linspace(1.0, 0.3, w), (h, w)),
                   "shadow": np.where(xs + 0.3 * ys > 7 * w / 12, 0.45, 1.0)}[light]
    noise = np.random.default_rng(seed).normal(0, 4, (h, w))
    grey = np.clip(255 * light_level * reflectance + noise, 0, 255).astype(np.uint8)
    return np.dstack([grey, grey, grey])


def drawings() -> list[tuple[int, np.ndarray]]:
    """(digit, canvas image) for every digit at every placement and brush width: 180 drawings."""
    return [(d, render(placed(d, *p), b)) for d in range(10) for p in PLACEMENTS for b in BRUSHES]


def drawn_set() -> tuple[np.ndarray, np.ndarray]:
    """The stroke set as the Draw page's canvas tab reads it: (N x 28 x 28 inputs, digits)."""
    from core.preprocess import to_mnist

    cases = drawings()
    return (np.stack([to_mnist(image).input28 for _, image in cases]),
            np.array([d for d, _ in cases]))


def photo_set() -> tuple[np.ndarray, np.ndarray]:
    """The stroke set photographed (dark ink on paper, each drawing in each of the three
    lights), as the Draw page's photo tab reads it: (N x 28 x 28 inputs, digits)."""
    from core.photo import from_photo

    cases = [(d, image, light) for d, image in drawings() for light in LIGHTS]
    x = np.stack([from_photo(photographed(image[..., 0], light, seed=i)).input28
                  for i, (_, image, light) in enumerate(cases)])
    return x, np.array([d for d, _, _ in cases])
