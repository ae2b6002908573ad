"""Draw: a digit drawn here (or photographed) -> MNIST-style 28x28 -> both models' predictions,
and why each answered what it did."""

from functools import partial

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import charts, explain, images, kinds, photo, preprocess, store
from core.data import DIGITS
from core.lite import Inside
from core.predictor import PredictError
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
    """The occlusion map of every class (10 x 28 x 28), once per model file and drawing."""
    return explain.occlusion(partial(common.predict_proba, _model), image)


@st.cache_data(max_entries=32, show_spinner=False)
def cnn_inside(key: tuple, _model: store.ModelInfo, image: np.ndarray) -> Inside:
    """A CNN's feature maps for the drawing and its first-layer filters, from the worker."""
    return common.predictor().inside(_model.file, image[None])


def model_pickers() -> list[store.ModelInfo]:
    """One chosen model per kind (defaults: the most accurate MNIST model of that kind)."""
    chosen = []
    for kind in ("cnn", "logreg"):
        options = [m for m in common.models("mnist") if m.kind == kind]
        if not options:
            continue
        best = common.best_model(kind)
        chosen.append(st.sidebar.selectbox(f"{kinds.KINDS[kind].name} model", options, index=options.index(best),
                                           format_func=lambda m: m.label, key=f"draw-{kind}"))
    return chosen


def thumbnail(image: np.ndarray, side: int = 140) -> np.ndarray:
    """White-on-black image fitted and centred in a black side x side square, pixels kept sharp."""
    fitted = images.pixelated(images.bounded(image, side), side)
    h, w = fitted.shape[:2]
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(fitted, ((top, side - h - top), (left, side - w - left)))


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
            except (store.StoreError, PredictError) as e:
                st.error(f"{kinds.KINDS[model.kind].name} could not predict: {e}")
                continue
            answers[model.id] = probs
            top = int(probs.argmax())
            st.metric(f"{kinds.KINDS[model.kind].name} reads", DIGITS[top],
                      f"{probs[top]:.1%} sure", delta_color="off", delta_arrow="off")
            if probs[top] < LOW_CONFIDENCE:
                st.warning(f"Low confidence ({probs[top]:.0%}): the model is unsure. "
                           "Draw the digit larger and centred, with clear strokes.")
            st.plotly_chart(charts.probabilities(probs, DIGITS), key=f"{key}-{model.id}",
                            config={"displayModeBar": False})
    return answers


# ---------------------------------------------------------------- why these answers

def why_section(models: list[store.ModelInfo], input28: np.ndarray,
                answers: dict[str, np.ndarray], key: str) -> None:
    """Tabs that explain the answers; only the open tab is computed."""
    models = [m for m in models if m.id in answers]
    if not models:
        return
    views = {"Strokes used": strokes_view}
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
    """Occlusion saliency of both models, for their answers or a digit the person picks."""
    st.caption("Each model reads your digit again with a small square of it blanked, at every "
               "place along the strokes. **Red**: blanking that ink makes the model less sure "
               "of the digit, so it relied on it; **blue**: more sure, so that ink argued "
               "against it. Pick a digit to ask, say, *why not 9?*")
    choice = st.segmented_control("Explain", ["answer", *DIGITS], default="answer",
                                  format_func=lambda c: "each model's answer" if c == "answer"
                                  else c, key=f"why-class-{key}") or "answer"
    for col, model in zip(st.columns(len(models)), models):
        probs = answers[model.id]
        cls = int(probs.argmax()) if choice == "answer" else int(choice)
        name = kinds.KINDS[model.kind].name
        with col:
            computed = common.each_model(
                [model], [name], lambda m: saliency(common.version(m), m, input28),
                "{name}'s saliency could not be computed: {error}")
        if computed is None:
            continue
        heat = computed[0]
        col.plotly_chart(charts.over_digit(
            heat[cls], input28, f"{name}: why {'' if cls == probs.argmax() else 'not '}{cls}?",
            f"probability of {cls}: {probs[cls]:.1%} · outline: your digit",
            f"blanking here lowers the log-odds of {cls} by %{{z:.2f}}<extra></extra>",
            "log-odds<br>drop"), key=f"why-heat-{key}-{model.id}",
            config={"displayModeBar": False})


def evidence_view(models, input28, answers, key) -> None:
    """A Logistic Regression's score for two classes, pixel by pixel."""
    model = next(m for m in models if m.kind == "logreg")
    computed = common.each_model([model], [kinds.KINDS[model.kind].name], common.logreg_model,
                                 "The {name}'s weights could not be read: {error}")
    if computed is None:
        return
    weights = computed[0]
    probs = answers[model.id]
    top, runner_up = np.argsort(-probs)[:2]
    st.caption("A Logistic Regression scores each digit by adding up, over the 784 pixels, "
               "**weight x ink**, plus one number per digit (its intercept); the highest score "
               "wins. Each map shows those 784 terms: **red** pixels add to the score, "
               "**blue** ones take away.")
    other = int(st.segmented_control("Compare its answer with", DIGITS, default=DIGITS[runner_up],
                                     key=f"why-other-{key}") or runner_up)
    x = input28.reshape(-1)
    classes = (int(top), other)
    evidence = [explain.evidence(weights.coef_, input28, cls) for cls in classes]
    limit = max(float(np.abs(terms).max()) for terms in evidence)  # one scale for both maps
    for side, (col, cls, terms) in enumerate(zip(st.columns(2), classes, evidence)):
        intercept = float(weights.intercept_[cls])
        score = float(x @ weights.coef_[cls] + intercept)
        col.plotly_chart(charts.over_digit(
            terms, input28, f"Evidence for {cls}" + (" (its answer)" if cls == top else ""),
            f"score {score:+.2f}, probability {probs[cls]:.1%}",
            "ink %{customdata:.2f}<br>weight x ink %{z:+.3f}<extra></extra>", "weight<br>x ink",
            limit), key=f"why-evidence-{key}-{side}", config={"displayModeBar": False})
        col.caption(f"Sum of the 784 terms: **{terms.sum():+.3f}** = score {score:+.3f} "
                    f"minus intercept {intercept:+.3f}")


def inside_view(models, input28, answers, key) -> None:
    """The CNN's first-layer filters and every convolution's feature maps for this digit."""
    model = next(m for m in models if m.kind == "cnn")
    computed = common.each_model(
        [model], [kinds.KINDS[model.kind].name], lambda m: cnn_inside(common.version(m), m, input28),
        "This {name}'s layers cannot be shown: {error}")
    if computed is None:
        return
    inside = computed[0]
    n, kh, kw = inside.filters.shape
    st.plotly_chart(charts.first_layer_filters(
        inside.filters, "What the first layer looks for",
        f"its {n} filters of {kh} x {kw}, as the app runs them (any batch normalisation "
        "folded in)"),
        key=f"why-filters-{key}", config={"displayModeBar": False})
    st.caption("Each filter slides over the image and lights up where the ink matches its "
               "pattern (red weights want ink, blue want none). The maps below are what every "
               "convolution made of your digit: bright = strong response; deeper layers see "
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


st.title("Draw a digit")
st.caption("Preprocessed the way MNIST was made: cropped to the ink, scaled to fit 20 x 20, "
           "centred by its centre of mass in 28 x 28. Models trained on MNIST digits only.")
chosen = model_pickers()
if not chosen:
    st.warning("No MNIST models yet. Train one on the Train page (choose MNIST in the sidebar).")
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()
if any(m.kind == "cnn" for m in chosen):
    common.predictor()  # start the CNN worker now, while the person draws
drawing, photographed = st.tabs(["Draw", "Upload a photo"])
with drawing:
    draw_tab(chosen)
with photographed:
    photo_tab(chosen)
