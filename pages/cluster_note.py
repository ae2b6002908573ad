"""The Train page's line about the Ray cluster, when the server was given one (RAY_ADDRESS)."""

import streamlit as st

from core.executors import Executor

POLL_S = 1.0   # while the app joins the cluster, the line is redrawn this often


def show(executor: Executor) -> None:
    """Where jobs train, or why not on the cluster; nothing when no cluster was given."""
    if not hasattr(executor, "joining"):   # core.cluster.ClusterOrLocal: a cluster was given
        return
    joining = executor.joining
    st.fragment(note, run_every=POLL_S if joining else None)(executor, joining)


def note(executor, polling: bool) -> None:
    """The line itself; the whole page is drawn again once the app has joined the cluster or
    given up (its estimates then say where they come from)."""
    if executor.problem:
        st.warning(executor.problem, icon=":material/cloud_off:")
    elif executor.joining:
        st.caption(f"Joining {executor.cluster.name}…")
    else:
        st.caption(f"Jobs train on {executor.name}, up to {executor.slots()} at once.")
    if polling and not executor.joining:
        st.rerun(scope="app")
