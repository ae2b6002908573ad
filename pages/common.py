"""Streamlit glue the pages share: cached loaders and the dataset picker.

Pages import from here instead of repeating `st.cache_resource` wrappers.
"""

from __future__ import annotations

import streamlit as st

from core import data

DATASETS = {"mnist": "MNIST (handwritten digits)", "fashion_mnist": "Fashion-MNIST (clothing)"}


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str) -> data.Dataset:
    """One Dataset per server, shared read-only by every session."""
    return data.load(name)


def dataset_picker() -> str:
    """The sidebar choice of dataset; it sticks across pages for this session."""
    return st.sidebar.selectbox("Dataset", list(DATASETS), format_func=DATASETS.get,
                                key="dataset")


def current_dataset() -> data.Dataset | None:
    """The chosen dataset, or None after telling the person why it is unavailable."""
    name = st.session_state.get("dataset", "mnist")
    try:
        return dataset(name)
    except data.DataError as e:
        st.error(f"**{DATASETS[name]} is not available here.**\n\n"
                 "Connect to the internet, or point "
                 f"`{data.ENV_VARS[name]}` at a folder of IDX files or an .npz file.\n\n"
                 f"```\n{e}\n```")
        return None
