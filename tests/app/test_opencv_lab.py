"""OpenCV Lab page, run headless with Streamlit's AppTest through Home's navigation."""

import io
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
import pytest
from streamlit.testing.v1 import AppTest

from core import images
from core import imageops as ops
from tests.unit.test_imageops import png_header_only

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "assets" / "samples" / "shapes.png"


@pytest.fixture
def open_lab(open_page):
    return lambda: open_page("pages/opencv_lab.py", timeout=30)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="cv_source").set_value("Upload").run()
    at.file_uploader(key="cv_upload").set_value((name, data, "image/png"))
    at.run()
    assert not at.exception
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["cv_tab"] = label      # what clicking the tab does in a browser
    at.run()
    assert not at.exception
    return at


def codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def image_urls(at: AppTest) -> list[str]:
    return [url for element in at.get("image") for url in element.value]


def png_bytes(image: np.ndarray) -> bytes:
    return images.encode_png(image)


# ---------------------------------------------------------------- samples and sliders

def test_sample_shows_original_and_edges_side_by_side_with_code_and_download(open_lab):
    at = open_lab()
    assert at.title[0].value == "OpenCV Lab"
    original, edges = image_urls(at)
    # Sent as encoded by the page: the photo as JPEG, the black-and-white edges as PNG
    # (st.image would otherwise re-encode the PNG as JPEG on every rerun).
    assert original.endswith(".jpg") and edges.endswith(".png")
    assert codes(at) == [ops.canny_code(50, 150, 5)]
    assert at.get("download_button")[0].label == "Download result (PNG, 800×540)"
    assert not at.error


def test_moving_canny_sliders_changes_result_and_code(open_lab):
    at = open_lab()
    before = image_urls(at)[1]
    at.slider(key="cv_canny").set_value((10, 40)).run()
    at.select_slider(key="cv_canny_blur").set_value(0).run()
    at.select_slider(key="cv_aperture").set_value(5)
    at.checkbox(key="cv_l2").check().run()
    assert not at.exception
    assert codes(at) == ["out = cv2.Canny(gray, 10, 40, apertureSize=5, L2gradient=True)"]
    assert image_urls(at)[1] != before


def test_auto_thresholds_button_sets_the_sliders_from_the_image(open_lab):
    at = open_lab()
    at.button[0].click().run()
    sample = images.decode_image(SHAPES.read_bytes())
    expected = ops.auto_canny_thresholds(sample)
    assert at.slider(key="cv_canny").value == expected
    assert codes(at) == [ops.canny_code(*expected, 5)]


def test_threshold_tab_otsu_states_its_threshold_and_marks_the_histogram(open_lab):
    at = open_tab(open_lab(), "Threshold")
    assert codes(at) == ["T, out = cv2.threshold(gray, 127, 255, cv2.THRESH_BINARY)"]
    at.selectbox(key="cv_mode").set_value("otsu").run()
    gray = images.to_gray(images.decode_image(SHAPES.read_bytes()))
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert f"threshold **{otsu:.0f}**" in at.success[0].value
    assert at.slider(key="cv_thresh").disabled
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["data"][0]["type"] == "bar"
    assert [s["x0"] for s in figure["layout"]["shapes"]] == [otsu]


def test_threshold_slider_and_adaptive_settings(open_lab):
    at = open_tab(open_lab(), "Threshold")
    at.slider(key="cv_thresh").set_value(200).run()
    assert codes(at) == ["T, out = cv2.threshold(gray, 200, 255, cv2.THRESH_BINARY)"]
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["layout"]["shapes"][0]["x0"] == 200
    at.selectbox(key="cv_mode").set_value("adaptive_mean").run()
    at.select_slider(key="cv_block").set_value(21)
    at.slider(key="cv_c").set_value(7).run()
    assert not at.exception
    assert codes(at) == [ops.threshold_code("adaptive_mean", block_size=21, c=7)]
    assert "shapes" not in json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]


def test_augment_tab_applies_flip_rotation_brightness_and_shows_a_seeded_grid(open_lab):
    at = open_tab(open_lab(), "Augment")
    assert codes(at) == ["out = img.copy()  # nothing applied yet: move a slider"]
    at.checkbox(key="cv_flip").check()
    at.slider(key="cv_angle").set_value(30)
    at.checkbox(key="cv_keep_whole").check()
    at.slider(key="cv_brightness").set_value(20).run()
    assert not at.exception
    assert codes(at) == ["\n".join([ops.flip_code(),
                                    ops.rotate_code((540, 800), 30, True, src="out"),
                                    ops.brightness_contrast_code(20, 1.0, src="out")])]
    width, height = ops.rotate(np.zeros((540, 800), np.uint8), 30, True).shape[::-1]
    assert at.get("download_button")[0].label == f"Download result (PNG, {width}×{height})"
    grid = at.get("image")[-1]
    assert len(grid.value) == 8
    first_captions = grid.captions
    at.slider(key="cv_grid_n").set_value(4).run()
    assert len(at.get("image")[-1].value) == 4
    at.number_input(key="cv_seed").set_value(1).run()
    assert at.get("image")[-1].captions != first_captions[:4]


def test_dataset_digit_sample_works_on_28x28_and_turns_flips_off(open_lab):
    at = open_lab()
    at.selectbox(key="cv_sample").set_value("dataset").run()
    assert not at.exception
    assert at.number_input(key="cv_index").value == 0
    assert any("Label:" in c.value for c in at.caption)
    assert at.get("download_button")[0].label == "Download result (PNG, 28×28)"
    open_tab(at, "Augment")
    assert at.checkbox(key="cv_grid_flips").value is False


# ---------------------------------------------------------------- uploads

def test_upload_is_used_and_large_images_are_scaled_down_with_a_note(open_lab):
    at = open_lab()
    small = cv2.cvtColor(cv2.imread(str(SHAPES)), cv2.COLOR_BGR2RGB)
    upload(at, "mine.png", png_bytes(small[:200, :300]))
    assert not at.info or "scaled" not in at.info[0].value
    assert at.get("download_button")[0].label == "Download result (PNG, 300×200)"

    big = cv2.resize(small, (2800, 2100), interpolation=cv2.INTER_NEAREST)
    upload(at, "big.png", png_bytes(big))
    assert any("2,800×2,100" in i.value and "1,400×1,050" in i.value for i in at.info)
    assert at.get("download_button")[0].label == "Download result (PNG, 1400×1050)"


def truncated_png() -> bytes:
    data = png_bytes(np.random.default_rng(0).integers(0, 256, (100, 100), dtype=np.uint8))
    return data[: len(data) // 2]


def animated_gif() -> bytes:
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


BAD_FILES = {  # case -> (file content, words the error must contain)
    "empty": (b"", "empty"),
    "text": (b"just some text, not a picture\n" * 20, "not an image"),
    "truncated": (truncated_png(), "damaged or incomplete"),
    "bomb": (png_header_only(30_000, 30_000), "megapixels"),
    "animated": (animated_gif(), "2 frames"),
    "too-big": (b"\x89PNG" + bytes(images.MAX_FILE_BYTES), "limit is 20 MB"),
}


def test_bad_uploads_show_a_plain_error_and_the_page_keeps_working(open_lab, subtests):
    at = open_lab()                          # one session, like a person trying file after file
    good = png_bytes(np.full((40, 60), 200, np.uint8))
    for case, (data, message) in BAD_FILES.items():
        with subtests.test(case):
            upload(at, "bad.png", data)
            assert len(at.error) == 1
            assert "bad.png" in at.error[0].value and message in at.error[0].value
            assert not at.code               # no half-made result below the error
            upload(at, "good.png", good)
            assert not at.error
            assert at.get("download_button")[0].label == "Download result (PNG, 60×40)"
