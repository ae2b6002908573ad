"""Runs, a section of the Train page (under the current job): every stored model of the dataset
is a run. A sortable table to tick runs in; the ticked runs' curves on one chart and their
settings side by side; one setting against test accuracy; Compare, Delete and downloads."""

import hashlib

import streamlit as st

from core import charts, data, kinds, runs, store
from core.kinds import SETTINGS
from pages import common

X_AXES = {"epoch": "Epochs", "time": "Seconds"}   # the overlay's x axis (keys: charts.RUN_AXES)
HIDDEN = (runs.KIND, SETTINGS["seed"].label, runs.ID)   # in the CSV, not on the page
DELETED = "runs-deleted"   # session state: what the last Delete did, shown once


def section(ds: data.Dataset) -> None:
    """The runs of dataset `ds`: the table, then what the ticked runs show and allow."""
    models = runs.grouped(common.models(ds.name))
    deletion_report()
    if not models:
        st.caption(f"No {ds.title} runs yet. Every model trained above is kept here as a run.")
        return
    experiment_picker(models, ds)
    frame = runs.table(models)
    ticked = run_table(models, frame, ds)
    actions(ticked, frame, ds)
    if ticked:
        overlay(ticked)
        settings_view(ticked)
    else:
        st.caption("Tick runs in the table (the boxes on the left) to overlay their curves and "
                   "see their settings side by side.")
    scatter_view(models, ds)
    downloads(models)


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
        column_config={
            runs.RUN: st.column_config.TextColumn(pinned=True),
            runs.EXPERIMENT: st.column_config.TextColumn(width="medium"),
            runs.TEST: st.column_config.ProgressColumn(format="percent", min_value=0,
                                                       max_value=1),
            runs.BEST_VAL: st.column_config.NumberColumn(format="percent"),
            SETTINGS["train_size"].label: st.column_config.NumberColumn(format="localized"),
            runs.IMAGES: st.column_config.NumberColumn(format="localized"),
            runs.SECONDS: st.column_config.NumberColumn(format="%.1f"),
            runs.SPEED: st.column_config.NumberColumn(format="%.0f")})
    ticked = [models[i] for i in sorted(event.selection.rows) if i < len(models)]
    st.session_state[ticked_key(ds)] = [m.id for m in ticked]
    return ticked


# ---------------------------------------------------------------- what ticked runs allow

def actions(ticked: list[store.ModelInfo], frame, ds: data.Dataset) -> None:
    """Open two ticked runs in Compare, delete ticked runs, download the table."""
    with st.container(horizontal=True):
        compare_button(ticked, ds)
        delete_control(ticked)
        st.download_button("Download the table (CSV)", runs.to_csv(frame),
                           file_name=f"digitlab-runs-{ds.name}.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key="runs-csv")
    read_only_note(ticked)


def compare_button(ticked: list[store.ModelInfo], ds: data.Dataset) -> None:
    """Compare's side-by-side analysis of exactly two ticked runs (?a= and ?b= name them)."""
    two = len(ticked) == 2
    if st.button("Open these two in Compare", icon=":material/compare_arrows:", disabled=not two,
                 help=None if two else "Tick exactly two runs.", key="runs-compare"):
        st.switch_page("pages/compare.py", query_params={
            **st.query_params.to_dict(), "dataset": ds.name, "a": ticked[0].id,
            "b": ticked[1].id})


def delete_control(ticked: list[store.ModelInfo]) -> None:
    """Delete the ticked runs people trained, after a second click; built-ins say why not."""
    own = [m for m in ticked if not m.builtin]
    label = f"Delete {len(own)} run{'s' if len(own) != 1 else ''}" if own else "Delete"
    with st.popover(label, icon=":material/delete:", disabled=not own,
                    help=None if own else "Tick runs you trained to delete them."):
        st.markdown("Delete " + ", ".join(f"**{runs.name(m)}**" for m in own)
                    + "? Their files are removed from this server.")
        st.button("Delete for good", type="primary", key="runs-delete", on_click=delete_runs,
                  args=([m.id for m in own],))


def read_only_note(ticked: list[store.ModelInfo]) -> None:
    """Why ticked built-in runs are not offered for deletion."""
    builtin = [runs.name(m) for m in ticked if m.builtin]
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


def overlay(ticked: list[store.ModelInfo]) -> None:
    """The ticked runs' accuracy and loss on one chart each, named by how their settings differ."""
    x = st.segmented_control("X axis", list(X_AXES), default="epoch", format_func=X_AXES.get,
                             key="runs-x") or "epoch"
    curves = runs.curves(ticked)
    without = [runs.name(m) for m in ticked if not m.history]
    if without:
        st.caption(f"No stored curves: {', '.join(without)}.")
    if not curves:
        return
    left, right = st.columns(2, gap="large")
    for col, metric in zip((left, right), ("accuracy", "loss")):
        col.plotly_chart(charts.runs_overlay(curves, metric, x), key=f"runs-overlay-{metric}",
                         config={"displayModeBar": False})
    st.caption("Validation is measured on a held-out 10 % of each run's training images. "
               "Click a run in a legend to hide it, double-click to show it alone.")


def settings_view(ticked: list[store.ModelInfo]) -> None:
    """The ticked runs' settings side by side: by default only those that differ."""
    only = st.toggle("Only the settings that differ", value=True, key="runs-differences")
    frame = runs.settings_table(ticked, only_differences=only)
    if frame.empty:
        st.caption("Tick two or more runs to see how their settings differ." if len(ticked) < 2
                   else "The ticked runs were trained with the same settings.")
    else:
        st.dataframe(frame, width="stretch")


# ---------------------------------------------------------------- all runs

def scatter_view(models: list[store.ModelInfo], ds: data.Dataset) -> None:
    """One setting against test accuracy, a dot per run of one kind."""
    counts = {k: sum(m.kind == k for m in models) for k in kinds.KINDS}
    present = [k for k in kinds.KINDS if counts[k]]
    if not present:
        return
    st.markdown("**A setting against test accuracy**")
    left, right = st.columns([1, 2])
    most = max(present, key=counts.get)
    kind = left.segmented_control("Runs of", present, default=most, key="runs-scatter-kind",
                                  format_func=lambda k: kinds.KINDS[k].name) or most
    options = runs.scatter_settings(kind)
    first = first_setting([m for m in models if m.kind == kind], options)
    setting = right.selectbox("Setting", options, format_func=lambda k: SETTINGS[k].label,
                              index=options.index(first), key=f"runs-scatter-setting-{kind}")
    values, accuracies, names = runs.setting_points(models, kind, setting)
    if not values:
        st.caption(f"No scored {kinds.KINDS[kind].name} run records its "
                   f"{SETTINGS[setting].label.lower()}.")
        return
    label = SETTINGS[setting].label
    st.plotly_chart(charts.setting_scatter(
        values, accuracies, names, label, f"Test accuracy against {label.lower()}",
        f"{len(values)} {kinds.KINDS[kind].name} run{'s' if len(values) > 1 else ''} on "
        f"{ds.title}, each scored on its {len(ds.y_test):,} test images",
        log=setting in runs.LOG_SETTINGS), key="runs-scatter", config={"displayModeBar": False})


def first_setting(of_kind: list[store.ModelInfo], options: list[str]) -> str:
    """The setting shown first: the one the newest sweep varied, else the first that varies."""
    swept = [(m.experiment or {}).get("swept") for m in runs.oldest_first(of_kind)[::-1]]
    varied = [k for k in options if len({runs.setting_text(m, k) for m in of_kind}) > 1]
    return next((k for k in swept + varied if k in options), options[0])


def downloads(models: list[store.ModelInfo]) -> None:
    """The files of a run people trained here, to download."""
    own = [m for m in models if not m.builtin]
    if not own:
        return
    chosen = st.selectbox("Download a run's files", own, format_func=lambda m: m.label,
                          key="runs-download")
    for col, path in zip(st.columns(4), chosen.downloads):
        col.download_button(f"Download {path.suffix}", path.read_bytes, on_click="ignore",
                            file_name=f"{chosen.id}{path.suffix}", icon=":material/download:",
                            key=f"runs-dl-{path.name}")


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
