"""Streamlit glue the pages share: cached loaders, the chosen dataset, who this tab is.
(The sidebar's dataset menu is pages/picker.py.)

Pages import from here instead of repeating `st.cache_resource` wrappers.
"""

from __future__ import annotations

import importlib
import re
import threading
import uuid

import numpy as np
import streamlit as st

from core import cluster, data, datasets, download, jobs, store
from core.datasets import DEFAULT as DEFAULT_DATASET, DatasetInfo
from core.serving import PROBLEMS as MODEL_PROBLEMS, Serving

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()!|<>~$:&])")   # links, images, emphasis, code,
                                                           # LaTeX, :emoji:/icons, HTML


def plain(text: str) -> str:
    """Text a person chose (an uploaded file's name) escaped, so Markdown shows it as typed."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


@st.cache_resource(show_spinner="Loading the dataset…")
def loaded(name: str, revision: int) -> data.Dataset:
    """Dataset `name` as it was at `revision` (see `dataset`)."""
    return data.load(name, train_images=False)


@st.cache_resource
def revisions() -> dict[str, int]:
    """The revision of each dataset `loaded` holds now: one per dataset, older ones dropped."""
    return {}


def dataset(name: str) -> data.Dataset:
    """One Dataset per server, shared read-only by every session: its test images and all
    its labels (training images are loaded by the training workers that need them). Keyed
    on data.revision(name), so examples just added to a dataset a person made show at once."""
    revision, held = data.revision(name), revisions()
    if held.get(name, revision) != revision:
        loaded.clear(name, held[name])
    held[name] = revision
    return loaded(name, revision)


CHOSEN_DATASET = "chosen_dataset"   # in session_state: the dataset this session chose last
AVAILABILITY = "dataset_availability"   # in session_state: what the sidebar's menu said


def chosen_name() -> str:
    """The key of the dataset the sidebar's menu chose (this session's last choice when the
    menu was not drawn in this run: a page run on its own, as AppTest runs one)."""
    return (st.session_state.get("dataset") or st.session_state.get(CHOSEN_DATASET)
            or DEFAULT_DATASET)


def current_dataset() -> data.Dataset | None:
    """The chosen dataset, or None after telling the person why it is unavailable."""
    name = chosen_name()
    try:
        return dataset(name)
    except data.DataError as e:
        if data.availability(name) != st.session_state.get(AVAILABILITY, {}).get(name):
            st.rerun()           # e.g. its download just failed: the menu says so now
        unavailable(datasets.info(name), e)
    except ValueError as e:      # a dataset a person made, deleted since the menu was drawn
        st.error(f"{str(e)[:1].upper()}{str(e)[1:]}. Choose another dataset in the sidebar.",
                 icon=":material/database_off:")
    return None


def unavailable(record: DatasetInfo, error: data.DataError) -> None:
    """Say why a dataset cannot be loaded and what a person can do: start its download if
    it has one, else ask whoever runs the app; for that person, how, in a collapsed part."""
    if record.download:
        st.info(f"**{record.label} is not available here yet.**\n\nDownload it below: "
                f"{record.download.megabytes:.0f} MB, the official version, checked by its MD5 "
                "and then kept for everyone using this app.", icon=":material/database_off:")
        running = download.running(data.downloaded(record.key)) is not None
        st.fragment(download_panel, run_every=0.5 if running else None)(record, running)
    else:
        st.error(f"**{record.label} is not available here.**\n\nAsk whoever runs this app "
                 "to add it, or choose another dataset in the sidebar.",
                 icon=":material/database_off:")
    with st.expander("If you run this app"):
        put_it = (f" and put it at `{data.downloaded(record.key)}`" if record.download else "")
        st.markdown(f"{record.get_it}{put_it}; or set `{record.env_var}` to your own copy "
                    "before starting the app. Sources tried:")
        st.code(str(error), language=None)


def download_panel(record: DatasetInfo, polling: bool) -> None:
    """The dataset's Download button (Try again, after the error, once it failed), or the
    running download's progress (whoever started it) with Cancel. Polls while it runs, and
    redraws the page when it has ended: with the dataset loaded, or saying what went wrong."""
    target, archive = data.downloaded(record.key), record.download
    current = download.running(target)
    if current is None:
        if polling:
            st.rerun(scope="app")                    # it ended since the page was drawn
        last = download.last_ended(target)           # whoever tried: the menu says so too
        failed = last is not None and bool(last.error)
        if failed:
            st.error(last.error, icon=":material/error:")
        if st.button("Try again" if failed else f"{record.title}: {archive.megabytes:.0f} MB — "
                     "Download", type="secondary" if failed else "primary",
                     icon=":material/refresh:" if failed else ":material/download:",
                     key=f"get-{record.key}"):
            download.start(archive.address, target, archive.checksum, archive.bytes,
                           hint="Try again later, or ask whoever runs this app to add the "
                                "dataset.")
            st.rerun(scope="app")                    # to show its progress
        return
    st.progress(current.fraction, text=f"Downloading {archive.file_name}: {current.progress_text()}")
    if st.button("Cancel", icon=":material/cancel:", key=f"cancel-{record.key}"):
        current.cancel()
        current.wait(5)
        st.rerun(scope="app")


def rerun_fragment() -> None:
    """Redraw the fragment a click came from; the whole page when Streamlit ran that click
    with a full rerun (it merges a click with a page rerun pending), where it refuses a
    fragment's own rerun."""
    try:
        st.rerun(scope="fragment")
    except st.errors.StreamlitAPIException:
        st.rerun()


def duration(seconds: float) -> str:
    """7 s, 20 s, 1 min 30 s, 12 min: how long, as a number a person reads at a glance."""
    if seconds < 59.5:
        return f"{max(1, round(seconds))} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min" + (f" {rest} s" if rest and minutes < 10 else "")


def duration_range(low: float, high: float) -> str:
    """8–11 s, 50 s – 1 min 10 s, 1 min 50 s – 2 min 20 s: a range of durations."""
    start, end = duration(low), duration(high)
    if start == end:
        return start
    if "min" not in start + end:
        return f"{start.removesuffix(' s')}–{end}"
    return f"{start} – {end}"


@st.cache_resource
def job_runner() -> jobs.JobRunner:
    """The server's one job runner: training jobs outlive reruns, pages and sessions. They
    train on the Ray cluster at RAY_ADDRESS when one is set (core.cluster), else here."""
    return jobs.JobRunner(executor=cluster.from_environment())


def session_id() -> str:
    """A stable id for this browser tab, to tell a person's own jobs from others'.

    Kept in the URL (`?me=`) once it owns a job, so reloading the tab keeps "Your job" and
    its Stop button: a new Streamlit session would otherwise see it as someone else's.
    """
    if "session_id" not in st.session_state:
        given = st.query_params.get("me", "")
        st.session_state.session_id = given if re.fullmatch(r"[0-9a-f]{32}", given) \
            else uuid.uuid4().hex
    return st.session_state.session_id


def remember_owner() -> None:
    """Put this tab's id in its URL, so a reload still finds the jobs it started."""
    st.query_params["me"] = session_id()


def models(dataset: str | None = None) -> list[store.ModelInfo]:
    """Stored models (built-ins first), optionally only those trained on `dataset`.

    Folders that cannot be used are reported once per session as a warning toast.
    """
    found, problems = store.list_models()
    for problem in problems:
        if problem not in st.session_state.setdefault("reported_store_problems", set()):
            st.session_state.reported_store_problems.add(problem)
            st.toast(f"Skipped a model folder: {problem}", icon=":material/warning:")
    return [m for m in found if dataset is None or m.dataset == dataset]


LATER_IMPORTS = ("pandas", "pyarrow")   # the Runs tables (st.dataframe): ~1.5 s on 2 busy cores


@st.cache_resource(show_spinner=False)
def import_in_background() -> threading.Thread:
    """Once per server, after the first page is shown: import what later pages need, so the
    first visit to Train does not wait for pandas. A page importing it meanwhile just waits."""
    thread = threading.Thread(target=lambda: [importlib.import_module(m) for m in LATER_IMPORTS],
                              daemon=True, name="later-imports")
    thread.start()
    return thread


@st.cache_resource
def serving() -> Serving:
    """The server's one way to run stored models (CNNs in a LiteRT worker, not in this process)."""
    return Serving()


def predict_proba(model: store.ModelInfo, x: np.ndarray) -> np.ndarray:
    """N x C class probabilities of a stored model (C: its classes); raises one of MODEL_PROBLEMS."""
    return serving().predict_proba(model, x)


def each_model(models, names, compute, failure: str) -> list | None:
    """[compute(model) for each model], or None after an error naming the model that failed.

    `failure` is the message, with {name} and {error} in it.
    """
    results = []
    for model, name in zip(models, names):
        try:
            results.append(compute(model))
        except MODEL_PROBLEMS as e:
            st.error(failure.format(name=name, error=e), icon=":material/error:")
            return None
    return results


def best_model(kind: str, dataset: str) -> store.ModelInfo | None:
    """The default model of a kind: the most accurate one, the newest among equals."""
    candidates = [m for m in models(dataset) if m.kind == kind]
    return max(candidates, key=lambda m: (m.test_accuracy or 0, m.created_at), default=None)


HOME_RAN = "home_ran"  # in session_state from this session's first run through Home.py on


def through_home() -> None:
    """Rerun this page through Home.py's st.navigation if this session has not been through it.

    Streamlit decides once per server whether the app uses the legacy "pages/ folder"
    layout, and until Home.py has called st.navigation, a session that opens e.g. /train
    first on a fresh server gets that page file run on its own (no sidebar picker, every
    file in pages/ listed as a page). Turning that (private) flag off and rerunning sends
    it through Home.py. Every page calls this first; it must not run while this module is
    imported: a rerun raised inside an import fails the import for every session that
    opened a page at the same moment.
    """
    if st.session_state.get(HOME_RAN):
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    st.rerun()


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    through_home()
