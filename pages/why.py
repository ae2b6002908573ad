"""Draw's "Why these answers": occlusion saliency of both models, a Logistic Regression's
pixel evidence, and a CNN's filters and feature maps; only the open tab is computed."""

from functools import partial

import numpy as np
import streamlit as st

from core import charts, data, explain, glossary, images, kinds, store
from core.lite import Inside
from pages import common

MAPS_SHOWN = 16    # feature maps per layer before "Show every map"
MAP_COLUMNS = 8


@st.cache_data(max_entries=32, show_spinner=False)
def saliency(key: tuple, _model: store.ModelInfo, image: np.ndarray, digits: bool) -> np.ndarray:
    """The occlusion map of every class (C x H x W), once per model file and image.

    Digits are blanked to black (no ink); photos to their own mean colour (nothing there)."""
    fill = 0.0 if digits else image.mean(axis=(0, 1))
    return explain.occlusion(partial(common.predict_proba, _model), image, fill)


@st.cache_data(max_entries=32, show_spinner=False)
def cnn_inside(key: tuple, _model: store.ModelInfo, image: np.ndarray) -> Inside:
    """A CNN's feature maps for the drawing and its first-layer filters, from the worker."""
    return common.serving().inside(_model, image)


def section(models: list[store.ModelInfo], input28: np.ndarray,
            answers: dict[str, np.ndarray], key: str, ds: data.Dataset) -> None:
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
                view(models, input28, answers, key, ds)


def strokes_view(models, input28, answers, key, ds) -> None:
    """Occlusion saliency of both models, for their answers or a class the person picks."""
    names = ds.class_names
    if ds.info.digits:
        thing = ds.info.drawn
        st.caption(f"Each model reads your {thing} again with a small square of it blanked, at "
                   "every place along the strokes. **Red**: blanking that ink makes the model "
                   f"less sure of the {thing}, so it relied on it; **blue**: more sure, so that "
                   f"ink argued against it. Pick a {'digit' if thing == 'digit' else 'class'} to "
                   f"ask, say, *why not {common.plain(names[-1])}?*")
    else:
        st.caption("Each model reads your image again with a small square of it covered (in "
                   "the image's average colour), at every place. **Red**: covering it makes "
                   "the model less sure of the class, so it relied on what is there; **blue**: "
                   "more sure, so that part argued against it. Pick a class to ask *why not?*")
    st.caption(f"The colour scale is the **log-odds drop**: {glossary.explain('log-odds drop')}")
    choice = st.segmented_control("Explain", ["answer", *names], default="answer",
                                  format_func=lambda c: "each model's answer" if c == "answer"
                                  else c, key=f"why-class-{key}") or "answer"
    for col, model in zip(st.columns(len(models)), models):
        probs = answers[model.id]
        cls = int(probs.argmax()) if choice == "answer" else names.index(choice)
        name = kinds.KINDS[model.kind].name
        with col:
            computed = common.each_model(
                [model], [name], lambda m: saliency(m.version, m, input28, ds.info.digits),
                "{name}'s saliency could not be computed: {error}")
        if computed is None:
            continue
        heat = computed[0]
        col.plotly_chart(charts.over_digit(
            heat[cls], input28,
            f"{name}: why {'' if cls == probs.argmax() else 'not '}{names[cls]}?",
            f"probability of {names[cls]}: {probs[cls]:.1%}"
            + (f" · outline: your {ds.info.drawn}" if ds.info.digits else ""),
            f"covering here lowers the log-odds of {names[cls]} by %{{z:.2f}}<extra></extra>",
            "log-odds<br>drop"), key=f"why-heat-{key}-{model.id}",
            config={"displayModeBar": False})


def evidence_view(models, input28, answers, key, ds) -> None:
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
        one = "digit" if ds.info.drawn == "digit" else "class"
        st.caption(f"A Logistic Regression scores each {one} "
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


def inside_view(models, input28, answers, key, ds) -> None:
    """The CNN's first-layer filters and every convolution's feature maps for this image."""
    model = next(m for m in models if m.kind == "cnn")
    if not model.meta.get("has_convolutions", True):
        st.caption(f"{common.plain(model.title)} has no convolution layers (it was trained "
                   "elsewhere without any), so it has no filters or feature maps to show. "
                   "Strokes used explains its answer.")
        return
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


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
