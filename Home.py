"""Digit Lab: the entrypoint. It lists the pages and shows the landing page."""

import numpy as np
import streamlit as st

from pages import common

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")


def home() -> None:
    st.title("Digit Lab")
    st.markdown(
        "See classic machine learning and deep learning side by side on handwritten digits: "
        "train a **Logistic Regression** (scikit-learn) and a **CNN** (Keras) from this browser, "
        "watch their learning curves, compare them, and draw digits for them to read.")

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
    st.image(class_examples(ds), caption=" · ".join(ds.class_names), width=700)

    st.subheader("Models")
    stored = common.models(ds.name)
    if stored:
        for m in stored:
            st.markdown(f"- {m.label}")
    else:
        st.markdown(f"No models for {ds.title} yet.")
    st.page_link("pages/train.py", label="Train a Logistic Regression or a CNN",
                 icon=":material/model_training:")


def class_examples(ds) -> np.ndarray:
    """The first training image of each class, side by side in one strip."""
    firsts = [ds.x_train[np.flatnonzero(ds.y_train == c)[0]] for c in range(len(ds.class_names))]
    return np.hstack(firsts)


common.dataset_picker()
# Pages appear here as they are built; nothing is listed before it works.
pages = [
    st.Page(home, title="Home", icon=":material/home:", default=True),
    st.Page("pages/opencv_lab.py", title="OpenCV Lab", icon=":material/tune:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
]
st.navigation(pages).run()
