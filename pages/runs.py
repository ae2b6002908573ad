"""Runs, a section of the Train page (under the current job): every stored model of the dataset
is a run, named by its kind and the settings it changed from the defaults. A model trained
elsewhere can be added first (pages/upload_panel.py); then a sortable table to tick runs in;
what the ticked runs show (pages/runs_overlays.py); Compare, Delete and downloads."""

import hashlib

import streamlit as st

from core import data, glossary, kinds, runs, store
from core.kinds import SETTINGS
from pages import common
from pages.runs_overlays import overlay, scatter_view, settings_view
from pages.upload_panel import upload_panel

HIDDEN = (runs.KIND, SETTINGS["seed"].label, runs.ID)   # in the CSV, not on the page
DELETED = "runs-deleted"   # session state: what the last Delete did, shown once
# px: on a phone (390 px: a table 356 px wide, 32 of them the row boxes) a run's name, test
# accuracy and verdict fit without scrolling sideways ("did not learn" and "underfitting" uncut);
# on a laptop the settings that explain them follow close after.
WIDTHS = {runs.RUN: 148, runs.TEST: 76, runs.VERDICT: 96}
ROW_HEIGHT = 66   # px: three lines of a name (Streamlit wraps a cell's text in rows over 64 px)


def section(ds: data.Dataset) -> None:
    """The runs of dataset `ds`: the table, then what the ticked runs show and allow."""
    models = runs.grouped(common.models(ds.name))
    deletion_report()
    upload_panel(ds)
    if not models:
        st.caption(f"No {ds.title} runs yet. Every model trained above is kept here as a run.")
        return
    experiment_picker(models, ds)
    named = runs.names(models, len(ds.y_train))
    frame = runs.table(models, len(ds.y_train))
    ticked = run_table(models, frame, ds)
    actions(ticked, frame, ds, named)
    if ticked:
        overlay(ticked, named)
        settings_view(ticked)
    else:
        st.caption("Tick runs in the table (the boxes on the left) to overlay their curves and "
                   "see their settings side by side.")
    scatter_view(models, ds, named)
    downloads(models)


# ---------------------------------------------------------------- a model trained elsewhere

# ---------------------------------------------------------------- the table and its ticks

def ticked_key(ds: data.Dataset) -> str:
    """Session state: the ids of the runs ticked on this dataset, kept while runs come and go."""
    return f"runs-ticked-{ds.name}"


def table_key(models: list[store.ModelInfo], ds: data.Dataset) -> str:
    """The table's key: a new one when runs are saved or deleted or an experiment is shown, so
    its ticks are set again from the runs remembered as ticked (rows are positions)."""
    ids = hashlib.sha1(" ".join(m.id for m in models).encode()).hexdigest()[:12]
    return f"runs-table-{ds.name}-{ids}-{st.session_state.get(ticks_set_key(ds), 0)}"


def ticks_set_key(ds: data.Dataset) -> str:
    """Session state: how often the page itself has set the ticks (part of the table's key)."""
    return f"runs-ticks-set-{ds.name}"


def tick(ds: data.Dataset, ids: list[str]) -> None:
    """Tick these runs (and only these) in the table."""
    st.session_state[ticked_key(ds)] = ids
    st.session_state[ticks_set_key(ds)] = st.session_state.get(ticks_set_key(ds), 0) + 1


def experiment_picker(models: list[store.ModelInfo], ds: data.Dataset) -> None:
    """Tick every run of one experiment (a sweep) at once."""
    names = runs.experiment_names(models)
    if not names:
        return
    key = f"runs-experiment-{ds.name}"

    def show() -> None:
        chosen = st.session_state[key]
        if chosen is not None:
            tick(ds, [m.id for m in models if runs.experiment_id(m) == chosen])

    st.selectbox("Show an experiment", list(names), index=None, format_func=names.get, key=key,
                 placeholder="Choose a sweep to tick all its runs", on_change=show)


def run_table(models: list[store.ModelInfo], frame, ds: data.Dataset) -> list[store.ModelInfo]:
    """The sortable table of runs, with a box per row to tick it; the ticked runs."""
    remembered = set(st.session_state.get(ticked_key(ds), ()))
    rows = [i for i, m in enumerate(models) if m.id in remembered]
    event = st.dataframe(
        frame, key=table_key(models, ds), on_select="rerun", selection_mode="multi-row",
        selection_default={"selection": {"rows": rows}}, hide_index=True, width="stretch",
        column_order=[c for c in frame.columns if c not in HIDDEN], placeholder="—",
        column_config=column_config(models), row_height=ROW_HEIGHT)
    ticked = [models[i] for i in sorted(event.selection.rows) if i < len(models)]
    st.session_state[ticked_key(ds)] = [m.id for m in ticked]
    return ticked


def column_config(models: list[store.ModelInfo]) -> dict:
    """How the table shows each column: the name pinned and wrapped, name, test accuracy and
    verdict narrow enough for a phone (WIDTHS), and each term explained (core.glossary) where
    its column header is."""
    labels, present = runs.columns(models), {m.kind for m in models}
    explained = {label: setting_help(key, present) for key, label in labels.items()}
    return {
        runs.RUN: st.column_config.TextColumn(pinned=True, width=WIDTHS[runs.RUN],
                                              help="Its kind and the settings it changed from "
                                                   "the Train page's defaults."),
        runs.TEST: st.column_config.NumberColumn(format="percent", width=WIDTHS[runs.TEST],
                                                 help=glossary.explain("test accuracy")),
        runs.VERDICT: st.column_config.TextColumn(width=WIDTHS[runs.VERDICT],
                                                  help=verdict_help()),
        runs.EXPERIMENT: st.column_config.TextColumn(width="medium"),
        runs.BEST_VAL: st.column_config.NumberColumn(format="percent",
                                                     help=glossary.explain("validation")),
        **{label: st.column_config.Column(help=text) for label, text in explained.items() if text},
        labels["train_size"]: st.column_config.NumberColumn(format="localized"),
        runs.IMAGES: st.column_config.NumberColumn(format="localized"),
        runs.SECONDS: st.column_config.NumberColumn(format="%.1f"),
        runs.ESTIMATE: st.column_config.TextColumn(help=glossary.explain("estimated / real time")),
        runs.SPEED: st.column_config.NumberColumn(format="%.0f",
                                                 help=glossary.explain("images/s overall"))}


def setting_help(key: str, present: set[str]) -> str | None:
    """A setting's glossary line for a column holding runs of these kinds (both units for
    a column of rounds and epochs)."""
    terms = dict.fromkeys(SETTINGS[key].glossary_term(k) for k in kinds.KINDS
                          if k in present and k in SETTINGS[key].kinds)
    return " ".join(glossary.explain(t) for t in terms if t) or None


def verdict_help() -> str:
    """What the verdict column says, from the glossary."""
    return ("How its curves read, as under a finished job. " + " ".join(
        f"{term.capitalize()}: {glossary.explain(term)}"
        for term in ("did not learn", "overfitting", "underfitting")))


# ---------------------------------------------------------------- what ticked runs allow

def actions(ticked: list[store.ModelInfo], frame, ds: data.Dataset,
            named: dict[str, str]) -> None:
    """Open two ticked runs in Compare, delete ticked runs, download the table."""
    with st.container(horizontal=True):
        compare_button(ticked, ds)
        delete_control(ticked, named)
        st.download_button("Download the table (CSV)", runs.to_csv(frame),
                           file_name=f"digitlab-runs-{ds.name}.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key="runs-csv")
    read_only_note(ticked, named)


def compare_button(ticked: list[store.ModelInfo], ds: data.Dataset) -> None:
    """Compare's side-by-side analysis of exactly two ticked runs (?a= and ?b= name them)."""
    two = len(ticked) == 2
    if st.button("Open these two in Compare", icon=":material/compare_arrows:", disabled=not two,
                 help=None if two else "Tick exactly two runs.", key="runs-compare"):
        st.switch_page("pages/compare.py", query_params={
            **st.query_params.to_dict(), "dataset": ds.name, "a": ticked[0].id,
            "b": ticked[1].id})


def delete_control(ticked: list[store.ModelInfo], named: dict[str, str]) -> None:
    """Delete the ticked runs people trained, after a second click; built-ins say why not."""
    own = [m for m in ticked if not m.builtin]
    label = f"Delete {len(own)} run{'s' if len(own) != 1 else ''}" if own else "Delete"
    with st.popover(label, icon=":material/delete:", disabled=not own,
                    help=None if own else "Tick runs you trained to delete them."):
        st.markdown("Delete " + ", ".join(f"**{named[m.id]}**" for m in own)
                    + "? Their files are removed from this server.")
        st.button("Delete for good", type="primary", key="runs-delete", on_click=delete_runs,
                  args=([m.id for m in own],))


def read_only_note(ticked: list[store.ModelInfo], named: dict[str, str]) -> None:
    """Why ticked built-in runs are not offered for deletion."""
    builtin = [named[m.id] for m in ticked if m.builtin]
    if builtin:
        st.caption(f"Not deleted: {' and '.join(builtin)} (built-in models ship with the app "
                   "and are read-only).")


def delete_runs(ids: list[str]) -> None:
    """Delete each run (a callback, before the page is drawn again); remember what failed."""
    failed = []
    for model_id in ids:
        try:
            store.delete(model_id)
        except (store.StoreError, OSError) as e:
            failed.append(f"{model_id}: {e}")
    st.session_state[DELETED] = (len(ids) - len(failed), failed)


def deletion_report() -> None:
    """What the last Delete did, once: how many runs went, and any that could not be deleted."""
    if DELETED not in st.session_state:
        return
    done, failed = st.session_state.pop(DELETED)
    if done:
        st.toast(f"Deleted {done} run{'s' if done > 1 else ''}.", icon=":material/delete:")
    for problem in failed:
        st.error(f"Could not delete a run, so it is kept: {problem}", icon=":material/error:")


def downloads(models: list[store.ModelInfo]) -> None:
    """The files of a run people trained here, to download."""
    own = [m for m in models if not m.builtin]
    if not own:
        return
    chosen = st.selectbox("Download a run's files", own, format_func=lambda m: m.label,
                          key="runs-download")
    cols = st.columns(4)
    for col, path in zip(cols, chosen.downloads):
        col.download_button(f"Download {path.suffix}", path.read_bytes, on_click="ignore",
                            file_name=f"{chosen.id}{path.suffix}", icon=":material/download:",
                            key=f"runs-dl-{path.name}")
    cols[len(chosen.downloads)].download_button(
        "Download its record (.json)", (chosen.path / "meta.json").read_bytes, on_click="ignore",
        file_name=f"{chosen.id}.json", icon=":material/download:", key="runs-dl-meta",
        help="meta.json: its class names in the order of its outputs, its settings, data and "
             "scores, so the model file can be used elsewhere.")


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
