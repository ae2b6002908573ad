"""A small dataset of one's own making for tests and benchmarks: 5 letters drawn as if by hand.

Each sketch is a letter in one of OpenCV's Hershey fonts, dark ink on a white 140 x 140 canvas
like the Draw page's, with its thickness, size, slant, rotation and place jittered (seeded);
it is then prepared as the Your data page prepares a drawing (core.own_examples.prepared:
cropped and centred like MNIST) and added to a made sketch dataset, whose own fixed test
split scores the models (benchmarks/transfer.py).

    .venv/bin/python tests/letters.py out.png [BEFPR] [sloppy]   # a sheet to look at
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

LETTERS = ("A", "E", "K", "R", "X")
CONFUSABLE = ("B", "E", "F", "P", "R")   # harder: E/F and B/P/R differ by a stroke or two
PER_CLASS = 30
CANVAS = 140
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_PLAIN)


def sketch(letter: str, rng: np.random.Generator) -> np.ndarray:
    """One "handwritten" `letter`: CANVAS x CANVAS uint8 grey, dark ink on white."""
    font = FONTS[int(rng.integers(len(FONTS)))]
    scale = float(rng.uniform(2.2, 3.4)) * (1.6 if font == cv2.FONT_HERSHEY_PLAIN else 1.0)
    thick = int(rng.integers(5, 12))
    (w, h), _ = cv2.getTextSize(letter, font, scale, thick)
    image = np.full((CANVAS, CANVAS), 255, np.uint8)
    origin = ((CANVAS - w) // 2 + int(rng.integers(-12, 13)),
              (CANVAS + h) // 2 + int(rng.integers(-12, 13)))
    cv2.putText(image, letter, origin, font, scale, 0, thick, cv2.LINE_AA)
    slant = float(rng.uniform(-0.25, 0.25))
    turn = cv2.getRotationMatrix2D((CANVAS / 2, CANVAS / 2), float(rng.uniform(-15, 15)), 1.0)
    turn[0, 1] += slant
    return cv2.warpAffine(image, turn, (CANVAS, CANVAS), borderValue=255)


def messy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sketch made sloppier: bent by a smooth random displacement (elastic distortion,
    Simard et al. 2003) and with a stretch of stroke rubbed out, as a hurried hand leaves it."""
    field = [cv2.GaussianBlur(rng.uniform(-1, 1, image.shape).astype(np.float32), (0, 0), 9)
             * 120 for _ in range(2)]
    grid = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32)
    bent = cv2.remap(image, grid[1] + field[0], grid[0] + field[1], cv2.INTER_LINEAR,
                     borderValue=255)
    x, y = (int(v) for v in rng.integers(30, CANVAS - 50, 2))
    cv2.rectangle(bent, (x, y), (x + int(rng.integers(8, 20)), y + int(rng.integers(8, 20))),
                  255, -1)
    return bent


def sketches(per_class: int = PER_CLASS, seed: int = 0, letters: tuple[str, ...] = LETTERS,
             sloppy: bool = False) -> tuple[list[np.ndarray], list[int]]:
    """`per_class` raw sketches of each letter (the classes in turn) and their labels;
    `sloppy` ones are `messy`."""
    rng = np.random.default_rng(seed)
    labels = [i for _ in range(per_class) for i in range(len(letters))]
    drawn = [sketch(letters[i], rng) for i in labels]
    return ([messy(image, rng) for image in drawn] if sloppy else drawn), labels


def make(owner: str, per_class: int = PER_CLASS, seed: int = 0, name: str = "Letters",
         letters: tuple[str, ...] = LETTERS, sloppy: bool = False) -> str:
    """A made sketch dataset of `letters`, prepared as the page prepares drawings, owned
    by `owner` (where DIGITLAB_DATASETS says): its key."""
    from core import own_datasets, own_examples

    made = own_datasets.create(name, "sketch", letters, owner=owner)
    raw, labels = sketches(per_class, seed, letters, sloppy)
    prepared = [own_examples.prepared("sketch", image) for image in raw]
    own_examples.add_prepared(made.key, owner, labels, prepared)
    return made.key


def sheet(path: str, seed: int = 0, letters: tuple[str, ...] = LETTERS,
          sloppy: bool = False) -> None:
    """A PNG of 8 prepared examples of each letter (one row a letter), to look at."""
    from core import own_examples

    raw, labels = sketches(8, seed, letters, sloppy)
    rows = [np.hstack([own_examples.prepared("sketch", image)
                       for image, label in zip(raw, labels) if label == i])
            for i in range(len(letters))]
    cv2.imwrite(path, cv2.resize(np.vstack(rows), None, fx=3, fy=3,
                                 interpolation=cv2.INTER_NEAREST))


if __name__ == "__main__":
    sheet(sys.argv[1] if len(sys.argv) > 1 else "letters.png",
          letters=tuple(sys.argv[2]) if len(sys.argv) > 2 else LETTERS,
          sloppy="sloppy" in sys.argv[3:])
