"""Digit Lab: the entrypoint. It lists the pages and shows the landing page."""

import numpy as np
import streamlit as st

from core import images
from pages import common, picker

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
EXAMPLE_SIDE = 80   # px: each class's example image, pixels kept square; ten fit one row at 1280 px

# (file, title, icon, what a person does there). Pages appear once they work.
PAGES = [
    ("pages/train.py", "Train", ":material/model_training:",
     "Train a Logistic Regression or a CNN and watch its learning curves live."),
    ("pages/draw.py", "Draw", ":material/draw:",
     "Draw a digit (or upload a photo) and see both models read it, and why."),
    ("pages/compare.py", "Compare", ":material/compare_arrows:",
     "Compare the two models: confusion matrices, robustness, calibration."),
    ("pages/opencv_lab.py", "OpenCV Lab", ":material/tune:",
     "Edges, thresholds and augmentations on your own images, with sliders."),
    (picker.DATASETS_PAGE, "Your data", ":material/dataset:",
     "Make a dataset of your own classes: draw, photograph or upload its examples."),
]


def home() -> None:
    st.title("Digit Lab")
    st.markdown(
        "See classic machine learning and deep learning side by side on handwritten digits, "
        "clothing and colour photos: train a **Logistic Regression** (scikit-learn) and a "
        "**CNN** (Keras) from this browser, watch their learning curves, compare them, and draw "
        "digits (or show photos) for them to read. Choose the dataset in the sidebar, or make "
        "your own on **Your data**.")
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
    shown = class_examples(ds)
    if shown:
        st.image([images.pixelated(x, EXAMPLE_SIDE) for x in shown.values()],
                 caption=list(shown), width=EXAMPLE_SIDE, output_format="PNG")
    about = f" [About the dataset]({ds.info.homepage})" if ds.info.homepage else ""
    st.caption(f"Cite: {ds.info.citation}. Licence: {ds.info.licence}.{about}")

    st.subheader("Models")
    stored = common.models(ds.name)
    if stored:
        st.markdown("\n".join(f"- {m.label}" for m in stored))
    else:
        st.markdown(f"No models for {ds.title} yet: train one on the **Train** page.")


def class_examples(ds) -> dict[str, np.ndarray]:
    """The first test image of each class by its name (a class of a dataset a person is
    still making may have none yet)."""
    return {name: ds.x_test[found[0]] for c, name in enumerate(ds.class_names)
            if len(found := np.flatnonzero(ds.y_test == c))}


st.session_state[common.HOME_RAN] = True
picker.dataset_picker()
st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True)]
              + [st.Page(path, title=title, icon=icon) for path, title, icon, _ in PAGES]).run()
common.import_in_background()   # the page is drawn: a person reads it while this runs
