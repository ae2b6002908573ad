"""Compare's views of the mistakes: clickable confusion matrices, and the test images
behind a cell or behind the two models' disagreements."""

from functools import partial

import numpy as np
import streamlit as st

from core import compare_charts, glossary, images, metrics
from core.comparison import Pair
from pages import common

GALLERY_MAX = 24
THUMB = 96   # px: three images to a row on a 390 px phone, about seven at 1280 px


def confusion_section(p: Pair, ds) -> None:
    """Side-by-side clickable matrices, the most frequent mistakes, and the clicked cell's images."""
    st.caption(f"**Confusion matrix**: {glossary.explain('confusion matrix')} Rows are the "
               "true class, columns what the model answered. **Click a cell** (or a mistake "
               "under a matrix) to see its test images below.")
    shown = st.segmented_control("Cells show", ["counts", "% of the true class"],
                                 default="counts", key="cm-mode") or "counts"
    normalised = shown != "counts"
    which, true, pred = st.session_state.get("compare_cell") or default_cell(p)
    zmax = 1.0 if normalised else max(int(e.confusion.max()) for e in p.evals)
    for col, i in zip(st.columns(2, gap="large"), (0, 1)):
        with col:
            fig = compare_charts.confusion_matrix(
                p.evals[i].confusion, ds.class_names, f"{p.names[i]}: test accuracy "
                f"{p.evals[i].accuracy:.1%}", ds.test_note, normalised,
                selected=(true, pred) if i == which else None, zmax=zmax)
            st.plotly_chart(fig, key=f"cm-{i}", on_select=partial(remember_click, i),
                            selection_mode="points", config={"displayModeBar": False})
            top_mistakes(i, p.names[i], p.evals[i], ds)
    cell_gallery(which, true, pred, p, ds)


def default_cell(p: Pair) -> tuple[int, int, int]:
    """Before any click: the most frequent mistake of the less accurate model."""
    which = 0 if p.evals[0].accuracy <= p.evals[1].accuracy else 1
    top = metrics.top_confusions(p.evals[which].confusion, 1)
    return (which, *top[0][:2]) if top else (which, 0, 0)


def choose_cell(which: int, true: int, pred: int) -> None:
    """Show the images of cell (true, pred) of model `which` (0 = A, 1 = B)."""
    st.session_state.compare_cell = (which, true, pred)


def remember_click(which: int) -> None:
    """on_select of a confusion matrix: keep the clicked cell (an empty selection keeps the last)."""
    cell = compare_charts.clicked_cell(st.session_state[f"cm-{which}"].selection.points)
    if cell is not None:
        choose_cell(which, *cell)


def top_mistakes(which: int, name: str, ev: metrics.Evaluation, ds) -> None:
    """The model's most frequent confusions, each a button that opens its images."""
    top = metrics.top_confusions(ev.confusion, 5)
    if not top:
        st.caption(f"{name} makes no mistakes on these images.")
        return
    st.caption(f"{name}'s most frequent mistakes (true → predicted: images); each link opens "
               "its images:")
    row = st.container(horizontal=True, gap="small")   # wraps when the names are long
    for t, p, n in top:
        row.button(f":blue[{ds.class_names[t]} → {ds.class_names[p]}: {n}]",   # link-coloured
                   key=f"top-{which}-{t}-{p}",
                   on_click=choose_cell, args=(which, t, p), type="tertiary",
                   icon=":material/photo_library:")


def cell_gallery(which: int, true: int, pred: int, p: Pair, ds) -> None:
    """The test images of one confusion-matrix cell, under a heading that names the cell."""
    cls = ds.class_names
    idx = metrics.cell_indices(p.evals[which].y_true, p.evals[which].pred, true, pred)
    of_class = int(np.sum(p.evals[which].y_true == true))
    st.markdown(f"#### True {cls[true]}, predicted {cls[pred]} by {p.names[which]}: "
                f"{len(idx):,} test image{'s' if len(idx) != 1 else ''}")
    if of_class:
        st.caption(f"{len(idx) / of_class:.1%} of the {of_class:,} test images of {cls[true]}.")
    if not len(idx):
        st.caption("No test image falls in this cell. Click another one.")
        return
    more = f" (the first {GALLERY_MAX} shown)" if len(idx) > GALLERY_MAX else ""
    st.caption(f"Each image with both models' answers and how sure they were{more}: "
               + ", ".join(f"{s} = {n}" for s, n in zip(p.short, p.names)) + ".")
    gallery(idx[:GALLERY_MAX], p, ds)


def disagreement_section(p: Pair, ds) -> None:
    """The images the two models answer differently, grouped by who is right."""
    groups = metrics.disagreements(p.evals[0].y_true, p.evals[0].pred, p.evals[1].pred)
    total = sum(len(g) for g in groups.values())
    st.caption(f"The two models answer differently on {total:,} of the {ds.test_note}.")
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


def gallery(indices, p: Pair, ds) -> None:
    """Test images in a grid that wraps to the screen's width (three to a row on a phone), each
    captioned with its true class and both models' answers."""
    cls = ds.class_names
    grid = st.container(horizontal=True, gap="small")
    for i in indices:
        truth = int(ds.y_test[i])
        cell = grid.container(width=THUMB, gap=None)
        cell.image(images.pixelated(ds.x_test[i], THUMB), width=THUMB)
        cell.caption("  \n".join([f"true {cls[truth]}"] + [
            f"{n}: {answer(e.probs[i], truth, cls)}" for n, e in zip(p.short, p.evals)]))


def answer(probs: np.ndarray, truth: int, class_names) -> str:
    """A model's answer for one image: top class, its probability, and right or wrong."""
    k = int(probs.argmax())
    return f"{class_names[k]} ({probs[k]:.0%}) {'✓' if k == truth else '✗'}"


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
