"""The Train page's line about the Ray cluster, when the server was given one (RAY_ADDRESS)."""

import streamlit as st

from core.executors import Executor


def show(executor: Executor) -> None:
    """Where jobs train, or why not on the cluster: nothing when no cluster was given."""
    if not hasattr(executor, "problem"):   # core.cluster.ClusterOrLocal: a cluster was given
        return
    if executor.problem:
        st.warning(executor.problem, icon=":material/cloud_off:")
    else:
        st.caption(f"Jobs train on {executor.name}, up to {executor.slots()} at once.")
