"""Images in and out: uploads decoded safely, arrays sized and encoded for the page.

Arrays are uint8, H x W gray or H x W x 3 RGB (the order browsers and Pillow use), not
OpenCV's usual BGR; the only place the order matters is PNG/JPEG encoding, which converts.
"""

from __future__ import annotations

import io
import tomllib
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

CONFIG_TOML = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"
DEFAULT_UPLOAD_MB = 200   # Streamlit's own limit when config.toml sets none


def upload_limit() -> int:
    """Bytes: the app's upload limit (config.toml, server.maxUploadSize, in MB)."""
    try:
        with open(CONFIG_TOML, "rb") as f:
            return int(tomllib.load(f)["server"]["maxUploadSize"]) * 2**20
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError):
        return DEFAULT_UPLOAD_MB * 2**20


MAX_FILE_BYTES = upload_limit()    # refuse bigger files before reading them
MAX_PIXELS = 50_000_000             # more than any phone photo; refuse bigger before decoding
FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF")
FORMAT_NAMES = "PNG, JPEG, BMP, WebP, TIFF or GIF"


class ImageError(ValueError):
    """An uploaded file cannot be used as an image; the message says why in plain words."""


# ---------------------------------------------------------------- decoding

def decode_image(data: bytes) -> np.ndarray:
    """Decode image file bytes into uint8 gray (H x W) or RGB (H x W x 3).

    The header is checked before any pixel is decoded, so a small file that declares
    a gigantic image (an "image bomb") is refused without using memory. EXIF
    orientation is applied, so phone photos come out the way up they were taken.
    Raises ImageError with a message a person can act on.
    """
    if len(data) == 0:
        raise ImageError("The file is empty (0 bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{MAX_FILE_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))   # reads the header only
    except Image.DecompressionBombError:
        raise ImageError(f"The image declares far more pixels than the limit of "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels, so it was not opened.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageError(f"This file is not an image that can be read. "
                         f"Upload a {FORMAT_NAMES} file.") from None

    fmt = "JPEG" if im.format == "MPO" else im.format  # MPO: a camera JPEG with extra frames
    if fmt not in FORMATS:
        raise ImageError(f"{im.format} images are not supported. Upload a {FORMAT_NAMES} file.")
    width, height = im.size
    if width < 1 or height < 1:
        raise ImageError("The image has no pixels (its width or height is 0).")
    if width * height > MAX_PIXELS:
        raise ImageError(f"The image is {width:,} × {height:,} pixels "
                         f"({width * height / 1e6:,.0f} megapixels); the limit is "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels.")
    try:
        frames = getattr(im, "n_frames", 1)
        if frames > 1 and im.format != "MPO":
            raise ImageError(f"This {fmt} file holds {frames} frames (an animation or several "
                             f"pages). Upload a single still image.")
        im.load()                               # the real decoding happens here
        im = ImageOps.exif_transpose(im)
        return _to_uint8_array(im)
    except ImageError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many types for broken data
        raise ImageError(f"The {fmt} file is damaged or incomplete (truncated), "
                         f"so its pixels cannot be read.") from None


def _to_uint8_array(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 gray or RGB. Transparent areas become white."""
    mode = im.mode
    if mode.startswith("I;16"):                 # 16-bit gray: 0..65535 -> 0..255
        return np.round(np.array(im, dtype=np.float64) / 257).astype(np.uint8)
    if mode in ("I", "F"):                      # 32-bit int/float: no standard range, stretch
        return _stretch(np.array(im, dtype=np.float64))
    if mode in ("1", "L"):
        return np.array(im.convert("L"))
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or (mode == "P" and "transparency" in im.info):
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, im.convert("RGBA"))
        return np.array(flat.convert("L" if mode in ("LA", "La") else "RGB"))
    return np.array(im.convert("RGB"))          # RGB, P, CMYK, YCbCr, LAB, HSV...


def _stretch(values: np.ndarray) -> np.ndarray:
    """Map the smallest value to 0 and the largest to 255."""
    low, high = float(values.min()), float(values.max())
    if high == low:
        return np.zeros(values.shape, np.uint8)
    return np.round((values - low) * (255 / (high - low))).astype(np.uint8)


def bounded(image: np.ndarray, max_side: int) -> np.ndarray:
    """The image shrunk (INTER_AREA) so its longer side is at most `max_side`.

    Returned unchanged when it already fits: big photos are worked on at a bounded
    size so every slider move stays fast.
    """
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def pixelated(image: np.ndarray, min_side: int = 280) -> np.ndarray:
    """Small images (like a 28x28 digit) enlarged by a whole factor, pixels kept square.

    For display only: a browser would blur a 28x28 image shown large.
    """
    height, width = image.shape[:2]
    factor = min_side // max(height, width)
    if factor < 2:
        return image
    return cv2.resize(image, (width * factor, height * factor), interpolation=cv2.INTER_NEAREST)


def encode_png(image: np.ndarray, bilevel: bool = False) -> bytes:
    """PNG file bytes of a gray or RGB image (lossless, for downloads and sharp results).

    bilevel=True stores a black-and-white (0/255) image at 1 bit per pixel: quicker
    to encode and smaller. Other gray values would be rounded to black or white.
    """
    flags = [cv2.IMWRITE_PNG_BILEVEL, 1] if bilevel else []
    ok, buf = cv2.imencode(".png", _bgr(image), flags)
    if not ok:
        raise ValueError("OpenCV could not encode the image as PNG")
    return buf.tobytes()


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """JPEG file bytes: about 20x faster than PNG for photos, fine for showing on screen."""
    ok, buf = cv2.imencode(".jpg", _bgr(image), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG")
    return buf.tobytes()


def _bgr(image: np.ndarray) -> np.ndarray:
    """OpenCV's encoders expect BGR channel order."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale version of an RGB image (gray images are returned as they are)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def mosaic(tiles: np.ndarray, columns: int, tile_px: int, vmax: float, gap: int = 2) -> np.ndarray:
    """N x h x w values (0..vmax) as one RGB grid of about tile_px squares in viridis colours.

    Feature maps are many small images: one picture is far lighter for the page than
    N charts, and a shared vmax keeps a weak map looking weak.
    """
    n, h, w = tiles.shape
    scale = max(1, tile_px // max(h, w))
    gray = np.clip(np.asarray(tiles) / (vmax or 1.0) * 255, 0, 255).astype(np.uint8)
    coloured = cv2.applyColorMap(gray.reshape(n * h, w), cv2.COLORMAP_VIRIDIS)[..., ::-1]
    coloured = coloured.reshape(n, h, w, 3).repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = h * scale, w * scale
    rows = -(-n // columns)
    grid = np.full((rows * (th + gap) - gap, columns * (tw + gap) - gap, 3), 255, np.uint8)
    for i, tile in enumerate(coloured):
        r, c = divmod(i, columns)
        grid[r * (th + gap):r * (th + gap) + th, c * (tw + gap):c * (tw + gap) + tw] = tile
    return grid


def centre_square(image: np.ndarray) -> np.ndarray:
    """The largest centred square of the image (a photo's subject is usually in the middle)."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def as_dataset_image(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Any photo as one image of a dataset of `shape` (H, W, C): centre square, resized (INTER_AREA).

    Colour datasets get RGB. Grey ones get a light object on a dark ground, as Fashion-MNIST's
    garments are: a photo whose border is lighter than its middle is inverted. Returns uint8
    H x W (grey) or H x W x 3.
    """
    height, width, channels = shape
    square = centre_square(image)
    if channels == 3:
        rgb = square if square.ndim == 3 else cv2.cvtColor(square, cv2.COLOR_GRAY2RGB)
        return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    grey = cv2.resize(to_gray(square), (width, height), interpolation=cv2.INTER_AREA)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    middle = grey[height // 4:-height // 4, width // 4:-width // 4]
    return 255 - grey if np.median(border) > np.median(middle) else grey
