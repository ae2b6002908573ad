"""The sidebar's dataset menu: the built-in three, the datasets this person made (and shared
ones a link opened), and "New dataset…", which opens the Your data page.

The choice sticks across pages for this session and is part of the page's address
(`?dataset=cifar10`, `?dataset=own-…`), so a reload or a shared link keeps it. A dataset a
person made is offered only to them, and to others once it is shared and they open its link.
"""

from __future__ import annotations

import streamlit as st

from core import data, datasets, own_datasets
from core.datasets import DATASETS, DEFAULT as DEFAULT_DATASET
from core.own_datasets import OwnDataset, OwnDatasetError
from pages import common

NEW_DATASET = "new-dataset"        # the menu's last entry, not a dataset
DATASETS_PAGE = "pages/datasets.py"
LINKED = "linked_datasets"         # in session_state: others' datasets a link opened here
PICKED = "picked_dataset"          # in session_state: a page's choice for the next run
GO_NEW = "open_new_dataset"        # in session_state: "New dataset…" was chosen
NEW_ASKED = "new_dataset_asked"    # in session_state: for the page, to open its "new" part
STATES = {data.HERE: "here, ready to use", data.DOWNLOAD: "needs a download first",
          data.FAILED: "its download failed (this server may be offline): try again on the "
                       "page, or ask whoever runs this app",
          data.MISSING: "not available on this server"}


def choose(key: str) -> None:
    """Make `key` the sidebar's choice from the next run on (after a page made or deleted one);
    this session's last choice and the address say it at once."""
    st.session_state[PICKED] = st.session_state[common.CHOSEN_DATASET] = key
    st.query_params["dataset"] = key


def made_here(me: str) -> dict[str, OwnDataset]:
    """The made datasets `me` may choose: their own, and shared ones they opened by a link."""
    linked = st.session_state.setdefault(LINKED, set())
    return {ds.key: ds for ds in own_datasets.visible(me) if ds.owner == me or ds.key in linked}


def follow_link(asked: str | None, me: str) -> None:
    """Let a link (`?dataset=own-…`) open a made dataset when `me` may see it; else say why
    (the default dataset is shown instead)."""
    if not datasets.is_own(asked) or asked in st.session_state.setdefault(LINKED, set()):
        return
    try:
        ds = own_datasets.get(asked)
    except OwnDatasetError as e:
        st.warning(f"The address names a dataset that is not here ({e}): showing "
                   f"{DATASETS[DEFAULT_DATASET].label} instead.", icon=":material/link_off:")
        return
    if not own_datasets.may_see(ds, me):
        st.warning(f"The address names a dataset its owner has not shared (only they see it): "
                   f"showing {DATASETS[DEFAULT_DATASET].label} instead.",
                   icon=":material/lock:")
        return
    st.session_state[LINKED].add(asked)


def starting_choice(options: list[str]) -> str:
    """What the menu shows this run: a page's pick, else the person's last choice in it, else
    the address's, else this session's last, else the default; one that is gone: the default."""
    for candidate in (st.session_state.pop(PICKED, None), st.session_state.get("dataset"),
                      st.query_params.get("dataset"), st.session_state.get(common.CHOSEN_DATASET)):
        if candidate in options and candidate != NEW_DATASET:
            return candidate
    return DEFAULT_DATASET


def on_pick() -> None:
    """"New dataset…" is no dataset: the menu goes back to the last one, and the page that
    makes one opens (the next run switches to it: a callback may not)."""
    if st.session_state.get("dataset") == NEW_DATASET:
        st.session_state["dataset"] = st.session_state.get(common.CHOSEN_DATASET, DEFAULT_DATASET)
        st.session_state[GO_NEW] = True


def dataset_picker() -> str:
    """The sidebar choice of dataset (see the module's docstring); the chosen key."""
    if st.session_state.pop(GO_NEW, False):
        st.session_state[NEW_ASKED] = True
        st.switch_page(DATASETS_PAGE)
    me = common.session_id()
    follow_link(st.query_params.get("dataset"), me)
    made = made_here(me)
    here = st.session_state[common.AVAILABILITY] = (
        {key: data.availability(key) for key in DATASETS} | dict.fromkeys(made, data.HERE))
    options = [*DATASETS, *made, NEW_DATASET]
    start = starting_choice(options)
    if st.session_state.get("dataset") != start:
        st.session_state["dataset"] = start     # a page's pick, or the last one is gone
    # `index` too: an entry whose label changed (a download failed) falls back to it
    name = st.sidebar.selectbox("Dataset", options, index=options.index(start), key="dataset",
                                on_change=on_pick,
                                format_func=lambda key: label(key, here, made, me),
                                help="\n".join([f"- **{DATASETS[key].label}**: {STATES[state]}"
                                                for key, state in here.items() if key in DATASETS]
                                               + [MADE_HELP]))
    st.session_state[common.CHOSEN_DATASET] = st.query_params["dataset"] = name
    if any(ds.owner == me for ds in made.values()):
        common.remember_owner()    # a reload of this address still finds this person's datasets
    return name


MADE_HELP = ("- **Your own**: datasets you made on the *Your data* page; only you see them, "
             "unless you share one's link. **New dataset…** makes one.")


def label(key: str, here: dict[str, str], made: dict[str, OwnDataset], me: str) -> str:
    """A menu entry: a built-in set by its state, a made one by its record's label (a shared
    one of someone else's says so), and the last entry."""
    if key == NEW_DATASET:
        return "New dataset…"
    if key in made:
        ds = made[key]
        kind = datasets.OWN_KINDS[ds.kind].subject.split()[-1]
        return (datasets.own_info(key, {"name": ds.name, "kind": ds.kind,
                                        "class_names": list(ds.class_names)}).label
                if ds.owner == me else f"{ds.name} (shared {kind})")
    return picker_label(key, here[key])


def picker_label(key: str, state: str) -> str:
    """A built-in dataset as its menu names it, short enough for the sidebar: "MNIST
    (handwritten digits)", "CIFAR-10 (download, 162 MB)", "Fashion-MNIST (not available)"."""
    record = DATASETS[key]
    if state == data.HERE:
        return record.label
    if state == data.MISSING:
        return f"{record.title} (not available)"
    if state == data.FAILED:
        return f"{record.title} (download failed)"
    size = f", {record.download.megabytes:.0f} MB" if record.download else ""
    return f"{record.title} (download{size})"


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
