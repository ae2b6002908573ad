"""Compare: two stored models scored now on the same held-out test set, side by side."""

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from core import charts, comparison, logreg, metrics, robustness, store
from core.comparison import Pair
from pages import common, mistakes

common.through_home()

ROBUSTNESS_SIZE = 1000


# ---------------------------------------------------------------- cached work (per model file)

def cache_key(model: store.ModelInfo, ds) -> tuple:
    """What a cached result depends on: the model file's version and the test set."""
    return *model.version, ds.name, ds.source, len(ds.y_test)


def predictor_of(model: store.ModelInfo):
    """model -> a function from N test images to N x C probabilities (CNNs: in the worker)."""
    return partial(common.predict_proba, model)


@st.cache_data(max_entries=16, show_spinner=False)
def evaluation(key: tuple, _model: store.ModelInfo, _ds) -> metrics.Evaluation:
    """A model scored on the whole test set, once per model file version and test set."""
    return metrics.score(predictor_of(_model), _ds.x_test, _ds.y_test, len(_ds.class_names))


@st.cache_data(max_entries=16, show_spinner=False)
def speed(key: tuple, _model: store.ModelInfo, _ds) -> dict:
    """Single-image latency (p50 after warm-up) and whole-test-set throughput, measured once."""
    predict = predictor_of(_model)
    latency = metrics.latency_p50(predict, _ds.x_test[0])
    _, seconds = metrics.timed(predict, _ds.x_test)
    return {"latency_ms": latency * 1000, "images_per_s": len(_ds.y_test) / seconds}


@st.cache_data(max_entries=16, show_spinner=False)
def robustness_accuracy(key: tuple, _model: store.ModelInfo, _ds) -> dict[str, float]:
    """Accuracy on a fixed subset of the test images, unchanged and perturbed each way."""
    return robustness.robustness_scores(predictor_of(_model), _ds.x_test, _ds.y_test,
                                     size=ROBUSTNESS_SIZE)


@st.cache_data(max_entries=8, show_spinner=False)
def logreg_weights(key: tuple, _model: store.ModelInfo) -> np.ndarray:
    """A Logistic Regression's weights as one image per class (grey or colour)."""
    return logreg.weight_images(common.serving().weights(_model), _model.shape)


# ---------------------------------------------------------------- words

def source_note(model: store.ModelInfo, name: str, ds) -> str | None:
    """A sentence when the model was trained on another source of the data than the one scored now."""
    if model.meta.get("dataset_source") == ds.source:
        return None
    stored = f"{model.test_accuracy:.1%}" if model.test_accuracy is not None else "no score"
    return (f"**{name}** was trained on {model.meta.get('dataset_description')}; here it is "
            f"scored on {ds.test_note} (its stored accuracy: {stored}).")


def trained_here(model: store.ModelInfo, key: str, fmt: str, unit: str = "") -> str:
    """A number about its training, "trained elsewhere" for an uploaded model."""
    return "trained elsewhere" if model.uploaded else model.recorded(key, fmt, unit)


# ---------------------------------------------------------------- sections

def no_models(ds) -> None:
    """Say how to get models: train some, or use (or restore) the built-in MNIST ones."""
    builtins = ("The two built-in models read MNIST digits: choose MNIST in the sidebar to "
                "compare them." if ds.name != "mnist" else
                "The two built-in MNIST models are missing too: restore `assets/models/`, or "
                "rebuild them with `make models`.")
    st.info(f"**No {ds.title} models yet, so there is nothing to compare.** Train a Logistic "
            "Regression and a CNN on the Train page (a Logistic Regression takes seconds). "
            + builtins, icon=":material/compare_arrows:")
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")


def pickers(stored: list[store.ModelInfo], ds) -> tuple[store.ModelInfo, store.ModelInfo]:
    """Two models: those the address names (`?a=<id>&b=<id>`, as the Train page's Runs open
    them), by default the best Logistic Regression (A) and the best CNN (B). The address
    follows the choice, so a reload or a shared link keeps it."""
    by_id = {m.id: m for m in stored}
    a = by_id.get(st.query_params.get("a")) or common.best_model("logreg", ds.name) or stored[0]
    b = by_id.get(st.query_params.get("b")) or common.best_model("cnn", ds.name) or next(
        m for m in stored if m != a)
    left, right = st.columns(2)
    a = left.selectbox("Model A", stored, index=stored.index(a), format_func=lambda m: m.label,
                       key="compare-a")
    b = right.selectbox("Model B", stored, index=stored.index(b), format_func=lambda m: m.label,
                        key="compare-b")
    st.query_params["a"], st.query_params["b"] = a.id, b.id
    return a, b


def evaluate_both(models, names, ds) -> list[metrics.Evaluation] | None:
    """Both models' evaluations, or None after saying which one failed and why."""
    with st.spinner(f"Scoring both models on {len(ds.y_test):,} test images (only the first time)…"):
        return common.each_model(models, names, lambda m: evaluation(cache_key(m, ds), m, ds),
                          "**{name} could not be scored**, so there is nothing to compare: "
                          "{error}. Pick another model above.")


def headline(p: Pair, ds) -> None:
    """The summary sentence and the table of measured numbers."""
    a, b = p.evals
    better, worse = (0, 1) if a.accuracy >= b.accuracy else (1, 0)
    wrong = [e.n_wrong for e in p.evals]
    fewer = 1 - wrong[better] / wrong[worse] if wrong[worse] else 0.0
    st.markdown(f"On {ds.test_note}, **{p.names[better]}** is right "
                f"**{p.evals[better].accuracy:.1%}** of the time and **{p.names[worse]}** "
                f"**{p.evals[worse].accuracy:.1%}**: {p.names[better]} makes {wrong[better]:,} "
                f"mistakes where {p.names[worse]} makes {wrong[worse]:,} ({fewer:.0%} fewer).")
    table_area = st.container()
    speeds = measured_speed(p, ds)
    rows = {"Test accuracy": [f"{e.accuracy:.2%}" for e in p.evals]}
    if ds.info.published:
        rows["Published reference for this kind of model"] = [
            ds.info.published.get(m.kind, "none found") for m in p.models]
    rows |= {
        "Macro precision": [f"{e.precision:.2%}" for e in p.evals],
        "Macro recall": [f"{e.recall:.2%}" for e in p.evals],
        "Macro F1": [f"{e.f1:.2%}" for e in p.evals],
        "Log loss (lower is better)": [f"{e.log_loss:.3f}" for e in p.evals],
        "Training images": [trained_here(m, "train_size", ",") for m in p.models],
        "Training time": [trained_here(m, "train_seconds", ".1f", " s") for m in p.models],
        "Single-image latency (p50)": [f"{s['latency_ms']:.2f} ms" if s else "press Measure speed"
                                       for s in speeds],
        "Batch throughput": [f"{s['images_per_s']:,.0f} images/s" if s else "press Measure speed"
                             for s in speeds],
        "Parameters": [m.recorded("params", ",") for m in p.models],
        "Model file size (the file the app runs)": [f"{m.file.stat().st_size / 1024:,.0f} KB"
                                                    for m in p.models],
    }
    table = pd.DataFrame(rows, index=list(p.names)).T
    table.index.name = f"Measured now on {ds.test_note}"
    table_area.table(table)


def measured_speed(p: Pair, ds) -> list[dict | None]:
    """Speed numbers once the person asked for them (then cached per model)."""
    if st.button("Measure speed", icon=":material/speed:",
                 help="Times 30 single-image predictions after 3 warm-up calls (median), and "
                      "the whole test set in one call. Takes a few seconds, once per model."):
        st.session_state.compare_speed = True
    if not st.session_state.get("compare_speed"):
        return [None, None]
    with st.spinner("Timing both models…"):
        results = common.each_model(p.models, p.names, lambda m: speed(cache_key(m, ds), m, ds),
                             "Could not time {name}: {error}") or [None, None]
    st.caption("Speed on this machine (2 shared CPU cores), measured once per model. CNN "
               "predictions run in the prediction worker, so their latency includes the pipe "
               "round trip between processes.")
    return results


def per_class_section(p: Pair, ds) -> None:
    """Grouped bars of one per-class score; a fragment, so switching the score is quick."""
    st.subheader("Per class")
    label = st.segmented_control("Score", ["F1", "precision", "recall"], default="F1",
                                 key="per-class-metric") or "F1"
    values = {n: e.per_class[label.lower()] for n, e in zip(p.names, p.evals)}
    st.plotly_chart(charts.per_class_bars(values, ds.class_names, label,
                                          f"{label} of every class", ds.test_note),
                    config={"displayModeBar": False})
    st.caption("Precision: of the images a model called this class, the share that were. "
               "Recall: of the images of this class, the share it found. F1 combines the two.")


def robustness_section(p: Pair, ds) -> None:
    """Accuracy on rotated, shifted, noisy and blurred test images (does augmentation help?)."""
    st.subheader("Robustness")
    with st.spinner("Perturbing the test images and scoring both models…"):
        accuracy = common.each_model(p.models, p.names,
                              lambda m: robustness_accuracy(cache_key(m, ds), m, ds),
                              "Could not test {name}'s robustness: {error}")
    if accuracy is None:
        return
    scores = dict(zip(p.names, accuracy))
    n = min(ROBUSTNESS_SIZE, len(ds.y_test))
    note = (f"all {ds.test_note}" if n == len(ds.y_test) else
            f"a fixed random {n:,} of the {ds.test_note}") + ", perturbed with seed 0"
    st.plotly_chart(charts.robustness_bars(scores, robustness.ROBUSTNESS,
                                           "Accuracy on changed test images", note),
                    config={"displayModeBar": False})
    augmented = [name for model, name in zip(p.models, p.names)
                 if model.meta.get("settings", {}).get("augment")]
    st.caption("How the images were changed: " + "; ".join(
                   f"**{k}** {v}" for k, v in list(robustness.ROBUSTNESS.items())[1:]) + ". "
               + (f"Trained with augmentation (random rotation, shift and zoom): "
                  f"{' and '.join(augmented)}. " if augmented else
                  "Neither model was trained with augmentation. ")
               + "Augmentation is meant to make a model robust to such changes: compare how "
               "far each model's bars drop from the original.")


def calibration_section(p: Pair, ds) -> None:
    """Reliability diagram and expected calibration error of both models."""
    st.subheader("Calibration")
    curves = {n: e.reliability for n, e in zip(p.names, p.evals)}
    left, right = st.columns([2, 1], gap="large")
    left.plotly_chart(charts.reliability_diagram(curves, "Is a model as right as it is sure?",
                                                 ds.test_note),
                      config={"displayModeBar": False})
    with right:
        st.markdown("**Expected calibration error** (lower is better)")
        for name, rel in curves.items():
            st.metric(name, f"{rel.ece:.1%}")
        st.caption("Images are grouped by how sure the model was (its top probability, 10 bins); "
                   "each point is a group's average confidence against how often it was right. "
                   "On the dashed diagonal a model that says 90 % is right 90 % of the time. "
                   "The ECE is the average gap, weighted by the number of images per group; "
                   "small dots are groups of a few images, whose accuracy is noisy.")


def inside_section(p: Pair, ds) -> None:
    """What a Logistic Regression learned (its weights) and both models' training curves."""
    st.subheader("Inside the models")
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
    without = [(m, n) for m, n in zip(p.models, p.names) if not m.history]
    for model, name in without:
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
    st.caption("Recorded while each model trained: validation (solid) is a held-out 10 % of "
               "its training images; training (dotted) is measured on the images it learns from. "
               "A Logistic Regression epoch is one round of L-BFGS, a CNN epoch one pass of "
               "mini-batches.")


# ---------------------------------------------------------------- the page

st.title("Compare two models")
ds = common.current_dataset()
if ds is None:
    st.stop()
stored = common.models(ds.name)
if not stored:
    no_models(ds)
    st.stop()
st.caption(f"Both models are scored now, on the same {ds.test_note}. Data: {ds.description}.")
if len(stored) < 2:
    st.info(f"Only one {ds.title} model is stored ({stored[0].label}). Train another on the "
            "Train page to compare the two.", icon=":material/compare_arrows:")
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()

chosen = pickers(stored, ds)
elsewhere = len(common.models()) - len(stored)
if elsewhere:
    st.caption(f"{elsewhere} stored model{'s are' if elsewhere > 1 else ' is'} trained on another "
               "dataset and not listed: choose that dataset in the sidebar to compare them.")
if chosen[0] == chosen[1]:
    st.warning("Model A and model B are the same model. Pick two different ones.")
    st.stop()
common.serving().warm_up(chosen)  # start the CNN worker while the other model is evaluated
names = comparison.names(*chosen)
evals = evaluate_both(chosen, names, ds)
if evals is None:
    st.stop()
for model, name in zip(chosen, names):
    note = source_note(model, name, ds)
    if note:
        st.info(note)

pair = Pair.of(chosen, evals)
headline(pair, ds)
st.fragment(mistakes.confusion_section)(pair, ds)
st.fragment(per_class_section)(pair, ds)
st.fragment(mistakes.disagreement_section)(pair, ds)
robustness_section(pair, ds)
calibration_section(pair, ds)
inside_section(pair, ds)
