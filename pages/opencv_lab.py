"""OpenCV Lab: edges, thresholding and augmentation on an uploaded or sample image.

The page only lays out widgets; every operation is in core.imageops. Only the open tab
is computed, and an upload is decoded once (st.cache_data keyed on its bytes), so a
slider move reruns in a few tens of milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from core.plot import go
import streamlit as st

from core import glossary, images
from core import imageops as ops
from pages import common

common.through_home()

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "samples"
SAMPLES = {
    "shapes.png": "Shapes and text",
    "scene.png": "Photo-like landscape",
    "page.png": "Printed page in uneven light",
    "dataset": "A test image from the chosen dataset",
}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff", "gif"]
MAX_SIDE = 1400          # bigger images are worked on at this size (longer side)
GRID_SIDE = 192          # random augmentations are made at a training-like thumbnail size
DISPLAY_SIDE = 1460      # st.image would shrink anything wider itself, with Pillow, every rerun


# ---------------------------------------------------------------- cached loading

@st.cache_data(max_entries=8, show_spinner="Reading the image…")
def load_upload(data: bytes) -> tuple[np.ndarray, tuple[int, int], bytes]:
    """(working image, original height/width, preview bytes), decoded once per distinct file."""
    image = images.decode_image(data)
    working = images.bounded(image, MAX_SIDE)
    return working, image.shape[:2], preview(working)


@st.cache_data(max_entries=8, show_spinner=False)
def load_sample(name: str) -> tuple[np.ndarray, tuple[int, int], bytes]:
    """A shipped sample image, same shape of answer as load_upload."""
    image = images.decode_image((SAMPLES_DIR / name).read_bytes())
    return image, image.shape[:2], preview(image)


def preview(image: np.ndarray, binary: bool = False, min_side: int = 280) -> bytes:
    """Bytes for st.image. Tiny images are enlarged with square pixels and sent as PNG;
    black-and-white results as 1-bit PNG (crisp and quick); anything else as JPEG,
    which encodes a photo about 20x faster than PNG."""
    enlarged = images.pixelated(image, min_side)
    if enlarged is not image:
        return images.encode_png(enlarged, bilevel=binary)
    shown = images.bounded(image, DISPLAY_SIDE)
    return images.encode_png(shown, bilevel=True) if binary else images.encode_jpeg(shown)


# ---------------------------------------------------------------- shared bits of a tab

def image_format(data: bytes | list[bytes]) -> str:
    """Tell st.image what the bytes already are, or it re-encodes PNGs as JPEG every rerun."""
    first = data[0] if isinstance(data, list) else data
    return "PNG" if first.startswith(b"\x89PNG") else "JPEG"


def side_by_side(original: bytes, result: np.ndarray, caption: str, binary: bool) -> None:
    """Original left, result right; a small image (a digit) at its own size, not stretched.

    Never a fixed width smaller than the image: st.image would shrink it itself, and a
    long thin strip would come out 0 px tall.
    """
    width = "content" if max(result.shape[:2]) < 300 else "stretch"
    shown = preview(result, binary)
    left, right = st.columns(2)
    left.image(original, caption="Original", width=width, output_format=image_format(original))
    right.image(shown, caption=caption, width=width, output_format=image_format(shown))


def code_and_download(code: str, result: np.ndarray, file_name: str) -> None:
    """The OpenCV line(s) to copy, and the result as a PNG (encoded only when clicked)."""
    st.code(code, language="python", wrap_lines=True)
    height, width = result.shape[:2]
    st.download_button(f"Download result (PNG, {width}×{height})",
                       data=lambda: images.encode_png(result), file_name=file_name,
                       mime="image/png", icon=":material/download:", on_click="ignore")


def odd_sizes(start: int, stop: int) -> list[int]:
    return list(range(start, stop + 1, 2))


# ---------------------------------------------------------------- tabs

def edges_tab(image: np.ndarray, original: bytes, stem: str) -> None:
    top = st.columns([3, 1], vertical_alignment="bottom")
    low, high = top[0].slider(
        "Canny thresholds (low, high)", 0, 500, (50, 150), key="cv_canny",
        help="Gradients above *high* are edges; those between *low* and *high* are kept "
             "only where they touch a strong edge.")
    top[1].button("Auto thresholds", icon=":material/auto_fix_high:", width="stretch",
                  on_click=set_auto_thresholds, args=(image,),
                  help="0.67× and 1.33× the median brightness: a common starting point.")
    row = st.columns(3, vertical_alignment="bottom")
    ksize = row[0].select_slider("Gaussian blur first (kernel size)", [0, 3, 5, 7, 9, 11, 15],
                                 value=5, key="cv_canny_blur",
                                 format_func=lambda k: "off" if k == 0 else f"{k}×{k}",
                                 help="Blurring removes noise that would show up as edges.")
    aperture = row[1].select_slider("Sobel aperture size", [3, 5, 7], value=3, key="cv_aperture",
                                    help=glossary.explain("Sobel aperture"))
    l2 = row[2].checkbox("L2 gradient (more exact magnitude)", key="cv_l2")

    edges = ops.canny(image, low, high, ksize, aperture, l2)
    share = np.count_nonzero(edges) / edges.size
    side_by_side(original, edges, f"Canny edges: {share:.1%} of pixels", binary=True)
    code_and_download(ops.canny_code(low, high, ksize, aperture, l2), edges, f"{stem}-canny.png")


def set_auto_thresholds(image: np.ndarray) -> None:
    st.session_state["cv_canny"] = ops.auto_canny_thresholds(image)


def threshold_tab(image: np.ndarray, original: bytes, stem: str) -> None:
    row = st.columns([2, 2, 1, 1])
    mode = row[0].selectbox("Method", list(ops.THRESHOLD_MODES), key="cv_mode",
                            format_func=ops.THRESHOLD_MODES.get,
                            help=f"**Otsu**: {glossary.explain('Otsu')}")
    adaptive = mode.startswith("adaptive")
    thresh = row[1].slider("Threshold", 0, 255, 127, key="cv_thresh",
                           disabled=mode == "otsu" or adaptive,
                           help="Otsu and adaptive methods choose their own threshold.")
    block = row[2].select_slider("Block size", odd_sizes(3, 51), value=11, key="cv_block",
                                 disabled=not adaptive,
                                 help="Adaptive: the neighbourhood each pixel is compared with.")
    c = row[3].slider("C", -20, 30, 2, key="cv_c", disabled=not adaptive,
                      help="Adaptive: subtracted from the neighbourhood average.")

    result, used = ops.threshold(image, mode, thresh, block, c)
    caption = (f"{ops.THRESHOLD_MODES[mode]}" if used is None
               else f"{ops.THRESHOLD_MODES[mode].split(' (')[0]} at {used:.0f}")
    side_by_side(original, result, caption,
                 binary=mode in ("binary", "binary_inv", "otsu") or adaptive)
    if mode == "otsu":
        st.success(f"Otsu chose the threshold **{used:.0f}**: the line in the histogram below. "
                   + glossary.explain("Otsu"))
    code_and_download(ops.threshold_code(mode, thresh, block, c), result, f"{stem}-{mode}.png")
    st.plotly_chart(histogram_figure(ops.histogram(image), used), width="stretch",
                    config={"displayModeBar": False})
    if used is None:
        st.caption("Adaptive thresholds have no single line: each pixel gets its own, "
                   "from its neighbourhood.")


def histogram_figure(counts: np.ndarray, line: float | None) -> go.Figure:
    """Bars for gray levels 0-255, with the threshold as a vertical line.

    The line is a plain layout shape: fig.add_vline would cost ~20 ms on every rerun.
    """
    layout = dict(title="Histogram of the grayscale image", height=260, bargap=0,
                  margin=dict(l=10, r=10, t=50, b=10), showlegend=False,
                  xaxis=dict(title="gray level", range=[-1, 256]), yaxis=dict(title="pixels"))
    if line is not None:
        layout["shapes"] = [dict(type="line", x0=line, x1=line, y0=0, y1=1, yref="paper",
                                 line=dict(color="#dc2626", width=2))]
        layout["annotations"] = [dict(x=line, y=1, yref="paper", yanchor="bottom",
                                      text=f"threshold {line:.0f}", showarrow=False)]
    bars = go.Bar(x=np.arange(256), y=counts, marker_color="#6b7280", marker_line_width=0,
                  hovertemplate="gray %{x}: %{y} pixels<extra></extra>")
    return go.Figure(data=[bars], layout=layout)


@st.cache_data(max_entries=16, show_spinner=False)
def augmentation_grid(image_id: str, _image: np.ndarray, n: int, seed: int,
                      flips: bool) -> tuple[list[bytes], list[str]]:
    """Thumbnails and captions of n random augmentations, cached so that moving the
    sliders above does not redo them. `image_id` names the image (`_image` is not hashed)."""
    variants = ops.random_augmentations(images.bounded(_image, GRID_SIDE), n, seed, flips)
    return [preview(v.image, min_side=GRID_SIDE) for v in variants], [v.caption for v in variants]


def augment_tab(image: np.ndarray, image_id: str, original: bytes, stem: str,
                is_digit: bool) -> None:
    flipped = st.checkbox("Flip left to right", key="cv_flip")
    row = st.columns(3)
    angle = row[0].slider("Rotation (degrees, counter-clockwise)", -180, 180, 0, key="cv_angle")
    keep_whole = row[0].checkbox("Keep the whole image", key="cv_keep_whole",
                                 help="On: the canvas grows so no corner is cut off. "
                                      "Off: the size stays and the corners are cropped.")
    brightness = row[1].slider("Brightness", -100, 100, 0, key="cv_brightness")
    contrast = row[2].slider("Contrast", 0.5, 2.0, 1.0, step=0.05, key="cv_contrast")

    result, lines = image, []
    if flipped:
        result, lines = ops.flip(result), [ops.flip_code(src="img")]
    if angle or keep_whole:
        src = "out" if lines else "img"
        lines.append(ops.rotate_code(result.shape, angle, keep_whole, src=src))
        result = ops.rotate(result, angle, keep_whole)
    if brightness or contrast != 1.0:
        src = "out" if lines else "img"
        lines.append(ops.brightness_contrast_code(brightness, contrast, src=src))
        result = ops.brightness_contrast(result, brightness, contrast)
    if not lines:
        lines = ["out = img.copy()  # nothing applied yet: move a slider"]
    side_by_side(original, result, "Augmented", binary=False)
    code_and_download("\n".join(lines), result, f"{stem}-augmented.png")

    st.subheader("Random augmentations")
    row = st.columns([2, 1, 2], vertical_alignment="bottom")
    n = row[0].slider("How many", 4, 16, 8, key="cv_grid_n")
    seed = row[1].number_input("Seed", 0, 10_000, 0, key="cv_seed",
                               help="The same seed gives the same images.")
    flips = row[2].checkbox("Include flips", value=not is_digit, key="cv_grid_flips",
                            help="Off for digits: a mirrored 2 is not a 2.")
    st.caption("What a training pipeline feeds the model: every copy gets its own random "
               "rotation (±15°), brightness (±40) and contrast (×0.8–1.2)"
               + (", and about half of them a flip" if flips else "")
               + f". Made from a copy at most {GRID_SIDE} px on its longer side, "
                 "a typical training size.")
    thumbnails, captions = augmentation_grid(image_id, image, n, seed, flips)
    st.image(thumbnails, caption=captions, width=GRID_SIDE,
             output_format=image_format(thumbnails))


# ---------------------------------------------------------------- the page

st.title("OpenCV Lab")
st.markdown("Edge detection, thresholding and augmentation on your own image or a sample. "
            "Each result shows the OpenCV line that made it — `img` is the RGB image as a "
            "NumPy array, `gray` its grayscale version — so you can copy it.")

pick, where = st.columns([1, 4])
source = pick.radio("Image", ["Sample", "Upload"], key="cv_source")
is_digit = False
if source == "Upload":
    upload = where.file_uploader(
        "Your image", type=UPLOAD_TYPES, key="cv_upload",
        help=f"PNG, JPEG, BMP, WebP, TIFF or GIF up to {images.MAX_FILE_BYTES // 2**20} MB. "
             f"Images larger than {MAX_SIDE} px are worked on scaled down.")
    if upload is None:
        st.info("Choose an image file, or switch to a sample.")
        st.stop()
    try:
        image, (orig_h, orig_w), original = load_upload(upload.getvalue())
    except images.ImageError as e:
        st.error(f"**{common.plain(upload.name)}** cannot be used. {e}", icon=":material/error:")
        st.stop()
    stem, image_id = Path(upload.name).stem or "image", upload.file_id
else:
    choice = where.selectbox("Sample image", list(SAMPLES), format_func=SAMPLES.get,
                             key="cv_sample")
    if choice == "dataset":
        ds = common.current_dataset()
        if ds is None:
            st.stop()
        index = where.number_input(f"Image number in the {ds.title} test set", 0,
                                   len(ds.y_test) - 1, 0, key="cv_index")
        image = ds.x_test[index]
        orig_h, orig_w = image.shape[:2]
        original = preview(image)
        stem = image_id = f"{ds.name}-test-{index}"
        is_digit = ds.info.digits
        where.caption(f"Label: **{ds.class_names[ds.y_test[index]]}**. Shown enlarged; the "
                      f"operations and the download work on the real {orig_h}×{orig_w} pixels.")
    else:
        image, (orig_h, orig_w), original = load_sample(choice)
        stem, image_id = Path(choice).stem, choice

height, width = image.shape[:2]
if (height, width) != (orig_h, orig_w):
    st.info(f"This image is {orig_w:,}×{orig_h:,} pixels; the lab works on a copy scaled to "
            f"{width:,}×{height:,} so the sliders stay fast. Downloads are at that size.",
            icon=":material/photo_size_select_large:")

edges, threshold, augment = st.tabs(["Edges", "Threshold", "Augment"], key="cv_tab",
                                    on_change="rerun")
if edges.open:
    with edges:
        edges_tab(image, original, stem)
if threshold.open:
    with threshold:
        threshold_tab(image, original, stem)
if augment.open:
    with augment:
        augment_tab(image, image_id, original, stem, is_digit)
