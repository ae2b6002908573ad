"""Compare: two stored models scored now on the same held-out test set, side by side."""

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from core import charts, images, kinds, metrics, robustness, store
from core.predictor import PredictError
from pages import common

common.through_home()

# Published MNIST results (60,000 training / 10,000 test images) set beside the measured ones.
PUBLISHED = {
    "logreg": "~92 % (softmax regression: TensorFlow's “MNIST for ML Beginners” tutorial)",
    "cnn": "~99 % (keras.io “Simple MNIST convnet”, mnist_convnet)",
}
SOURCE_NAMES = {"canonical": "the canonical split", "keras": "official test split",
                "path": "from your MNIST_PATH files", "debian": "Debian's package"}
ROBUSTNESS_SIZE = 1000
GALLERY_MAX = 24
PROBLEMS = (store.StoreError, PredictError, ValueError, OSError)


@dataclass(frozen=True)
class Pair:
    """The two models on the page, their names, and how each scored on the test set."""

    models: tuple[store.ModelInfo, store.ModelInfo]
    names: tuple[str, str]    # for headings and legends
    short: tuple[str, str]    # for captions under images
    evals: tuple[metrics.Evaluation, metrics.Evaluation]


# ---------------------------------------------------------------- cached work (per model file)

def cache_key(model: store.ModelInfo, ds) -> tuple:
    """What a cached result depends on: the model file's version and the test set."""
    return *common.version(model), ds.name, ds.source, len(ds.y_test)


def each_model(models, names, compute, failure: str) -> list | None:
    """[compute(model) for each model], or None after an error naming the model that failed.

    `failure` is the message, with {name} and {error} in it.
    """
    results = []
    for model, name in zip(models, names):
        try:
            results.append(compute(model))
        except PROBLEMS as e:
            st.error(failure.format(name=name, error=e), icon=":material/error:")
            return None
    return results


def predictor_of(model: store.ModelInfo):
    """model -> a function from N x 28 x 28 images to N x C probabilities (CNNs: in the worker)."""
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
    """The C x 784 weights of a Logistic Regression."""
    return common.logreg_model(_model).coef_


# ---------------------------------------------------------------- words

def names_of(a: store.ModelInfo, b: store.ModelInfo, short: bool = False) -> tuple[str, str]:
    """Names for headings and legends (short: for captions under images).

    " A" / " B" are added when both models would otherwise read the same.
    """
    na, nb = ((kinds.KINDS[m.kind].short if short else m.title) for m in (a, b))
    return (f"{na} A", f"{nb} B") if na == nb else (na, nb)


def test_set_note(ds) -> str:
    """The data every test-set figure was measured on, in a few words."""
    return f"{len(ds.y_test):,} held-out {ds.title} test images, {SOURCE_NAMES.get(ds.source, ds.source)}"


def trained_note(model: store.ModelInfo) -> str:
    """The data a model was trained (and validated) on, in a few words."""
    meta = model.meta
    return (f"{meta.get('train_size', 0):,} training / {meta.get('val_size', 0):,} validation "
            f"images, {SOURCE_NAMES.get(meta.get('dataset_source'), meta.get('dataset_source'))}")


def source_note(model: store.ModelInfo, name: str, ds) -> str | None:
    """A sentence when the model was trained on another source of the data than the one scored now."""
    if model.meta.get("dataset_source") == ds.source:
        return None
    stored = f"{model.test_accuracy:.1%}" if model.test_accuracy is not None else "no score"
    return (f"**{name}** was trained on {model.meta.get('dataset_description')}; here it is "
            f"scored on {test_set_note(ds)} (its stored accuracy: {stored}).")


def recorded(meta: dict, key: str, fmt: str, unit: str = "") -> str:
    """A number from a model's meta.json, formatted, or "not recorded" for older models."""
    value = meta.get(key)
    return f"{value:{fmt}}{unit}" if value is not None else "not recorded"


def answer(probs: np.ndarray, truth: int, class_names) -> str:
    """A model's answer for one image: top class, its probability, and right or wrong."""
    k = int(probs.argmax())
    return f"{class_names[k]} ({probs[k]:.0%}) {'✓' if k == truth else '✗'}"


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
    """Two models; by default the best Logistic Regression (A) and the best CNN (B)."""
    a = common.best_model("logreg", ds.name) or stored[0]
    b = common.best_model("cnn", ds.name) or next(m for m in stored if m != a)
    left, right = st.columns(2)
    a = left.selectbox("Model A", stored, index=stored.index(a), format_func=lambda m: m.label,
                       key="compare-a")
    b = right.selectbox("Model B", stored, index=stored.index(b), format_func=lambda m: m.label,
                        key="compare-b")
    return a, b


def evaluate_both(models, names, ds) -> list[metrics.Evaluation] | None:
    """Both models' evaluations, or None after saying which one failed and why."""
    with st.spinner(f"Scoring both models on {len(ds.y_test):,} test images (only the first time)…"):
        return each_model(models, names, lambda m: evaluation(cache_key(m, ds), m, ds),
                          "**{name} could not be scored**, so there is nothing to compare: "
                          "{error}. Pick another model above.")


def headline(p: Pair, ds) -> None:
    """The summary sentence and the table of measured numbers."""
    a, b = p.evals
    better, worse = (0, 1) if a.accuracy >= b.accuracy else (1, 0)
    wrong = [e.n_wrong for e in p.evals]
    fewer = 1 - wrong[better] / wrong[worse] if wrong[worse] else 0.0
    st.markdown(f"On {test_set_note(ds)}, **{p.names[better]}** is right "
                f"**{p.evals[better].accuracy:.1%}** of the time and **{p.names[worse]}** "
                f"**{p.evals[worse].accuracy:.1%}**: {p.names[better]} makes {wrong[better]:,} "
                f"mistakes where {p.names[worse]} makes {wrong[worse]:,} ({fewer:.0%} fewer).")
    table_area = st.container()
    speeds = measured_speed(p, ds)
    rows = {"Test accuracy": [f"{e.accuracy:.2%}" for e in p.evals]}
    if ds.name == "mnist":
        rows["Published reference for this kind of model"] = [PUBLISHED[m.kind] for m in p.models]
    rows |= {
        "Macro precision": [f"{e.precision:.2%}" for e in p.evals],
        "Macro recall": [f"{e.recall:.2%}" for e in p.evals],
        "Macro F1": [f"{e.f1:.2%}" for e in p.evals],
        "Log loss (lower is better)": [f"{e.log_loss:.3f}" for e in p.evals],
        "Training images": [recorded(m.meta, "train_size", ",") for m in p.models],
        "Training time": [recorded(m.meta, "train_seconds", ".1f", " s") for m in p.models],
        "Single-image latency (p50)": [f"{s['latency_ms']:.2f} ms" if s else "press Measure speed"
                                       for s in speeds],
        "Batch throughput": [f"{s['images_per_s']:,.0f} images/s" if s else "press Measure speed"
                             for s in speeds],
        "Parameters": [recorded(m.meta, "params", ",") for m in p.models],
        "Model file size (the file the app runs)": [f"{m.file.stat().st_size / 1024:,.0f} KB"
                                                    for m in p.models],
    }
    table = pd.DataFrame(rows, index=list(p.names)).T
    table.index.name = f"Measured now on {test_set_note(ds)}"
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
        results = each_model(p.models, p.names, lambda m: speed(cache_key(m, ds), m, ds),
                             "Could not time {name}: {error}") or [None, None]
    st.caption("Speed on this machine (2 shared CPU cores), measured once per model. CNN "
               "predictions run in the prediction worker, so their latency includes the pipe "
               "round trip between processes.")
    return results


def choose_cell(which: int, true: int, pred: int) -> None:
    """Show the images of cell (true, pred) of model `which` (0 = A, 1 = B)."""
    st.session_state.compare_cell = (which, true, pred)


def remember_click(which: int) -> None:
    """on_select of a confusion matrix: keep the clicked cell (an empty selection keeps the last)."""
    cell = charts.clicked_cell(st.session_state[f"cm-{which}"].selection.points)
    if cell is not None:
        choose_cell(which, *cell)


def default_cell(p: Pair) -> tuple[int, int, int]:
    """Before any click: the most frequent mistake of the less accurate model."""
    which = 0 if p.evals[0].accuracy <= p.evals[1].accuracy else 1
    top = metrics.top_confusions(p.evals[which].confusion, 1)
    return (which, *top[0][:2]) if top else (which, 0, 0)


def confusion_section(p: Pair, ds) -> None:
    """Side-by-side clickable matrices, the most frequent mistakes, and the clicked cell's images."""
    st.subheader("Confusion matrices")
    st.caption("Rows are the true digit, columns what the model answered; the diagonal is right. "
               "**Click a cell** (or a mistake below a matrix) to see its test images.")
    shown = st.segmented_control("Cells show", ["counts", "% of the true class"],
                                 default="counts", key="cm-mode") or "counts"
    normalised = shown != "counts"
    which, true, pred = st.session_state.get("compare_cell") or default_cell(p)
    zmax = 1.0 if normalised else max(int(e.confusion.max()) for e in p.evals)
    for col, i in zip(st.columns(2, gap="large"), (0, 1)):
        with col:
            fig = charts.confusion_matrix(
                p.evals[i].confusion, ds.class_names, f"{p.names[i]}: test accuracy "
                f"{p.evals[i].accuracy:.1%}", test_set_note(ds), normalised,
                selected=(true, pred) if i == which else None, zmax=zmax)
            st.plotly_chart(fig, key=f"cm-{i}", on_select=partial(remember_click, i),
                            selection_mode="points", config={"displayModeBar": False})
            mistakes(i, p.names[i], p.evals[i], ds)
    cell_gallery(which, true, pred, p, ds)


def mistakes(which: int, name: str, ev: metrics.Evaluation, ds) -> None:
    """The model's most frequent confusions, each a button that opens its images."""
    top = metrics.top_confusions(ev.confusion, 5)
    if not top:
        st.caption(f"{name} makes no mistakes on these images.")
        return
    st.caption(f"{name}'s most frequent mistakes (true → predicted: images); click one to see them:")
    cols = st.columns(len(top))
    for col, (t, p, n) in zip(cols, top):
        col.button(f"{ds.class_names[t]} → {ds.class_names[p]}: {n}", key=f"top-{which}-{t}-{p}",
                   on_click=choose_cell, args=(which, t, p), type="tertiary")


def cell_gallery(which: int, true: int, pred: int, p: Pair, ds) -> None:
    """The test images of one confusion-matrix cell, under a heading that names the cell."""
    cls = ds.class_names
    idx = metrics.cell_indices(p.evals[which].y_true, p.evals[which].pred, true, pred)
    st.markdown(f"#### True {cls[true]}, predicted {cls[pred]} by {p.names[which]}: "
                f"{len(idx):,} test image{'s' if len(idx) != 1 else ''}")
    if not len(idx):
        st.caption("No test image falls in this cell. Click another one.")
        return
    more = f" (the first {GALLERY_MAX} shown)" if len(idx) > GALLERY_MAX else ""
    st.caption(f"Each image with both models' answers and how sure they were{more}: "
               + ", ".join(f"{s} = {n}" for s, n in zip(p.short, p.names)) + ".")
    gallery(idx[:GALLERY_MAX], p, ds)


def gallery(indices, p: Pair, ds, per_row: int = 6) -> None:
    """Test images in a grid, each captioned with its true class and both models' answers."""
    cls = ds.class_names
    for start in range(0, len(indices), per_row):
        cols = st.columns(per_row)
        for col, i in zip(cols, indices[start:start + per_row]):
            truth = int(ds.y_test[i])
            col.image(images.pixelated(ds.x_test[i], 112), width=112)
            col.caption("  \n".join([f"true {cls[truth]}"] + [
                f"{n}: {answer(e.probs[i], truth, cls)}" for n, e in zip(p.short, p.evals)]))


def per_class_section(p: Pair, ds) -> None:
    """Grouped bars of one per-class score; a fragment, so switching the score is quick."""
    st.subheader("Per class")
    label = st.segmented_control("Score", ["F1", "precision", "recall"], default="F1",
                                 key="per-class-metric") or "F1"
    values = {n: e.per_class[label.lower()] for n, e in zip(p.names, p.evals)}
    st.plotly_chart(charts.per_class_bars(values, ds.class_names, label,
                                          f"{label} of every class", test_set_note(ds)),
                    config={"displayModeBar": False})
    st.caption("Precision: of the images a model called this class, the share that were. "
               "Recall: of the images of this class, the share it found. F1 combines the two.")


def disagreement_section(p: Pair, ds) -> None:
    """The images the two models answer differently, grouped by who is right."""
    st.subheader("Where they disagree")
    groups = metrics.disagreements(p.evals[0].y_true, p.evals[0].pred, p.evals[1].pred)
    total = sum(len(g) for g in groups.values())
    st.caption(f"The two models answer differently on {total:,} of the {test_set_note(ds)}.")
    labels = {"a_right": f"Only {p.names[0]} right", "b_right": f"Only {p.names[1]} right",
              "both_wrong": "Both wrong, differently"}
    default = "b_right" if p.evals[1].accuracy >= p.evals[0].accuracy else "a_right"
    kind = st.segmented_control(
        "Show", list(groups), format_func=lambda k: f"{labels[k]} ({len(groups[k]):,})",
        default=default, key="disagree-kind") or default
    idx = groups[kind]
    if not len(idx):
        st.caption("None.")
        return
    if len(idx) > GALLERY_MAX:
        st.caption(f"The first {GALLERY_MAX} of {len(idx):,}.")
    gallery(idx[:GALLERY_MAX], p, ds)


def robustness_section(p: Pair, ds) -> None:
    """Accuracy on rotated, shifted, noisy and blurred test images (does augmentation help?)."""
    st.subheader("Robustness")
    with st.spinner("Perturbing the test images and scoring both models…"):
        accuracy = each_model(p.models, p.names,
                              lambda m: robustness_accuracy(cache_key(m, ds), m, ds),
                              "Could not test {name}'s robustness: {error}")
    if accuracy is None:
        return
    scores = dict(zip(p.names, accuracy))
    n = min(ROBUSTNESS_SIZE, len(ds.y_test))
    note = (f"all {test_set_note(ds)}" if n == len(ds.y_test) else
            f"a fixed random {n:,} of the {test_set_note(ds)}") + ", perturbed with seed 0"
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
                                                 test_set_note(ds)),
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
        coef = each_model([model], [name], lambda m: logreg_weights(common.version(m), m),
                          "Could not read {name}'s weights: {error}")
        if coef is None:
            continue
        st.plotly_chart(charts.logreg_weights(
            coef[0], ds.class_names, f"What {name} looks for: one 28 x 28 weight image per class",
            f"learned from {trained_note(model)}"), config={"displayModeBar": False})
        st.caption("A linear model scores a class by adding up pixel x weight. Red pixels "
                   "(positive) are where ink makes the class more likely, blue where ink "
                   "argues against it: each image is a blurry template of its digit.")
    histories = {n: m.meta.get("history") or [] for m, n in zip(p.models, p.names)}
    if not all(histories.values()):
        st.caption("A model without a stored training history has no curves to show.")
        return
    notes = [trained_note(m) for m in p.models]
    note = (f"both: {notes[0]}" if notes[0] == notes[1] else
            " · ".join(f"{n}: {t}" for n, t in zip(p.short, notes)))
    left, right = st.columns(2, gap="large")
    for col, metric in zip((left, right), ("accuracy", "loss")):
        col.plotly_chart(charts.training_curves(histories, metric,
                                                f"Training curves: {metric}", note),
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
st.caption(f"Both models are scored now, on the same {test_set_note(ds)}. Data: {ds.description}.")
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
if any(m.kind == "cnn" for m in chosen):
    common.predictor()  # start the CNN worker while the other model is evaluated
names = names_of(*chosen)
evals = evaluate_both(chosen, names, ds)
if evals is None:
    st.stop()
for model, name in zip(chosen, names):
    note = source_note(model, name, ds)
    if note:
        st.info(note)

pair = Pair(chosen, names, names_of(*chosen, short=True), tuple(evals))
headline(pair, ds)
st.fragment(confusion_section)(pair, ds)
st.fragment(per_class_section)(pair, ds)
st.fragment(disagreement_section)(pair, ds)
robustness_section(pair, ds)
calibration_section(pair, ds)
inside_section(pair, ds)
