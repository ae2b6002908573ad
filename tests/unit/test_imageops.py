"""core.imageops: safe decoding, and every operation against OpenCV/NumPy expectations."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from core import images, robustness
from core import imageops as ops


def rgb_image(h: int = 30, w: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def gray_image(h: int = 30, w: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)


def saved(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that *declares* width x height: an image bomb's header, no real pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def run_code(code: str, img: np.ndarray) -> np.ndarray:
    """Execute the code line(s) the page shows, the way a student would paste them."""
    namespace = {"cv2": cv2, "np": np, "img": img, "gray": images.to_gray(img)}
    exec(code, namespace)  # noqa: S102 - our own generated one-liners
    return namespace["out"]


# ---------------------------------------------------------------- decoding: good files

@pytest.mark.parametrize("image", [rgb_image(), gray_image()], ids=["rgb", "gray"])
def test_png_round_trip_is_exact_and_keeps_rgb_order(image):
    decoded = images.decode_image(images.encode_png(image))
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, image)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "WEBP", "GIF"])
def test_lossless_formats_decode_to_the_same_pixels(fmt):
    image = gray_image()
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    decoded = images.decode_image(saved(Image.fromarray(image), fmt, **kwargs))
    if decoded.ndim == 3:                   # WebP and GIF store gray as RGB / a palette
        assert (decoded == decoded[..., :1]).all()
        decoded = decoded[..., 0]
    np.testing.assert_array_equal(decoded, image)


def test_jpeg_decodes_close_to_the_original():
    image = np.full((32, 48, 3), (200, 40, 90), np.uint8)
    decoded = images.decode_image(saved(Image.fromarray(image), "JPEG", quality=95))
    assert decoded.shape == image.shape
    assert np.abs(decoded.astype(int) - image).max() <= 4


def test_16bit_gray_png_is_scaled_to_8_bits():
    values = np.array([[0, 257 * 128, 65535, 1000]], np.uint16)
    ok, buf = cv2.imencode(".png", values)
    decoded = images.decode_image(buf.tobytes())
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, [[0, 128, 255, 4]])


def test_16bit_rgb_png_becomes_8bit_rgb_in_rgb_order():
    rgb = np.zeros((4, 4, 3), np.uint16)
    rgb[...] = (65535, 0, 257 * 128)
    ok, buf = cv2.imencode(".png", rgb[..., ::-1])  # OpenCV writes BGR
    decoded = images.decode_image(buf.tobytes())
    assert decoded.dtype == np.uint8 and decoded.shape == (4, 4, 3)
    np.testing.assert_array_equal(decoded[0, 0], (255, 0, 128))


def test_32bit_integer_tiff_is_stretched_to_full_range():
    values = np.array([[-100, 100, 410]], np.int32)
    decoded = images.decode_image(saved(Image.fromarray(values, mode="I"), "TIFF"))
    np.testing.assert_array_equal(decoded, [[0, 100, 255]])


def test_rgba_transparent_areas_become_white():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)      # opaque red stays red
    rgba[0, 1] = (0, 0, 255, 0)        # fully transparent becomes white
    rgba[0, 2] = (0, 0, 0, 128)        # half transparent black becomes mid gray
    decoded = images.decode_image(saved(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded.shape == (2, 3, 3)
    np.testing.assert_array_equal(decoded[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(decoded[0, 1], (255, 255, 255))
    assert np.all(np.abs(decoded[0, 2].astype(int) - 127) <= 1)


def test_gray_with_alpha_stays_gray():
    la = Image.fromarray(np.dstack([np.full((2, 2), 10, np.uint8),
                                    np.array([[255, 0], [255, 0]], np.uint8)]), "LA")
    decoded = images.decode_image(saved(la, "PNG"))
    np.testing.assert_array_equal(decoded, [[10, 255], [10, 255]])


def test_palette_image_with_transparency():
    im = Image.new("P", (2, 1))
    im.putpalette([0, 128, 0, 9, 9, 9] + [0] * 762)
    im.putpixel((0, 0), 0)
    im.putpixel((1, 0), 1)
    decoded = images.decode_image(saved(im, "PNG", transparency=1))
    np.testing.assert_array_equal(decoded[0], [(0, 128, 0), (255, 255, 255)])


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))   # pure red in print colours
    decoded = images.decode_image(saved(cmyk, "JPEG", quality=95))
    assert decoded.shape == (8, 8, 3)
    assert decoded[..., 0].min() > 240 and decoded[..., 1:].max() < 15


def test_exif_orientation_is_applied():
    # Stored 40 wide x 20 high, left half dark; EXIF 6 says "turn 90° clockwise to view".
    stored = np.full((20, 40), 230, np.uint8)
    stored[:, :20] = 20
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = images.decode_image(saved(Image.fromarray(stored), "JPEG", exif=exif, quality=95))
    assert decoded.shape == (40, 20)                    # now portrait
    assert decoded[:20].mean() < 60 < 180 < decoded[20:].mean()   # the dark half is on top


# ---------------------------------------------------------------- decoding: bad files

def test_empty_file_is_refused():
    with pytest.raises(images.ImageError, match="empty"):
        images.decode_image(b"")


def test_text_file_is_not_an_image():
    with pytest.raises(images.ImageError, match="not an image"):
        images.decode_image(b"These are my notes, not a picture.\n" * 10)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_refused(fmt):
    data = saved(Image.fromarray(rgb_image(120, 160)), fmt)
    with pytest.raises(images.ImageError, match="damaged or incomplete"):
        images.decode_image(data[: len(data) // 2])


def test_image_bomb_is_refused_from_its_header():
    bomb = png_header_only(30_000, 30_000)
    assert len(bomb) < 2_000
    with pytest.raises(images.ImageError, match="megapixels"):
        images.decode_image(bomb)


def test_image_over_the_pixel_limit_says_its_size():
    with pytest.raises(images.ImageError, match=r"10,000 × 6,000 pixels \(60 megapixels\)"):
        images.decode_image(png_header_only(10_000, 6_000))


def test_file_over_the_upload_limit_is_refused_before_reading():
    with pytest.raises(images.ImageError, match="limit is 20 MB"):
        images.decode_image(b"\x89PNG" + b"\0" * images.MAX_FILE_BYTES)


def test_animated_gif_is_refused_with_its_frame_count():
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (0, 128, 255)]
    data = saved(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(images.ImageError, match="3 frames"):
        images.decode_image(data)


def test_unsupported_format_is_named():
    with pytest.raises(images.ImageError, match="PPM images are not supported"):
        images.decode_image(saved(Image.fromarray(gray_image()), "PPM"))


# ---------------------------------------------------------------- sizes and encoding

def test_bounded_shrinks_the_longer_side_only_when_needed():
    big = np.zeros((3000, 4000, 3), np.uint8)
    assert images.bounded(big, 1600).shape == (1200, 1600, 3)
    small = gray_image()
    assert images.bounded(small, 1600) is small


def test_pixelated_enlarges_tiny_images_with_square_pixels():
    digit = gray_image(28, 28)
    big = images.pixelated(digit, 280)
    assert big.shape == (280, 280)
    np.testing.assert_array_equal(big, np.kron(digit, np.ones((10, 10), np.uint8)))
    photo = gray_image(300, 400)
    assert images.pixelated(photo, 280) is photo


def test_bilevel_png_is_exact_for_black_and_white_images():
    image = np.where(gray_image(33, 17) > 128, 255, 0).astype(np.uint8)
    data = images.encode_png(image, bilevel=True)
    assert len(data) < len(images.encode_png(image))
    np.testing.assert_array_equal(images.decode_image(data), image)


def test_jpeg_encoding_keeps_rgb_order():
    image = np.full((16, 16, 3), (250, 10, 10), np.uint8)
    decoded = images.decode_image(images.encode_jpeg(image))
    assert decoded[..., 0].mean() > 230 and decoded[..., 2].mean() < 30


# ---------------------------------------------------------------- edges

@pytest.mark.parametrize("blur_ksize, aperture, l2", [(0, 3, False), (5, 3, True), (3, 5, False)])
def test_canny_matches_opencv_and_its_code_line(blur_ksize, aperture, l2):
    image = cv2.GaussianBlur(rgb_image(60, 80), (7, 7), 0)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    source = cv2.GaussianBlur(gray, (blur_ksize, blur_ksize), 0) if blur_ksize else gray
    expected = cv2.Canny(source, 40, 120, apertureSize=aperture, L2gradient=l2)
    edges = ops.canny(image, 40, 120, blur_ksize, aperture, l2)
    np.testing.assert_array_equal(edges, expected)
    assert set(np.unique(edges)) <= {0, 255}
    code = ops.canny_code(40, 120, blur_ksize, aperture, l2)
    np.testing.assert_array_equal(run_code(code, image), edges)


def test_canny_finds_the_border_of_a_square():
    image = np.zeros((40, 40), np.uint8)
    image[10:30, 10:30] = 255
    edges = ops.canny(image, 50, 150)
    assert edges[20, 20] == 0 and edges[0, 0] == 0
    assert edges[9:11, 10:30].any() and edges[29:31, 10:30].any()


def test_auto_thresholds_follow_the_median():
    image = np.full((10, 10), 100, np.uint8)
    image[0, 0] = 0
    assert ops.auto_canny_thresholds(image) == (67, 133)


def test_auto_thresholds_ignore_a_flat_black_background():
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 200                     # a "1": most pixels are background 0
    low, high = ops.auto_canny_thresholds(digit)
    assert 0 < low < high
    assert ops.canny(digit, low, high).any()


# ---------------------------------------------------------------- thresholds

@pytest.mark.parametrize("mode, flag", [("binary", cv2.THRESH_BINARY),
                                        ("binary_inv", cv2.THRESH_BINARY_INV),
                                        ("trunc", cv2.THRESH_TRUNC),
                                        ("tozero", cv2.THRESH_TOZERO)])
def test_simple_thresholds_match_opencv_and_return_their_threshold(mode, flag):
    image = rgb_image()
    _, expected = cv2.threshold(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 100, 255, flag)
    result, used = ops.threshold(image, mode, 100)
    np.testing.assert_array_equal(result, expected)
    assert used == 100
    np.testing.assert_array_equal(run_code(ops.threshold_code(mode, 100), image), result)


def test_otsu_picks_a_threshold_between_the_two_modes():
    rng = np.random.default_rng(1)
    dark = rng.normal(60, 10, 2000)
    light = rng.normal(190, 12, 3000)
    image = np.clip(np.concatenate([dark, light]), 0, 255).astype(np.uint8).reshape(50, 100)
    result, used = ops.threshold(image, "otsu")
    assert 90 < used < 160
    assert set(np.unique(result)) == {0, 255}
    assert (result == 255).sum() == (image > used).sum()
    np.testing.assert_array_equal(run_code(ops.threshold_code("otsu"), image), result)


@pytest.mark.parametrize("mode, method", [("adaptive_mean", cv2.ADAPTIVE_THRESH_MEAN_C),
                                          ("adaptive_gaussian", cv2.ADAPTIVE_THRESH_GAUSSIAN_C)])
def test_adaptive_thresholds_match_opencv_and_have_no_single_threshold(mode, method):
    image = gray_image()
    expected = cv2.adaptiveThreshold(image, 255, method, cv2.THRESH_BINARY, 15, 4)
    result, used = ops.threshold(image, mode, block_size=15, c=4)
    np.testing.assert_array_equal(result, expected)
    assert used is None
    code = ops.threshold_code(mode, block_size=15, c=4)
    np.testing.assert_array_equal(run_code(code, image), result)


def test_adaptive_threshold_keeps_text_in_uneven_light():
    # Dark strokes on paper that fades from bright (left) to dim (right).
    light = np.linspace(250, 60, 200)[None, :].repeat(60, 0)
    image = light.copy()
    image[28:32, :] *= 0.3                            # a horizontal "stroke"
    image = image.astype(np.uint8)
    otsu, _ = ops.threshold(image, "otsu")
    adaptive, _ = ops.threshold(image, "adaptive_mean", block_size=21, c=5)
    paper_right = (slice(5, 20), slice(150, 200))
    assert (otsu[paper_right] == 0).all()             # global: dim paper turns black
    assert (adaptive[paper_right] == 255).all()       # adaptive: paper stays white
    assert (adaptive[29:31, :] == 0).all()            # and the whole stroke is kept


def test_threshold_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown threshold mode"):
        ops.threshold(gray_image(), "median")
    with pytest.raises(ValueError, match="odd"):
        ops.threshold(gray_image(), "adaptive_mean", block_size=10)


def test_histogram_counts_gray_levels():
    image = rgb_image()
    counts = ops.histogram(image)
    assert counts.shape == (256,) and counts.sum() == 30 * 40
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(counts, np.bincount(gray.ravel(), minlength=256))


# ---------------------------------------------------------------- augmentation

@pytest.mark.parametrize("image", [rgb_image(), gray_image()], ids=["rgb", "gray"])
def test_flip_twice_is_identity_and_once_is_a_mirror(image):
    np.testing.assert_array_equal(ops.flip(image), image[:, ::-1])
    np.testing.assert_array_equal(ops.flip(ops.flip(image)), image)
    np.testing.assert_array_equal(run_code(ops.flip_code(), image), ops.flip(image))


@pytest.mark.parametrize("keep_whole", [False, True])
@pytest.mark.parametrize("image", [rgb_image(), gray_image()], ids=["rgb", "gray"])
def test_rotate_zero_is_identity(image, keep_whole):
    np.testing.assert_array_equal(ops.rotate(image, 0, keep_whole), image)


def test_rotate_by_right_angles_matches_numpy():
    image = gray_image(12, 20)
    np.testing.assert_array_equal(ops.rotate(image, 180), image[::-1, ::-1])
    np.testing.assert_array_equal(ops.rotate(image, 90, keep_whole=True), np.rot90(image))
    np.testing.assert_array_equal(ops.rotate(image, -90, keep_whole=True), np.rot90(image, -1))


def test_rotate_crop_keeps_the_size_and_keep_whole_keeps_every_pixel():
    white = np.full((100, 200), 255, np.uint8)
    cropped = ops.rotate(white, 45)
    assert cropped.shape == (100, 200) and cropped[0, 0] == 0 and cropped[50, 100] == 255
    whole = ops.rotate(white, 45, keep_whole=True)
    assert whole.shape == (212, 212)
    assert abs(int(whole.sum()) // 255 - white.size) < 0.02 * white.size


@pytest.mark.parametrize("angle, keep_whole", [(30, False), (-45, True), (90, True)])
def test_rotate_code_line_gives_the_same_pixels(angle, keep_whole):
    image = rgb_image(31, 52)
    code = ops.rotate_code(image.shape, angle, keep_whole)
    np.testing.assert_array_equal(run_code(code, image), ops.rotate(image, angle, keep_whole))


def test_brightness_clips_at_255_and_at_0():
    assert (ops.brightness_contrast(np.full((4, 4), 250, np.uint8), 50) == 255).all()
    assert (ops.brightness_contrast(np.full((4, 4), 10, np.uint8), -50) == 0).all()
    np.testing.assert_array_equal(ops.brightness_contrast(np.uint8([[100, 200]]), 20),
                                  [[120, 220]])


def test_contrast_stretches_around_mid_gray():
    image = np.uint8([[28, 128, 228]])
    np.testing.assert_array_equal(ops.brightness_contrast(image, 0, 1.5), [[0, 128, 255]])
    np.testing.assert_array_equal(ops.brightness_contrast(image, 0, 0.5), [[78, 128, 178]])


@pytest.mark.parametrize("brightness, contrast", [(0, 1.15), (-30, 0.7), (45, 1.5)])
def test_brightness_contrast_code_line_gives_the_same_pixels(brightness, contrast):
    image = rgb_image()
    code = ops.brightness_contrast_code(brightness, contrast)
    np.testing.assert_array_equal(run_code(code, image),
                                  ops.brightness_contrast(image, brightness, contrast))


def test_random_augmentations_are_seeded_and_shaped_like_the_input():
    image = rgb_image(40, 60)
    first = ops.random_augmentations(image, 6, seed=3)
    again = ops.random_augmentations(image, 6, seed=3)
    other = ops.random_augmentations(image, 6, seed=4)
    assert len(first) == 6
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.image, b.image)
        assert a.caption == b.caption
    assert any(not np.array_equal(a.image, b.image) for a, b in zip(first, other))
    assert all(a.image.shape == image.shape and a.image.dtype == np.uint8 for a in first)
    assert len({a.caption for a in first}) == 6


def test_random_augmentations_without_flips_never_flip():
    captions = [a.caption for a in ops.random_augmentations(gray_image(), 20, flips=False)]
    assert not any("flipped" in c for c in captions)
    assert any("flipped" in a.caption for a in ops.random_augmentations(gray_image(), 20))


# ---------------------------------------------------------------- robustness helpers on 28x28

def digit() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[8:20, 12:16] = 255
    return image


def test_shift_moves_the_digit_and_fills_with_black():
    moved = robustness.shift(digit(), 3, -2)
    assert moved.shape == (28, 28) and moved.dtype == np.uint8
    np.testing.assert_array_equal(moved[6:18, 15:19], 255)
    assert moved.sum() == digit().sum()
    np.testing.assert_array_equal(robustness.shift(digit(), 0, 0), digit())


def test_gaussian_noise_is_seeded_clipped_and_zero_sigma_is_identity():
    image = digit()
    np.testing.assert_array_equal(robustness.gaussian_noise(image, 0), image)
    noisy = robustness.gaussian_noise(image, 40, seed=1)
    assert noisy.dtype == np.uint8 and noisy.shape == (28, 28)
    np.testing.assert_array_equal(noisy, robustness.gaussian_noise(image, 40, seed=1))
    assert not np.array_equal(noisy, robustness.gaussian_noise(image, 40, seed=2))
    gray = np.full((28, 28), 128, np.uint8)       # E|noise| = sigma * sqrt(2 / pi) = 31.9
    assert 28 < np.abs(robustness.gaussian_noise(gray, 40).astype(int) - 128).mean() < 36


def test_blur_matches_opencv_and_small_kernels_do_nothing():
    image = digit()
    np.testing.assert_array_equal(ops.blur(image, 5), cv2.GaussianBlur(image, (5, 5), 0))
    np.testing.assert_array_equal(ops.blur(image, 1), image)
    with pytest.raises(ValueError, match="odd"):
        ops.blur(image, 4)


def test_rotate_works_on_a_digit():
    rotated = ops.rotate(digit(), 20)
    assert rotated.shape == (28, 28) and rotated.dtype == np.uint8
    assert not np.array_equal(rotated, digit())
    assert abs(int(rotated.sum()) - int(digit().sum())) < 0.05 * digit().sum()
