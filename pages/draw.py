"""Draw: a digit drawn here (or photographed) -> MNIST-style 28x28 -> both models' predictions,
and why each answered what it did. On datasets of other things, a photo takes the drawing's place."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import charts, images, kinds, photo, preprocess, store
from pages import common, why

common.through_home()

LOW_CONFIDENCE = 0.6
CANVAS = 280
PHOTO_SIDE = 280   # px: the photo and its threshold mask, as shown


@st.cache_data(max_entries=8, show_spinner=False)
def decode_upload(data: bytes) -> np.ndarray:
    return images.decode_image(data)


def model_pickers() -> list[store.ModelInfo]:
    """One chosen model per kind (defaults: the most accurate one of the dataset's)."""
    chosen = []
    for kind in ("cnn", "logreg"):
        options = [m for m in common.models(ds.name) if m.kind == kind]
        if not options:
            continue
        best = common.best_model(kind, ds.name)
        chosen.append(st.sidebar.selectbox(f"{kinds.KINDS[kind].name} model", options, index=options.index(best),
                                           format_func=lambda m: m.label, key=f"draw-{kind}"))
    return chosen


def thumbnail(image: np.ndarray, side: int = 140) -> np.ndarray:
    """White-on-black image fitted and centred in a black side x side square, pixels kept sharp."""
    fitted = images.pixelated(images.bounded(image, side), side)
    h, w = fitted.shape[:2]
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(fitted, ((top, side - h - top), (left, side - w - left)))


def photo_steps(image: np.ndarray, model_input: np.ndarray) -> None:
    """A photo, its centre square, and the small image the models read."""
    h, w, _ = ds.shape
    cols = st.columns(3)
    cols[0].image(images.bounded(image, 140), caption="your photo", width=140)
    cols[1].image(images.bounded(images.centre_square(image), 140), caption="its centre square",
                  width=140)
    cols[2].image(images.pixelated(model_input, 140), width=140,
                  caption=f"{h} x {w}{'' if ds.info.colour else ', grey'}: what the models read")


def show_steps(result: preprocess.Preprocessed, first_caption: str) -> None:
    """The input, the cropped digit, and the 28x28 the models read, side by side."""
    cols = st.columns(3)
    cols[0].image(thumbnail(result.ink), caption=first_caption)
    cols[1].image(thumbnail(result.cropped), caption="cropped to the ink")
    cols[2].image(thumbnail((result.input28 * 255).astype(np.uint8)),
                  caption="28 x 28, centred: what the models read")


def show_predictions(models: list[store.ModelInfo], input28: np.ndarray, key: str
                     ) -> dict[str, np.ndarray]:
    """Each model's answer and probabilities; returns the probabilities by model id."""
    answers = {}
    cols = st.columns(len(models))
    for col, model in zip(cols, models):
        with col:
            try:
                probs = common.predict_proba(model, input28[None])[0]
            except common.MODEL_PROBLEMS as e:
                st.error(f"{kinds.KINDS[model.kind].name} could not predict: {e}")
                continue
            answers[model.id] = probs
            top = int(probs.argmax())
            st.metric(f"{kinds.KINDS[model.kind].name} reads", ds.class_names[top],
                      f"{probs[top]:.1%} sure", delta_color="off", delta_arrow="off")
            st.caption(common.plain(f"{model.title} · {model.when}"))
            if probs[top] < LOW_CONFIDENCE:
                st.warning(f"Low confidence ({probs[top]:.0%}): the model is unsure. " + (
                           "Draw the digit larger and centred, with clear strokes."
                           if ds.info.digits else "Try a photo with the subject filling the "
                           "middle of the picture."))
            st.plotly_chart(charts.probabilities(probs, ds.class_names), key=f"{key}-{model.id}",
                            config={"displayModeBar": False})
    return answers


def draw_tab(models: list[store.ModelInfo]) -> None:
    row = st.container(horizontal=True, gap="large")   # wraps on narrow screens
    left, right = row.container(width=CANVAS + 16), row.container(width="stretch")
    with left:
        width = st.slider("Brush width", 8, 40, 20, key="brush")
        canvas = st_canvas(stroke_width=width, stroke_color="#ffffff", background_color="#000000",
                           width=CANVAS, height=CANVAS, drawing_mode="freedraw",
                           return_image_data=True, key=f"canvas-{st.session_state.get('clears', 0)}")
        if st.button("Clear", icon=":material/ink_eraser:"):
            st.session_state.clears = st.session_state.get("clears", 0) + 1
            st.rerun()
    with right:
        image = canvas.image_data
        result = preprocess.to_mnist(image) if image is not None else None
        if result is None or result.is_empty:
            hint = "" if result is None or result.reason == preprocess.BLANK else result.reason
            st.info("Draw a digit (0-9) in the black box with your mouse or finger; both models "
                    f"read it as soon as you lift the pen.\n\n{hint}", icon=":material/draw:")
            return
        show_steps(result, "your drawing")
        answers = show_predictions(models, result.input28, "draw")
    why.section(models, result.input28, answers, "draw", ds)


def any_photo_tab(models: list[store.ModelInfo]) -> None:
    """A photo of anything, read as one image of the dataset (centre square, its size)."""
    h, w, _ = ds.shape
    look = ("in colour" if ds.info.colour else "in grey, a light subject on a dark ground as "
            f"in {ds.title} (a photo on a light background is inverted)")
    image = uploaded_photo(f"A photo of one of: {', '.join(ds.class_names)}",
                           f"The middle square of the photo is shrunk to {h} x {w} pixels, "
                           f"{look}: what {ds.title}'s images look like. Both models then "
                           "read it.", key=f"photo-{ds.name}")
    if image is None:
        return
    small = images.as_dataset_image(image, ds.shape)
    model_input = small.astype(np.float32) / 255
    photo_steps(image, small)
    answers = show_predictions(models, model_input, "photo")
    why.section(models, model_input, answers, "photo", ds)


def uploaded_photo(label: str, hint: str, key: str | None = None) -> np.ndarray | None:
    """The photo a person uploads, decoded; None (after the hint, or a plain error) if none."""
    upload = st.file_uploader(label, type=["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff"],
                              key=key)
    if upload is None:
        st.caption(hint)
        return None
    try:
        return decode_upload(upload.getvalue())
    except images.ImageError as e:
        st.error(str(e))
        return None


def photo_tab(models: list[store.ModelInfo]) -> None:
    image = uploaded_photo("A photo of one handwritten digit (dark ink on light paper works best)",
                           "Any lighting: the photo is evened out, thresholded, and the largest "
                           "ink region is taken as the digit.")
    if image is None:
        return
    result = photo.from_photo(image)
    left, right = st.columns([1, 2], gap="large")
    # No wider than shown: st.image would shrink a wider strip itself, to 0 px tall.
    left.image(images.bounded(image, PHOTO_SIDE), caption="your photo", width=PHOTO_SIDE)
    if result.thresholded is not None:
        left.image(images.bounded(result.thresholded, PHOTO_SIDE),
                   caption=f"thresholded ({result.threshold_method})", width=PHOTO_SIDE)
    with right:
        if result.is_empty:
            st.warning(result.reason)
            return
        show_steps(result, "the digit's ink")
        answers = show_predictions(models, result.input28, "photo")
    why.section(models, result.input28, answers, "photo", ds)


ds = common.current_dataset()
if ds is None:
    st.stop()
st.title("Draw a digit" if ds.info.digits else f"Show the {ds.title} models a photo")
if ds.info.digits:
    st.caption(f"Preprocessed the way MNIST was made: cropped to the ink, scaled to fit 20 x 20, "
               f"centred by its centre of mass in 28 x 28. Models trained on {ds.title}.")
else:
    st.caption(f"The models were trained on {ds.title}'s {ds.info.subject}, so nothing is "
               "drawn here: upload a photo and both models say which of its classes it shows.")
chosen = model_pickers()
if not chosen:
    st.warning(f"No {ds.title} models yet: train one on the Train page first.")
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()
common.serving().warm_up(chosen)  # start the CNN worker now, while the person draws
if ds.info.digits:
    drawing, photographed = st.tabs(["Draw", "Upload a photo"])
    with drawing:
        draw_tab(chosen)
    with photographed:
        photo_tab(chosen)
else:
    any_photo_tab(chosen)
