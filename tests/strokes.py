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
