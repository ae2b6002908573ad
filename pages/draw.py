"""Draw: a digit drawn here (or photographed) -> MNIST-style 28x28 -> both models' predictions,
and why each answered what it did. On datasets of other things, a photo takes the drawing's place."""

from functools import partial

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import charts, explain, images, kinds, photo, preprocess, store
from core.lite import Inside
from pages import common

common.through_home()

LOW_CONFIDENCE = 0.6
CANVAS = 280
PHOTO_SIDE = 280   # px: the photo and its threshold mask, as shown
MAPS_SHOWN = 16    # feature maps per layer before "Show every map"
MAP_COLUMNS = 8


@st.cache_data(max_entries=8, show_spinner=False)
def decode_upload(data: bytes) -> np.ndarray:
    return images.decode_image(data)


@st.cache_data(max_entries=32, show_spinner=False)
def saliency(key: tuple, _model: store.ModelInfo, image: np.ndarray) -> np.ndarray:
    """The occlusion map of every class (10 x H x W), once per model file and image.

    Digits are blanked to black (no ink); photos to their own mean colour (nothing there)."""
    fill = 0.0 if ds.info.digits else image.mean(axis=(0, 1))
    return explain.occlusion(partial(common.predict_proba, _model), image, fill)


@st.cache_data(max_entries=32, show_spinner=False)
def cnn_inside(key: tuple, _model: store.ModelInfo, image: np.ndarray) -> Inside:
    """A CNN's feature maps for the drawing and its first-layer filters, from the worker."""
    return common.serving().inside(_model, image)


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
            if probs[top] < LOW_CONFIDENCE:
                st.warning(f"Low confidence ({probs[top]:.0%}): the model is unsure. " + (
                           "Draw the digit larger and centred, with clear strokes."
                           if ds.info.digits else "Try a photo with the subject filling the "
                           "middle of the picture."))
            st.plotly_chart(charts.probabilities(probs, ds.class_names), key=f"{key}-{model.id}",
                            config={"displayModeBar": False})
    return answers


# ---------------------------------------------------------------- why these answers

def why_section(models: list[store.ModelInfo], input28: np.ndarray,
                answers: dict[str, np.ndarray], key: str) -> None:
    """Tabs that explain the answers; only the open tab is computed."""
    models = [m for m in models if m.id in answers]
    if not models:
        return
    views = {"Strokes used" if ds.info.digits else "Places used": strokes_view}
    if any(m.kind == "logreg" for m in models):
        views["Pixel evidence"] = evidence_view
    if any(m.kind == "cnn" for m in models):
        views["Inside the CNN"] = inside_view
    st.subheader("Why these answers")
    tabs = st.tabs(list(views), key=f"why-{key}", on_change="rerun")
    for tab, view in zip(tabs, views.values()):
        if tab.open:
            with tab:
                view(models, input28, answers, key)


def strokes_view(models, input28, answers, key) -> None:
    """Occlusion saliency of both models, for their answers or a class the person picks."""
    names = ds.class_names
    if ds.info.digits:
        st.caption("Each model reads your digit again with a small square of it blanked, at "
                   "every place along the strokes. **Red**: blanking that ink makes the model "
                   "less sure of the digit, so it relied on it; **blue**: more sure, so that "
                   "ink argued against it. Pick a digit to ask, say, *why not 9?*")
    else:
        st.caption("Each model reads your image again with a small square of it covered (in "
                   "the image's average colour), at every place. **Red**: covering it makes "
                   "the model less sure of the class, so it relied on what is there; **blue**: "
                   "more sure, so that part argued against it. Pick a class to ask *why not?*")
    choice = st.segmented_control("Explain", ["answer", *names], default="answer",
                                  format_func=lambda c: "each model's answer" if c == "answer"
                                  else c, key=f"why-class-{key}") or "answer"
    for col, model in zip(st.columns(len(models)), models):
        probs = answers[model.id]
        cls = int(probs.argmax()) if choice == "answer" else names.index(choice)
        name = kinds.KINDS[model.kind].name
        with col:
            computed = common.each_model(
                [model], [name], lambda m: saliency(m.version, m, input28),
                "{name}'s saliency could not be computed: {error}")
        if computed is None:
            continue
        heat = computed[0]
        col.plotly_chart(charts.over_digit(
            heat[cls], input28,
            f"{name}: why {'' if cls == probs.argmax() else 'not '}{names[cls]}?",
            f"probability of {names[cls]}: {probs[cls]:.1%}"
            + (" · outline: your digit" if ds.info.digits else ""),
            f"covering here lowers the log-odds of {names[cls]} by %{{z:.2f}}<extra></extra>",
            "log-odds<br>drop"), key=f"why-heat-{key}-{model.id}",
            config={"displayModeBar": False})


def evidence_view(models, input28, answers, key) -> None:
    """A Logistic Regression's score for two classes, pixel by pixel."""
    model = next(m for m in models if m.kind == "logreg")
    computed = common.each_model([model], [kinds.KINDS[model.kind].name], common.serving().weights,
                                 "The {name}'s weights could not be read: {error}")
    if computed is None:
        return
    weights = computed[0]
    probs = answers[model.id]
    top, runner_up = np.argsort(-probs)[:2]
    names, n = ds.class_names, f"{ds.info.features:,}"
    if ds.info.colour:
        st.caption(f"A Logistic Regression scores each class by adding up, over the {n} numbers "
                   "of the image (red, green and blue of every pixel), **weight x brightness**, "
                   "plus one number per class (its intercept); the highest score wins. Each map "
                   "shows those terms, the three colours of a pixel added together: **red** "
                   "pixels add to the score, **blue** ones take away.")
    else:
        st.caption(f"A Logistic Regression scores each {'digit' if ds.info.digits else 'class'} "
                   f"by adding up, over the {n} pixels, **weight x ink**, plus one number per "
                   f"class (its intercept); the highest score wins. Each map shows those {n} "
                   "terms: **red** pixels add to the score, **blue** ones take away.")
    other = st.segmented_control("Compare its answer with", names, default=names[runner_up],
                                 key=f"why-other-{key}") or names[runner_up]
    x = input28.reshape(-1)
    classes = (int(top), names.index(other))
    evidence = [explain.evidence(weights.coef_, input28, cls) for cls in classes]
    limit = max(float(np.abs(terms).max()) for terms in evidence)  # one scale for both maps
    for side, (col, cls, terms) in enumerate(zip(st.columns(2), classes, evidence)):
        intercept = float(weights.intercept_[cls])
        score = float(x @ weights.coef_[cls] + intercept)
        col.plotly_chart(charts.over_digit(
            terms, input28, f"Evidence for {names[cls]}" + (" (its answer)" if cls == top else ""),
            f"score {score:+.2f}, probability {probs[cls]:.1%}",
            "weight x value %{z:+.3f}<extra></extra>" if ds.info.colour else
            "ink %{customdata:.2f}<br>weight x ink %{z:+.3f}<extra></extra>", "weight<br>x value",
            limit), key=f"why-evidence-{key}-{side}", config={"displayModeBar": False})
        col.caption(f"Sum of the {n} terms: **{terms.sum():+.3f}** = score {score:+.3f} "
                    f"minus intercept {intercept:+.3f}")


def inside_view(models, input28, answers, key) -> None:
    """The CNN's first-layer filters and every convolution's feature maps for this digit."""
    model = next(m for m in models if m.kind == "cnn")
    computed = common.each_model(
        [model], [kinds.KINDS[model.kind].name], lambda m: cnn_inside(m.version, m, input28),
        "This {name}'s layers cannot be shown: {error}")
    if computed is None:
        return
    inside = computed[0]
    n, kh, kw = inside.filters.shape[:3]
    st.plotly_chart(charts.first_layer_filters(
        inside.filters, "What the first layer looks for",
        f"its {n} filters of {kh} x {kw}, as the app runs them (any batch normalisation "
        "folded in)"),
        key=f"why-filters-{key}", config={"displayModeBar": False})
    st.caption("Each filter slides over the image and lights up where the image matches its "
               "pattern " + ("(mid-grey is 0; a filter responds to the colours it shows and "
               "against their opposites)" if ds.info.colour else
               "(red weights want ink, blue want none)") + ". The maps below are what every "
               "convolution made of your image: bright = strong response; deeper layers see "
               "coarser, more abstract parts.")
    every = st.toggle("Show every map", key=f"why-all-{key}",
                      help=f"Otherwise the {MAPS_SHOWN} strongest of each layer.")
    for first in range(0, len(inside.layers), 2):   # two layers side by side
        for col, layer in zip(st.columns(2), inside.layers[first:first + 2]):
            with col:
                feature_maps(layer, every)


def feature_maps(layer, every: bool) -> None:
    """One convolution's maps as a grid: the strongest (by peak response) first."""
    maps = np.moveaxis(layer.maps, -1, 0)
    order = np.argsort(-maps.max(axis=(1, 2)), kind="stable")
    shown = order if every else order[:MAPS_SHOWN]
    c = len(maps)
    st.markdown(f"**{layer.title}** → {' x '.join(map(str, layer.maps.shape))}")
    st.image(images.mosaic(maps[shown], MAP_COLUMNS, 56, float(maps.max())),
             caption=("all" if len(shown) == c else f"the strongest {len(shown)} of")
             + f" {c} maps, strongest first; one colour scale per layer (brightest = "
             f"{maps.max():.2f})")


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
    why_section(models, result.input28, answers, "draw")


def any_photo_tab(models: list[store.ModelInfo]) -> None:
    """A photo of anything, read as one image of the dataset (centre square, its size)."""
    h, w, _ = ds.shape
    look = ("in colour" if ds.info.colour else "in grey, a light subject on a dark ground as "
            f"in {ds.title} (a photo on a light background is inverted)")
    upload = st.file_uploader(f"A photo of one of: {', '.join(ds.class_names)}",
                              type=["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff"],
                              key=f"photo-{ds.name}")
    if upload is None:
        st.caption(f"The middle square of the photo is shrunk to {h} x {w} pixels, {look}: "
                   f"what {ds.title}'s images look like. Both models then read it.")
        return
    try:
        image = decode_upload(upload.getvalue())
    except images.ImageError as e:
        st.error(str(e))
        return
    small = images.as_dataset_image(image, ds.shape)
    model_input = small.astype(np.float32) / 255
    photo_steps(image, small)
    answers = show_predictions(models, model_input, "photo")
    why_section(models, model_input, answers, "photo")


def photo_tab(models: list[store.ModelInfo]) -> None:
    upload = st.file_uploader("A photo of one handwritten digit (dark ink on light paper works best)",
                              type=["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff"])
    if upload is None:
        st.caption("Any lighting: the photo is evened out, thresholded, and the largest ink "
                   "region is taken as the digit.")
        return
    try:
        image = decode_upload(upload.getvalue())
    except images.ImageError as e:
        st.error(str(e))
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
    why_section(models, result.input28, answers, "photo")


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
