"""core.preprocess: drawings and photos become 28x28 inputs that look like MNIST's."""


import cv2
import numpy as np
import pytest

from core import data, preprocess
from core.photo import from_photo
from core.preprocess import to_mnist
from tests.strokes import photographed


# Digits as polylines in a unit box ((x, y), y down); the 5's top bar is a separate stroke.
SHAPES = {
    "1": [[(0.5, 0.0), (0.5, 1.0)]],
    "4": [[(0.75, 1.0), (0.75, 0.0), (0.0, 0.65), (1.0, 0.65)]],
    "5": [[(0.2, 0.0), (1.0, 0.0)],
          [(0.15, 0.15), (0.1, 0.45), (0.55, 0.38), (0.9, 0.55), (0.9, 0.85),
           (0.55, 1.0), (0.05, 0.9)]],
    "7": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
}


def draw(shape: str, x: int, y: int, height: int, thickness: int,
         size: tuple[int, int] = (280, 280)) -> np.ndarray:
    """A white-on-black uint8 canvas with one digit in the box at (x, y), 0.6 * height wide."""
    canvas = np.zeros(size, np.uint8)
    width = 0.6 * height
    for stroke in SHAPES[shape]:
        points = np.array([(x + px * width, y + py * height) for px, py in stroke])
        cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, 255,
                      thickness, cv2.LINE_AA)
    return canvas


def draw_zero(cx: int, cy: int, height: int, thickness: int) -> np.ndarray:
    canvas = np.zeros((280, 280), np.uint8)
    cv2.ellipse(canvas, (cx, cy), (int(height * 0.3), height // 2), 0, 0, 360, 255,
                thickness, cv2.LINE_AA)
    return canvas


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the non-zero pixels."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return (xs * image).sum() / image.sum(), (ys * image).sum() / image.sum()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def assert_same_input(a: preprocess.Preprocessed, b: preprocess.Preprocessed) -> None:
    """Equal up to float rounding, which can move the centring by OpenCV's 1/32 px step."""
    np.testing.assert_allclose(a.input28, b.input28, atol=0.01)


def assert_mnist_style(result: preprocess.Preprocessed) -> None:
    """(28, 28) float32 in [0, 1], longer side 20 px, centre of mass on (14, 14)."""
    assert not result.is_empty and result.reason == ""
    x = result.input28
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() == pytest.approx(1)
    assert max(ink_box(x)) in (19, 20, 21)
    cx, cy = centre(x)
    assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5  # as tight as MNIST's own


# ---------------------------------------------------------------- drawings

@pytest.mark.parametrize("canvas", [
    pytest.param(draw("7", 6, 6, 45, 5), id="small-in-a-corner"),
    pytest.param(draw("4", 170, 150, 110, 12), id="off-centre"),
    pytest.param(draw_zero(140, 140, 150, 35), id="thick-strokes"),
    pytest.param(draw("5", 60, 60, 160, 2), id="thin-strokes"),
    pytest.param(draw("7", 2, 2, 276, 20), id="fills-the-canvas"),
    pytest.param(draw("1", 30, 100, 150, 10), id="tall-and-thin-one"),
])
def test_drawings_come_out_in_mnist_style(canvas):
    result = to_mnist(canvas)
    assert_mnist_style(result)
    assert not result.inverted
    x, y, w, h = result.box
    np.testing.assert_array_equal(result.cropped, result.ink[y:y + h, x:x + w])
    assert result.ink.shape == canvas.shape and result.ink.dtype == np.uint8


def test_a_small_digit_in_a_corner_reads_like_a_large_centred_one():
    small = to_mnist(draw("4", 210, 10, 50, 5))
    large = to_mnist(draw("4", 80, 40, 200, 20))
    assert correlation(small.input28, large.input28) > 0.95


def test_dark_on_light_is_inverted():
    canvas = draw("7", 40, 70, 120, 10)
    result = to_mnist(255 - canvas)
    assert result.inverted
    assert_same_input(result, to_mnist(canvas))


def rgba(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([rgb, rgb, rgb, alpha]).astype(np.uint8)


@pytest.mark.parametrize("make", [
    pytest.param(lambda c: rgba(np.full_like(c, 255), c), id="white-on-transparent"),
    pytest.param(lambda c: rgba(np.zeros_like(c), c), id="black-on-transparent"),
    pytest.param(lambda c: rgba(c, np.full_like(c, 255)), id="white-on-opaque-black"),
])
def test_rgba_canvas_reads_like_the_grey_drawing(make):
    canvas = draw("5", 50, 40, 150, 12)
    result = to_mnist(make(canvas))
    assert_mnist_style(result)
    assert_same_input(result, to_mnist(canvas))


@pytest.mark.parametrize("convert", [
    pytest.param(lambda c: np.dstack([c, c, c]), id="rgb"),
    pytest.param(lambda c: c[..., None], id="one-channel"),
    pytest.param(lambda c: c.astype(np.float32) / 255, id="float-0-1"),
    pytest.param(lambda c: c.astype(np.float64), id="float-0-255"),
])
def test_other_image_types_read_the_same(convert):
    canvas = draw("4", 90, 60, 140, 14)
    assert_same_input(to_mnist(convert(canvas)), to_mnist(canvas))


def dot(brush: int = 20) -> np.ndarray:
    """One click of the brush on the canvas."""
    canvas = np.zeros((280, 280), np.uint8)
    cv2.circle(canvas, (150, 120), brush // 2, 255, -1, cv2.LINE_AA)
    return canvas


def tiny_scribble() -> np.ndarray:
    """A 20 px tick with a thin brush: a stroke, but under 10% of the canvas."""
    canvas = np.zeros((280, 280), np.uint8)
    cv2.line(canvas, (200, 200), (210, 219), 255, 2, cv2.LINE_AA)
    return canvas


def scratch() -> np.ndarray:
    """A 28x28 image with a 5-pixel scratch: long enough for its size, too few pixels."""
    image = np.zeros((28, 28), np.uint8)
    image[10, 10:15] = 255
    return image


def faint_noise() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 20, (280, 280), dtype=np.uint8)


@pytest.mark.parametrize("image, reason", [
    pytest.param(np.zeros((280, 280), np.uint8), preprocess.BLANK, id="black"),
    pytest.param(np.full((280, 280), 255, np.uint8), preprocess.BLANK, id="white"),
    pytest.param(np.zeros((280, 280, 4), np.uint8), preprocess.BLANK, id="transparent"),
    pytest.param(faint_noise(), preprocess.BLANK, id="faint-noise"),
    pytest.param(dot(), preprocess.TOO_SMALL, id="a-single-dot"),
    pytest.param(dot(brush=40), preprocess.TOO_SMALL, id="a-dot-from-a-40px-brush"),
    pytest.param(tiny_scribble(), preprocess.TOO_SMALL, id="a-tiny-scribble"),
    pytest.param(255 - dot(), preprocess.TOO_SMALL, id="a-dark-dot-on-white"),
    pytest.param(scratch(), preprocess.TOO_SMALL, id="a-scratch-on-28x28"),
])
def test_blank_and_near_blank_are_empty(image, reason):
    result = to_mnist(image)
    assert result.is_empty and result.reason == reason
    assert result.input28.shape == (28, 28) and result.input28.dtype == np.float32
    assert not result.input28.any()
    assert result.cropped.shape == (0, 0)


def test_faint_background_noise_is_ignored():
    canvas = draw("7", 100, 50, 100, 9)
    noisy = np.maximum(canvas, faint_noise())
    result = to_mnist(noisy)
    assert_mnist_style(result)
    assert correlation(result.input28, to_mnist(canvas).input28) > 0.99


@pytest.mark.parametrize("image", [
    np.zeros((0, 0), np.uint8), np.zeros(10, np.uint8), np.zeros((5, 5, 2), np.uint8),
])
def test_impossible_shapes_are_refused(image):
    with pytest.raises(ValueError, match="expected a grey"):
        to_mnist(image)


def test_nan_is_refused():
    image = np.zeros((28, 28), np.float32)
    image[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        to_mnist(image)


# ---------------------------------------------------------------- real MNIST digits

@pytest.fixture(scope="module")
def mnist_sample() -> np.ndarray:
    x = data.load("mnist").x_test
    return x[np.random.default_rng(0).choice(len(x), 200, replace=False)]


def test_mnist_digits_come_back_almost_unchanged(mnist_sample):
    scores = [correlation(to_mnist(d).input28, d / 255) for d in mnist_sample]
    assert np.mean(np.array(scores) > 0.9) >= 0.95


def test_mnist_digits_redrawn_small_and_off_centre_give_the_same_input(mnist_sample):
    """The property that keeps a classifier accurate when a person draws small."""
    rng = np.random.default_rng(1)
    scores = []
    for digit in mnist_sample:
        side = int(rng.integers(40, 101))  # 40-100 px of a 280 px canvas
        canvas = np.zeros((280, 280), np.uint8)
        x, y = rng.integers(0, 280 - side, 2)
        canvas[y:y + side, x:x + side] = cv2.resize(digit, (side, side),
                                                    interpolation=cv2.INTER_LINEAR)
        redrawn = to_mnist(canvas)
        assert_mnist_style(redrawn)
        scores.append(correlation(redrawn.input28, to_mnist(digit).input28))
    assert np.mean(np.array(scores) > 0.9) >= 0.95


# ---------------------------------------------------------------- photos

SPECK = (430, 50)  # (x, y): a dark speck far from the digit


def photo(light: str = "gradient", ink_on_paper: bool = True, digit: bool = True,
          thickness: int = 12, speck_radius: int = 4,
          table: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """An RGB "photo" (tests.strokes.photographed) of a 5 with a detached top bar, and the
    digit's own mask."""
    h, w = 360, 480
    mask = draw("5", 170, 90, 180, thickness, size=(h, w)) if digit else np.zeros((h, w), np.uint8)
    cv2.circle(mask, SPECK, speck_radius, 255, -1)
    image = photographed(mask, light, ink_on_paper, table)
    digit_only = mask.copy()
    cv2.circle(digit_only, SPECK, speck_radius, 0, -1)
    return image, digit_only


def assert_found_the_digit(result: preprocess.Preprocessed, digit_only: np.ndarray) -> None:
    assert_mnist_style(result)
    x, y, w, h = result.box
    assert result.ink[SPECK[1], SPECK[0]] == 0                # the speck is not part of it
    assert not (x <= SPECK[0] < x + w and y <= SPECK[1] < y + h)
    dh, dw = ink_box(digit_only)
    assert abs(h - dh) <= 4 and abs(w - dw) <= 4              # the 5's top bar is kept
    assert correlation(result.input28, to_mnist(digit_only).input28) > 0.9
    assert result.thresholded.shape == digit_only.shape and result.thresholded.dtype == np.uint8


@pytest.mark.parametrize("light", ["gradient", "shadow"])
def test_photo_in_uneven_light_is_flattened_and_the_digit_found(light):
    image, digit_only = photo(light)
    result = from_photo(image)
    assert result.threshold_method == "flattened" and result.inverted
    assert_found_the_digit(result, digit_only)


@pytest.mark.parametrize("light", ["gradient", "shadow"])
def test_otsu_alone_fails_in_uneven_light(monkeypatch, light):
    """Why the fallback exists: one global level splits the light, not the ink."""
    image, digit_only = photo(light)
    monkeypatch.setattr("core.photo.looks_evenly_lit", lambda mask: True)
    result = from_photo(image)
    assert result.threshold_method == "otsu"
    assert result.is_empty or correlation(result.input28, to_mnist(digit_only).input28) < 0.8


def test_photo_in_even_light_uses_otsu_and_finds_the_digit():
    image, digit_only = photo("even")
    result = from_photo(image)
    assert result.threshold_method == "otsu"
    assert_found_the_digit(result, digit_only)


def test_a_blot_far_from_the_digit_is_ignored():
    image, digit_only = photo("even", speck_radius=12)  # ~9% of the digit's ink: not a speck
    assert_found_the_digit(from_photo(image), digit_only)


@pytest.mark.parametrize("light", ["even", "gradient"])
def test_the_table_beyond_the_paper_is_not_the_digit(light):
    image, digit_only = photo(light, table=True)
    assert_found_the_digit(from_photo(image), digit_only)


def test_thick_marker_in_even_light_is_found_whole():
    image, digit_only = photo("even", thickness=40)
    result = from_photo(image)
    assert result.inverted and result.threshold_method == "otsu"
    assert_found_the_digit(result, digit_only)


@pytest.mark.parametrize("light", ["even", "gradient"])
def test_chalk_on_a_dark_board_is_read_too(light):
    image, digit_only = photo(light, ink_on_paper=False)
    result = from_photo(image)
    assert not result.inverted
    assert_found_the_digit(result, digit_only)


@pytest.mark.parametrize("light", ["even", "gradient", "shadow"])
def test_photo_of_blank_paper_is_empty(light):
    image, _ = photo(light, digit=False)  # nothing but the speck
    result = from_photo(image)
    assert result.is_empty and result.reason in (preprocess.BLANK, preprocess.TOO_SMALL)
    assert not result.input28.any()


def test_large_photos_are_shrunk_first():
    image, digit_only = photo("gradient")
    big = cv2.resize(image, (2400, 1800), interpolation=cv2.INTER_LINEAR)
    result = from_photo(big)
    assert result.thresholded.shape == (750, 1000)
    assert_mnist_style(result)
    assert correlation(result.input28, to_mnist(digit_only).input28) > 0.9


def test_a_wide_brush_on_a_small_digit_is_thinned_to_mnist_proportions():
    from tests.strokes import placed, render
    blob = render(placed(5, 170, 25, 80), brush=30)[..., 0].astype(np.float32) / 255
    ys, xs = np.nonzero(blob)
    crop = blob[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert preprocess.mean_stroke_width(crop) > 0.3 * max(crop.shape)
    thinned = preprocess.thin_thick_strokes(crop)
    ratio = preprocess.mean_stroke_width(thinned) / max(crop.shape)
    assert ratio == pytest.approx(preprocess.MAX_STROKE_RATIO, abs=0.05)


def test_mnist_digits_are_almost_never_thinned():
    x = data.load("mnist").x_test[:500].astype(np.float32) / 255
    touched = sum(not np.array_equal(preprocess.thin_thick_strokes(d), d) for d in x)
    assert touched <= 0.03 * len(x)
