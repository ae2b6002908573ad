"""Draw the OpenCV Lab's sample images with OpenCV itself, so none is downloaded.

    .venv/bin/python assets/samples/make_samples.py

writes, next to this script (the same bytes every time):
- shapes.png  shapes and text on a plain background: clean edges for Canny
- scene.png   a photo-like landscape: soft gradients, a sun, hills and trees
- page.png    a printed page lit from one side: global thresholds fail, adaptive ones work
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 800, 540


def shapes() -> np.ndarray:
    """Filled and outlined shapes plus text (RGB)."""
    img = np.full((HEIGHT, WIDTH, 3), (246, 244, 238), np.uint8)
    aa = cv2.LINE_AA
    cv2.rectangle(img, (60, 60), (260, 220), (66, 99, 235), -1, aa)
    cv2.circle(img, (400, 150), 95, (229, 57, 53), -1, aa)
    cv2.fillPoly(img, [np.array([[560, 230], [660, 50], [760, 230]], np.int32)], (67, 160, 71), aa)
    cv2.ellipse(img, (170, 370), (110, 60), 25, 0, 360, (251, 192, 45), -1, aa)
    cv2.rectangle(img, (330, 300), (470, 440), (33, 33, 33), 6, aa)
    cv2.circle(img, (400, 370), 40, (142, 36, 170), 6, aa)
    star = [(650 + r * np.sin(a), 370 - r * np.cos(a))
            for a, r in zip(np.linspace(0, 2 * np.pi, 10, endpoint=False), [80, 34] * 5)]
    cv2.polylines(img, [np.array(star, np.int32)], True, (0, 121, 107), 5, aa)
    for x in range(40, 760, 24):
        cv2.line(img, (x, 470), (x + 12, 470), (120, 120, 120), 2, aa)
    cv2.putText(img, "Digit Lab", (50, 522), cv2.FONT_HERSHEY_DUPLEX, 1.2, (17, 24, 39), 2, aa)
    cv2.putText(img, "OpenCV 0123456789", (360, 522), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                (79, 70, 229), 2, aa)
    return img


def scene() -> np.ndarray:
    """A landscape with smooth light, like a photo (RGB)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    t = (y / HEIGHT)[..., None]
    img = (1 - t) * np.float32([70, 120, 200]) + t * np.float32([250, 200, 160])   # sky
    sun = np.exp(-((x - 590) ** 2 + (y - 170) ** 2) / (2 * 70.0 ** 2))[..., None]
    img = img + sun * np.float32([255, 230, 150]) * 0.9
    cv2.circle(img, (590, 170), 42, (255, 246, 214), -1, cv2.LINE_AA)
    for base, amp, freq, phase, colour in [(330, 60, 0.009, 0.0, (96, 112, 150)),
                                           (390, 45, 0.013, 1.7, (58, 104, 74)),
                                           (450, 30, 0.021, 4.0, (34, 76, 44))]:
        xs = np.arange(WIDTH + 1, dtype=np.float32)
        ridge = base - amp * np.sin(xs * freq + phase) - 0.4 * amp * np.sin(xs * freq * 2.7)
        hill = np.array([*zip(xs, ridge), (WIDTH, HEIGHT), (0, HEIGHT)], np.int32)
        shade = (1 - 0.35 * (y - base + amp) / HEIGHT)[..., None]
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        cv2.fillPoly(mask, [hill], 255, cv2.LINE_AA)
        alpha = (mask / 255.0)[..., None]
        img = img * (1 - alpha) + alpha * shade * np.float32(colour)
    for cx in (120, 160, 215, 700, 745):                 # a few dark trees
        cv2.fillPoly(img, [np.array([[cx, 395], [cx - 18, 470], [cx + 18, 470]], np.int32)],
                     (20, 50, 30), cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def page() -> np.ndarray:
    """Dark text on paper lit unevenly from the top left (grayscale)."""
    text = np.full((HEIGHT, WIDTH), 235, np.uint8)
    lines = ["A page photographed in uneven light:",
             "0 1 2 3 4 5 6 7 8 9",
             "Global thresholds lose the dark corner;",
             "adaptive thresholds compare each pixel",
             "with its neighbours and keep every word.",
             "cv2.adaptiveThreshold(gray, 255, ...)"]
    for i, line in enumerate(lines):
        cv2.putText(text, line, (40, 70 + i * 78), cv2.FONT_HERSHEY_SIMPLEX, 1.05, 40, 2,
                    cv2.LINE_AA)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    light = 1.05 - 0.75 * np.hypot(x / WIDTH, y / HEIGHT) / np.sqrt(2)   # bright top-left
    shadow = 1 - 0.25 * np.exp(-((x - 620) ** 2) / (2 * 90.0 ** 2))      # a soft shadow band
    img = cv2.GaussianBlur(text * light * shadow, (0, 0), 0.8)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def main() -> None:
    for name, image in [("shapes.png", shapes()), ("scene.png", scene()), ("page.png", page())]:
        path = HERE / name
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"{path.name}: {image.shape[1]}x{image.shape[0]}, {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
