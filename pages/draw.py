"""Draw: a digit (or a sketch of any dataset of drawings) drawn here (or photographed) ->
MNIST-style 28x28 -> both models' predictions (by their class names), and why each answered
what it did. On datasets of photos, a photo takes the drawing's place."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import charts, images, kinds, photo, preprocess, store
from pages import common, why

common.through_home()

LOW_CONFIDENCE = 0.6
CANVAS = 280
PHOTO_SIDE = 280   # px: the photo and its threshold mask, as shown
PICKER = 390       # px: a model menu, wide enough for a whole name; two fit side by side at 1280
SHORT_NAME = 8     # characters: a longer answer is cut ("green sq…") in half a phone's width


@st.cache_data(max_entries=8, show_spinner=False)
def decode_upload(data: bytes) -> np.ndarray:
    return images.decode_image(data)


def model_pickers() -> list[store.ModelInfo]:
    """One chosen model per kind, on the page (defaults: the most accurate of the dataset's);
    side by side, one under the other on a phone, each name whole. The names start with
    the kind, so the menus need no label above them: a phone keeps that room for the answer."""
    chosen = []
    row = st.container(horizontal=True)
    for kind in ("cnn", "logreg"):
        options = [m for m in common.models(ds.name) if m.kind == kind]
        if not options:
            continue
        best = common.best_model(kind, ds.name)
        chosen.append(row.selectbox(f"{kinds.KINDS[kind].name} model", options,
                                    index=options.index(best), format_func=lambda m: m.short_label,
                                    key=f"draw-{kind}", label_visibility="collapsed",
                                    width=PICKER))
    return chosen


def readers(models: list[store.ModelInfo], verb: str) -> str:
    """The chosen models doing `verb`, as a sentence says it: "both models read", "the CNN
    reads" (a dataset may have runs of one kind only)."""
    if len(models) > 1:
        return f"both models {verb}"
    return f"the {kinds.KINDS[models[0].kind].name} {verb}s"


def thumbnail(image: np.ndarray, side: int = 140) -> np.ndarray:
    """White-on-black image fitted and centred in a black side x side square, pixels kept sharp."""
    fitted = images.pixelated(images.bounded(image, side), side)
    h, w = fitted.shape[:2]
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(fitted, ((top, side - h - top), (left, side - w - left)))


def photo_steps(image: np.ndarray, model_input: np.ndarray) -> None:
    """A photo, its centre square, and the small image the models read."""
    h, w, _ = ds.shape
    row = st.container(horizontal=True)
    row.image(images.bounded(image, 140), caption="your photo", width=140)
    row.image(images.bounded(images.centre_square(image), 140), caption="its centre square",
              width=140)
    row.image(images.pixelated(model_input, 140), width=140,
              caption=f"{h} x {w}{'' if ds.info.colour else ', grey'}: what the models read")


def show_steps(result: preprocess.Preprocessed, first_caption: str) -> None:
    """The input, the cropped ink, and the 28x28 the models read, side by side (wrapping)."""
    st.caption("Prepared the way MNIST was made: cropped to the ink, scaled to fit 20 x 20, "
               "centred by its centre of mass in 28 x 28.")
    row = st.container(horizontal=True)
    row.image(thumbnail(result.ink), caption=first_caption, width=140)
    row.image(thumbnail(result.cropped), caption="cropped to the ink", width=140)
    row.image(thumbnail((result.input28 * 255).astype(np.uint8)), width=140,
              caption="28 x 28, centred: what the models read")


def answer_width(names: list[str]) -> int | str:
    """Half the row when the answers' names fit half a phone (side by side there too); else
    a menu's width: side by side at 1280, one under the other on a phone, each name whole."""
    return "stretch" if max(map(len, names), default=0) <= SHORT_NAME else PICKER


def readings(models: list[store.ModelInfo], model_input: np.ndarray) -> dict[str, np.ndarray]:
    """Each model's answer side by side, the first thing under the input (on a phone too,
    when the names are short); returns the probabilities by model id."""
    answers, problems = {}, {}
    for model in models:
        try:
            answers[model.id] = common.predict_proba(model, model_input[None])[0]
        except common.MODEL_PROBLEMS as e:
            problems[model.id] = e
    row = st.container(horizontal=True, gap="medium")
    width = answer_width([m.class_names[int(answers[m.id].argmax())] for m in models
                          if m.id in answers])
    for model in models:
        box = row.container(width=width)
        if model.id in problems:
            box.error(f"{kinds.KINDS[model.kind].name} could not predict: {problems[model.id]}")
            continue
        probs = answers[model.id]
        top = int(probs.argmax())
        box.metric(f"{kinds.KINDS[model.kind].name} reads", model.class_names[top],
                   f"{probs[top]:.1%} sure", delta_color="off", delta_arrow="off")
        box.caption(common.plain(f"{model.title} · {model.when}"))
        if probs[top] < LOW_CONFIDENCE:
            box.warning(f"Low confidence ({probs[top]:.0%}): the model is unsure. " + (
                        f"Draw the {ds.info.drawn} larger and centred, with clear strokes."
                        if ds.info.digits else "Try a photo with the subject filling the "
                        "middle of the picture."))
    return answers


def probability_charts(models: list[store.ModelInfo], answers: dict[str, np.ndarray],
                       key: str) -> None:
    """Each answering model's probability for every class, side by side."""
    shown = [m for m in models if m.id in answers]
    for col, model in zip(st.columns(len(shown) or 1), shown):
        col.caption(f"{kinds.KINDS[model.kind].name}, class by class")
        col.plotly_chart(charts.probabilities(answers[model.id], model.class_names),
                         key=f"{key}-{model.id}", config={"displayModeBar": False})


def page_title() -> str:
    """"Draw a digit" (MNIST), "Draw: <title>" (sketches of other classes), "Show a photo:
    <title>" (photos)."""
    if not ds.info.digits:
        return f"Show a photo: {common.plain(ds.title)}"
    return "Draw a digit" if ds.info.drawn == "digit" else f"Draw: {common.plain(ds.title)}"


def to_draw() -> str:
    """What to draw, as the hint says it: "a digit (0-9)", or "one of: circle, square, ..."."""
    names = ", ".join(map(common.plain, ds.class_names))   # typed by a person: shown as typed
    return "a digit (0-9)" if ds.info.drawn == "digit" else f"one of: {names}"


def how_they_see_it():
    """The collapsible part that shows what was made of the input before the models read it."""
    return st.expander("How the models see it", expanded=True, icon=":material/visibility:")


def draw_tab(models: list[store.ModelInfo]) -> None:
    row = st.container(horizontal=True, gap="medium")   # wraps on narrow screens
    left, right = row.container(width=CANVAS + 16), row.container(width="stretch")
    with left:
        pad = st.container()                            # the canvas, above its controls
        controls = st.container(horizontal=True, vertical_alignment="bottom")
        if controls.button("Clear", icon=":material/ink_eraser:"):
            st.session_state.clears = st.session_state.get("clears", 0) + 1
            st.rerun()
        width = controls.slider("Brush width", 8, 40, 20, key="brush")
        with pad:
            canvas = st_canvas(stroke_width=width, stroke_color="#ffffff",
                               background_color="#000000", width=CANVAS, height=CANVAS,
                               drawing_mode="freedraw", return_image_data=True,
                               key=f"canvas-{st.session_state.get('clears', 0)}")
    with right:
        image = canvas.image_data
        result = preprocess.to_mnist(image) if image is not None else None
        if result is None or result.is_empty:
            hint = "" if result is None or result.reason == preprocess.BLANK else result.reason
            st.info(f"Draw {to_draw()} in the black box with your mouse or finger; "
                    f"{readers(models, 'read')} it as soon as you lift the pen.\n\n{hint}",
                    icon=":material/draw:")
            return
        answers = readings(models, result.input28)
        probability_charts(models, answers, "draw")
        with how_they_see_it():
            show_steps(result, "your drawing")
    why.section(models, result.input28, answers, "draw", ds)


def any_photo_tab(models: list[store.ModelInfo]) -> None:
    """A photo of anything, read as one image of the dataset (centre square, its size)."""
    h, w, _ = ds.shape
    look = ("in colour" if ds.info.colour else "in grey, a light subject on a dark ground as "
            f"in {ds.title} (a photo on a light background is inverted)")
    image = uploaded_photo(f"A photo of one of: {', '.join(ds.class_names)}",
                           f"The middle square of the photo is shrunk to {h} x {w} pixels, "
                           f"{look}: what {ds.title}'s images look like. Then "
                           f"{readers(models, 'read')} it.", key=f"photo-{ds.name}")
    if image is None:
        return
    small = images.as_dataset_image(image, ds.shape)
    model_input = small.astype(np.float32) / 255
    answers = readings(models, model_input)
    probability_charts(models, answers, "photo")
    with how_they_see_it():
        photo_steps(image, small)
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
    thing = "handwritten digit" if ds.info.drawn == "digit" else ds.info.drawn
    image = uploaded_photo(f"A photo of one {thing} (dark ink on light paper works best)",
                           "Any lighting: the photo is evened out, thresholded, and the largest "
                           f"ink region is taken as the {ds.info.drawn}.")
    if image is None:
        return
    result = photo.from_photo(image)
    if result.is_empty:
        st.warning(result.reason)
        thresholded(image, result)
        return
    answers = readings(models, result.input28)
    probability_charts(models, answers, "photo")
    with how_they_see_it():
        thresholded(image, result)
        show_steps(result, f"the {ds.info.drawn}'s ink")
    why.section(models, result.input28, answers, "photo", ds)


def thresholded(image: np.ndarray, result: preprocess.Preprocessed) -> None:
    """The photo and its threshold mask, side by side (wrapping on a phone)."""
    row = st.container(horizontal=True)
    # No wider than shown: st.image would shrink a wider strip itself, to 0 px tall.
    row.image(images.bounded(image, PHOTO_SIDE), caption="your photo", width=PHOTO_SIDE)
    if result.thresholded is not None:
        row.image(images.bounded(result.thresholded, PHOTO_SIDE),
                  caption=f"thresholded ({result.threshold_method})", width=PHOTO_SIDE)


ds = common.current_dataset()
if ds is None:
    st.stop()
st.title(page_title())
intro = st.empty()   # above the pickers, said once they tell which models there are
chosen = model_pickers()
if chosen and not ds.info.digits:
    were = "The models were" if len(chosen) > 1 else "The model was"
    intro.caption(f"{were} trained on {common.plain(ds.info.its_images)}, so nothing is "
                  f"drawn here: upload a photo and {readers(chosen, 'say')} which of its classes "
                  "it shows.")
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
