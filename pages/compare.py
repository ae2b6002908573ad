"""Compare: two stored models scored on the same held-out test set, side by side: the headline
numbers first, every other view in a section that is worked out when it is opened."""

import streamlit as st

from core import comparison, glossary, metrics, scorecard, store
from core.comparison import Pair
from pages import common, compare_sections as sections, mistakes

common.through_home()

# ---------------------------------------------------------------- cached work (per model file)

cache_key, predictor_of = sections.cache_key, sections.predictor_of


@st.cache_data(max_entries=16, show_spinner=False)
def evaluation(key: tuple, _model: store.ModelInfo, _ds) -> metrics.Evaluation:
    """A model scored on the whole test set, from the answers kept with it (core.scorecard),
    else by running it once and keeping its answers for the next server start."""
    probs = scorecard.read(_model, _ds.y_test, _ds.source)
    if probs is None:
        probs = predictor_of(_model)(_ds.x_test)
        metrics.check_probabilities(probs, len(_ds.y_test), len(_ds.class_names))
        scorecard.keep(_model, probs, _ds.y_test, _ds.source)
    return metrics.evaluate(_ds.y_test, probs, n_classes=len(_ds.class_names))


@st.cache_data(max_entries=16, show_spinner=False)
def speed(key: tuple, _model: store.ModelInfo, _ds) -> dict:
    """Single-image latency (p50 after warm-up) and whole-test-set throughput, measured once."""
    predict = predictor_of(_model)
    latency = metrics.latency_p50(predict, _ds.x_test[0])
    _, seconds = metrics.timed(predict, _ds.x_test)
    return {"latency_ms": latency * 1000, "images_per_s": len(_ds.y_test) / seconds}


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
    a = left.selectbox("Model A", stored, index=stored.index(a), format_func=picker_label,
                       key="compare-a")
    left.caption(f"{common.plain(a.title)}, {a.when}: {a.trained_note}")
    b = right.selectbox("Model B", stored, index=stored.index(b), format_func=picker_label,
                        key="compare-b")
    right.caption(f"{common.plain(b.title)}, {b.when}: {b.trained_note}")
    st.query_params["a"], st.query_params["b"] = a.id, b.id
    return a, b


def picker_label(model: store.ModelInfo) -> str:
    """A model's name in a picker, short enough to show whole on a phone: the dataset is the
    sidebar's (the full name and data are written under the picker)."""
    return model.label.replace(f" · {model.meta.get('dataset_title', model.dataset)} · ", " · ")


def evaluate_both(models, names, ds) -> list[metrics.Evaluation] | None:
    """Both models' evaluations, or None after saying which one failed and why."""
    with st.spinner(f"Scoring both models on {len(ds.y_test):,} test images (once per model)…"):
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
        "Trained on": [m.data_sizes for m in p.models],
        "Settings": [comparison.settings_claim(m) for m in p.models],
        "Started from": [comparison.started_from_claim(m) for m in p.models],
        "Augmentation": [comparison.augmentation_claim(m) for m in p.models],
        "Training time": [trained_here(m, "train_seconds", ".1f", " s") for m in p.models],
        "Trained where": [m.trained_where for m in p.models],
        "Single-image latency (p50)": [f"{s['latency_ms']:.2f} ms" if s else "press Measure speed"
                                       for s in speeds],
        "Batch throughput": [f"{s['images_per_s']:,.0f} images/s" if s else "press Measure speed"
                             for s in speeds],
        "Parameters": [m.recorded("params", ",") for m in p.models],
        "Model file size (the file the app runs)": [f"{m.file.stat().st_size / 1024:,.0f} KB"
                                                    for m in p.models],
    }
    table_area.caption(f"Scores measured on {ds.test_note}; how each model was trained, as "
                       "its record says.")
    table_area.markdown(markdown_table(rows, p.names))
    with table_area.expander("What these numbers mean", icon=":material/help:"):
        st.markdown("\n".join(f"- **{label}**: {glossary.explain(term)}" for label, term in (
            ("Macro precision", "macro precision"), ("Macro recall", "macro recall"),
            ("Macro F1", "macro F1"), ("Log loss", "log loss"),
            ("Single-image latency (p50)", "p50 latency"), ("Augmentation", "augmentation"))))


def markdown_table(rows: dict[str, list[str]], columns) -> str:
    """A Markdown table, a row per entry of `rows` and a column per model: it wraps on a phone,
    and needs no pandas (importing it cost a fresh server's first Compare view ~1.5 s)."""
    def line(cells) -> str:
        return "| " + " | ".join(cells) + " |"
    return "\n".join([line(["", *(f"**{common.plain(c)}**" for c in columns)]),
                      line(["---"] * (len(columns) + 1)),
                      *(line([label, *map(common.plain, values)]) for label, values in rows.items())])


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


# ---------------------------------------------------------------- the page

st.title("Compare two models")
ds = common.current_dataset()
if ds is None:
    st.stop()
stored = common.models(ds.name)
if not stored:
    no_models(ds)
    st.stop()
if len(stored) < 2:
    st.info(f"Only one {ds.title} model is stored ({stored[0].label}). Train another on the "
            "Train page to compare the two.", icon=":material/compare_arrows:")
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()
st.caption(f"Both models are scored now, on the same {ds.test_note}. Data: {ds.description}.")

chosen = pickers(stored, ds)
elsewhere = len(common.models()) - len(stored)
if elsewhere:
    st.caption(f"{elsewhere} stored model{'s are' if elsewhere > 1 else ' is'} trained on another "
               "dataset and not listed: choose that dataset in the sidebar to compare them.")
if chosen[0] == chosen[1]:
    st.warning("Model A and model B are the same model. Pick two different ones.")
    st.stop()
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
st.caption("Each section below opens on a click, and is worked out only then.")
for title, body in (("Confusion matrices: which classes each model mixes up",
                     mistakes.confusion_section),
                    ("Per class: precision, recall and F1", sections.per_class_section),
                    ("Where the two models disagree", mistakes.disagreement_section),
                    ("Robustness: rotated, shifted, noisy and blurred images",
                     sections.robustness_section),
                    ("Calibration: is a model as right as it is sure?",
                     sections.calibration_section),
                    ("Inside the models: weights and training curves", sections.inside_section)):
    st.fragment(sections.collapsed)(title, body, pair, ds)
