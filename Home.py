"""Digit Lab: the entrypoint. It lists the pages and shows the landing page."""

import numpy as np
import streamlit as st

from pages import common

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")

# (file, title, icon, what a person does there). Pages appear once they work.
PAGES = [
    ("pages/train.py", "Train", ":material/model_training:",
     "Train a Logistic Regression or a CNN and watch its learning curves live."),
    ("pages/draw.py", "Draw", ":material/draw:",
     "Draw a digit (or upload a photo of one) and see both models read it."),
    ("pages/compare.py", "Compare", ":material/compare_arrows:",
     "Compare the two models: confusion matrices, robustness, calibration."),
    ("pages/opencv_lab.py", "OpenCV Lab", ":material/tune:",
     "Edges, thresholds and augmentations on your own images, with sliders."),
]


def home() -> None:
    st.title("Digit Lab")
    st.markdown(
        "See classic machine learning and deep learning side by side on handwritten digits: "
        "train a **Logistic Regression** (scikit-learn) and a **CNN** (Keras) from this browser, "
        "watch their learning curves, compare them, and draw digits for them to read.")
    for col, (path, title, icon, what) in zip(st.columns(len(PAGES)), PAGES):
        with col.container(border=True):
            st.page_link(path, label=f"**{title}**", icon=icon)
            st.caption(what)

    ds = common.current_dataset()
    if ds is None:
        return
    st.subheader("Data")
    cols = st.columns(3)
    cols[0].metric("Dataset", ds.title)
    cols[1].metric("Training images", f"{len(ds.y_train):,}")
    cols[2].metric("Test images", f"{len(ds.y_test):,}")
    (st.success if ds.is_full else st.info)(ds.description)
    if ds.problems:
        with st.expander("Sources tried before this one"):
            st.code("\n".join(ds.problems), language=None)
    st.image(class_examples(ds), caption=" · ".join(ds.class_names), width="stretch")
    st.caption(f"Cite: {ds.info.citation}. Licence: {ds.info.licence}. "
               f"[About the dataset]({ds.info.homepage})")

    st.subheader("Models")
    stored = common.models(ds.name)
    if stored:
        st.markdown("\n".join(f"- {m.label}" for m in stored))
    else:
        st.markdown(f"No models for {ds.title} yet: train one on the **Train** page.")


def class_examples(ds) -> np.ndarray:
    """The first test image of each class, side by side in one strip (grey or colour)."""
    firsts = [ds.x_test[np.flatnonzero(ds.y_test == c)[0]] for c in range(len(ds.class_names))]
    return np.hstack(firsts)


st.session_state[common.HOME_RAN] = True
common.dataset_picker()
st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True)]
              + [st.Page(path, title=title, icon=icon) for path, title, icon, _ in PAGES]).run()
