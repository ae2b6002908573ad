"""Compare's sections below the headline: each starts closed and is worked out only when a
person opens it (robustness runs both models on 5,000 changed images), so the page's
first view shows its answer quickly, and a phone is not a long scroll."""

from functools import partial

import numpy as np
import streamlit as st

from core import charts, compare_charts, comparison, glossary, kinds, logreg, metrics, \
    robustness, store
from core.comparison import Pair
from pages import common

ROBUSTNESS_SIZE = 1000


def collapsed(title: str, body, p: Pair, ds) -> None:
    """`body(p, ds)` in an expander that starts closed and runs it only while it is open.

    Run as a fragment: opening the section, or a widget inside it, reruns only this section.
    """
    key = "open-" + body.__name__
    box = st.expander(title, key=key, on_change="rerun")
    if box.open:
        with box:
            body(p, ds)


# ---------------------------------------------------------------- cached work (per model file)

def cache_key(model: store.ModelInfo, ds) -> tuple:
    """What a cached result depends on: the model file's version and the test set."""
    return *model.version, ds.name, ds.source, len(ds.y_test)


def predictor_of(model: store.ModelInfo):
    """model -> a function from N test images to N x C probabilities (CNNs: in the worker)."""
    return partial(common.predict_proba, model)


@st.cache_data(max_entries=16, show_spinner=False)
def robustness_accuracy(key: tuple, _model: store.ModelInfo, _ds) -> dict[str, float]:
    """Accuracy on a fixed subset of the test images, unchanged and perturbed each way."""
    return robustness.robustness_scores(predictor_of(_model), _ds.x_test, _ds.y_test,
                                        size=ROBUSTNESS_SIZE)


@st.cache_data(max_entries=8, show_spinner=False)
def logreg_weights(key: tuple, _model: store.ModelInfo) -> np.ndarray:
    """A Logistic Regression's weights as one image per class (grey or colour)."""
    return logreg.weight_images(common.serving().weights(_model), _model.shape)


# ---------------------------------------------------------------- the sections

def per_class_section(p: Pair, ds) -> None:
    """Grouped bars of one per-class score."""
    label = st.segmented_control("Score", ["F1", "precision", "recall"], default="F1",
                                 key="per-class-metric") or "F1"
    values = {n: e.per_class[label.lower()] for n, e in zip(p.names, p.evals)}
    st.plotly_chart(compare_charts.per_class_bars(values, ds.class_names, label,
                                                  f"{label} of every class", ds.test_note),
                    config={"displayModeBar": False})
    st.caption("Precision: of the images a model called this class, the share that were. "
               "Recall: of the images of this class, the share it found. F1 combines the two.")


def robustness_section(p: Pair, ds) -> None:
    """Accuracy on rotated, shifted, noisy and blurred test images (does augmentation help?)."""
    n = min(ROBUSTNESS_SIZE, len(ds.y_test))
    with st.spinner(f"Changing {n:,} test images four ways and scoring both models…"):
        accuracy = common.each_model(p.models, p.names,
                                     lambda m: robustness_accuracy(cache_key(m, ds), m, ds),
                                     "Could not test {name}'s robustness: {error}")
    if accuracy is None:
        return
    scores = dict(zip(p.names, accuracy))
    note = (f"all {ds.test_note}" if n == len(ds.y_test) else
            f"a fixed random {n:,} of the {ds.test_note}") + ", perturbed with seed 0"
    st.plotly_chart(compare_charts.robustness_bars(scores, robustness.ROBUSTNESS,
                                                   "Accuracy on changed test images", note),
                    config={"displayModeBar": False})
    st.caption("How the images were changed: " + "; ".join(
                   f"**{k}** {v}" for k, v in list(robustness.ROBUSTNESS.items())[1:]) + ".")
    st.markdown("How each model was trained, as its record says:\n" + "\n".join(
        f"- **{name}**, augmentation: {comparison.augmentation_claim(model)}"
        for model, name in zip(p.models, p.names)))
    st.caption("Augmentation is meant to make a model robust to such changes, but only to the "
               "changes it saw: compare how far each model's bars drop from the original.")


def calibration_section(p: Pair, ds) -> None:
    """Reliability diagram and expected calibration error of both models."""
    curves = {n: e.reliability for n, e in zip(p.names, p.evals)}
    st.plotly_chart(compare_charts.reliability_diagram(
        curves, "Is a model as right as it is sure?", ds.test_note),
        config={"displayModeBar": False})
    st.caption(f"**ECE** (lower is better): {glossary.explain('ECE')}")
    for col, (name, rel) in zip(st.columns(2), curves.items()):
        col.metric(f"{name}: ECE", f"{rel.ece:.1%}")
        col.caption(few_images_note(rel))
    st.caption("Images are grouped by how sure the model was (its top probability, 10 bins); "
               "each dot is a group's average confidence against how often it was right, its "
               "size the group's images (hover for the count). On the dashed diagonal a model "
               "that says 90 % is right 90 % of the time.")


def few_images_note(rel: metrics.Reliability) -> str:
    """Which of a model's confidence bins hold too few images to trust their dots, if any."""
    few = metrics.few_image_bins(rel)
    total = int(rel.count.sum())
    if not few.any():
        return f"Every bin holds at least {metrics.FEW_IMAGES} images."
    held = int(rel.count[few].sum())
    ranges = ", ".join(f"{rel.edges[i]:.0%}-{rel.edges[i + 1]:.0%} ({rel.count[i]:,})"
                       for i in np.flatnonzero(few))
    return (f"Few images (hollow, faint dots): {ranges}; {held:,} of {total:,} images in all. "
            f"A bin of under {metrics.FEW_IMAGES} images gives a rough accuracy (at 100 "
            "images, chance alone moves it by up to ±10 points), and weighs little in the ECE.")


def inside_section(p: Pair, ds) -> None:
    """What a Logistic Regression learned (its weights) and both models' training curves."""
    for model, name in zip(p.models, p.names):
        if model.kind != "logreg":
            continue
        weights = common.each_model([model], [name], lambda m: logreg_weights(m.version, m),
                                    "Could not read {name}'s weights: {error}")
        if weights is None:
            continue
        h, w, _ = model.shape
        st.plotly_chart(charts.logreg_weights(
            weights[0], ds.class_names,
            f"What {name} looks for: one {h} x {w} weight image per class",
            f"learned from {model.trained_note}"), config={"displayModeBar": False})
        st.caption("A linear model scores a class by adding up pixel x weight. " + (
            "Each weight image is shown in colour, mid-grey for 0: where it is reddish, red "
            "light makes the class more likely, and so on. Each is a blurry template of its "
            "class: often a background colour (sky, grass, water) more than the object."
            if ds.info.colour else "Red pixels (positive) are where ink makes the class more "
            "likely, blue where ink argues against it: each image is a blurry template of "
            "its class."))
    training_curves(p)


def training_curves(p: Pair) -> None:
    """Both models' recorded training curves, with what each was validated on."""
    for model, name in zip(p.models, p.names):
        if not model.history:
            st.caption(f"{common.plain(name)}: " + ("trained elsewhere: no training curves."
                       if model.uploaded else "no stored training history, so no curves to show."))
    with_curves = [(m, n, s) for m, n, s in zip(p.models, p.names, p.short) if m.history]
    if not with_curves:
        return
    histories = {n: m.history for m, n, _ in with_curves}
    notes = [m.trained_note for m, _, _ in with_curves]
    note = (f"{'both: ' if len(notes) == 2 else ''}{notes[0]}" if len(set(notes)) == 1 else
            " · ".join(f"{s}: {t}" for (_, _, s), t in zip(with_curves, notes)))
    left, right = st.columns(2, gap="large")
    for col, metric in zip((left, right), ("accuracy", "loss")):
        col.plotly_chart(charts.training_curves(histories, metric, f"Training curves: {metric}",
                                                note, {n: m.kind for m, n, _ in with_curves}),
                         config={"displayModeBar": False})
    units = dict.fromkeys(kinds.KINDS[m.kind].unit for m, _, _ in with_curves)
    st.caption("Recorded while each model trained: validation (solid) is scored on images "
               "held out of its training data, which it never learns from; training (dotted) "
               "on the images it learns from. " + " ".join(
                   f"A{'n' if u[0] in 'aeiou' else ''} {u}: {glossary.explain(u)}" for u in units))
