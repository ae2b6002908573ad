"""Runs, a section of the Train page (under the current job): every stored model of the dataset
is a run. A model trained elsewhere can be added first; then a sortable table to tick runs in;
the ticked runs' curves on one chart and their settings side by side; one setting against test
accuracy; Compare, Delete and downloads."""

import hashlib
from contextlib import contextmanager

import streamlit as st

from core import charts, data, glossary, jobs, kinds, runs, store, uploads
from core.datasets import DATASETS
from core.kinds import SETTINGS
from pages import common

X_AXES = {"epoch": "Epochs", "time": "Seconds"}   # the overlay's x axis (keys: charts.RUN_AXES)
HIDDEN = (runs.KIND, SETTINGS["seed"].label, runs.ID)   # in the CSV, not on the page
DELETED = "runs-deleted"   # session state: what the last Delete did, shown once
INSPECTED = "upload-inspected"   # session state: file hash -> its Inspection, or why it was refused
ADDED = "upload-added"           # session state: the id of the model just added, shown once
UPLOADS = "upload-count"         # session state: models added, part of the file picker's key
SCALE_NAMES = {1: "0-1 (pixels divided by 255)", 255: "0-255"}
WAIT_FOR_TRAINER_S = 20          # a file's check waits this long for a training job to end


def section(ds: data.Dataset) -> None:
    """The runs of dataset `ds`: the table, then what the ticked runs show and allow."""
    models = runs.grouped(common.models(ds.name))
    deletion_report()
    upload_panel(ds)
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


# ---------------------------------------------------------------- a model trained elsewhere

def upload_panel(ds: data.Dataset) -> None:
    """Add a model trained elsewhere: check the file, ask what it cannot tell, score and save it."""
    with st.expander("Add a model you trained elsewhere", icon=":material/upload_file:",
                     key="upload-panel"):
        added_report(ds)
        st.caption("A Keras model (.keras or .h5), a LiteRT model (.tflite) or a scikit-learn "
                   "LogisticRegression (.skops). It is checked in a separate process, scored on "
                   "the test images of the dataset it was trained on, and kept as a run. "
                   "Pickle and joblib files are refused: loading one runs code from the file.")
        upload = st.file_uploader("Model file", key=f"upload-model-{st.session_state.get(UPLOADS, 0)}")
        if upload is None:
            return
        content = upload.getvalue()
        inspection = inspected(upload.name, content)
        if inspection is None:
            return
        st.markdown(common.plain(inspection.summary))
        dataset, scale = questions(inspection, ds)
        if st.button("Add to the store", type="primary", icon=":material/add:", key="upload-add"):
            add_to_store(upload.name, content, dataset, scale)


def inspected(file_name: str, content: bytes) -> uploads.Inspection | None:
    """What the file holds, read once per file (by its hash) in a worker; None after saying why
    it cannot be added."""
    seen = st.session_state.setdefault(INSPECTED, {})
    digest = hashlib.sha256(content).hexdigest()
    if digest not in seen:
        try:
            uploads.precheck(file_name, content)
            with checking("Checking the file in a separate process…"):
                seen[digest] = uploads.inspect(file_name, content)
        except jobs.TrainerBusy as e:
            trainer_busy(e, "press **Check it now**")
            st.button("Check it now", icon=":material/refresh:", key="upload-retry")
            return None
        except uploads.UploadError as e:
            seen[digest] = str(e)
    if isinstance(seen[digest], str):
        st.error(common.plain(seen[digest]), icon=":material/error:")
        return None
    return seen[digest]


@contextmanager
def checking(what: str):
    """A spinner while an uploaded file is read in its worker, which runs only while no model
    trains: two TensorFlow workers at once would not fit in Community Cloud's 2.7 GB."""
    runner = common.job_runner()
    waiting = "Waiting for the training job to end, then c" + what[1:]
    with st.spinner(waiting if runner.current() else what), runner.lend(WAIT_FOR_TRAINER_S):
        yield


def trainer_busy(busy: jobs.TrainerBusy, again: str) -> None:
    """Why the file was not checked yet, and when to try again."""
    left = ("" if busy.seconds_left is None
            else f" (about {common.duration(busy.seconds_left)} left)")
    st.info(f"A model is training on this server{left}. Model files are checked only while "
            "no model trains, so that the two fit in the server's memory. Your file stays "
            f"chosen: {again} when the training has ended.", icon=":material/hourglass_top:")


def questions(inspection: uploads.Inspection, ds: data.Dataset) -> tuple[str, int]:
    """What the file cannot tell: the dataset it was trained on and the pixel scale it read."""
    fits = list(inspection.fits)
    first = ds.name if ds.name in fits else inspection.suggested
    left, right = st.columns(2)
    dataset = left.selectbox("Trained on", fits, index=fits.index(first), key="upload-dataset",
                             format_func=lambda key: DATASETS[key].title,
                             help="Only the datasets whose images and classes the model fits.")
    scale = right.radio("Input scale it was trained on", uploads.SCALES,
                        format_func=SCALE_NAMES.get, key="upload-scale", horizontal=True,
                        help="0-1 when the notebook divided the pixels by 255, as most do.")
    return dataset, scale


def add_to_store(file_name: str, content: bytes, dataset: str, scale: int) -> None:
    """Convert, score and save the upload in a worker; then show the page again with its run."""
    try:
        with checking(f"Checking it and scoring it on {DATASETS[dataset].title}'s test images "
                      "in a separate process…"):
            model = uploads.add(file_name, content, dataset, scale)
    except jobs.TrainerBusy as e:
        trainer_busy(e, "press **Add to the store** again")
        return
    except uploads.UploadError as e:
        st.error(common.plain(str(e)), icon=":material/error:")
        return
    st.session_state[ADDED] = model.id
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1   # an empty file picker
    st.rerun()


def added_report(ds: data.Dataset) -> None:
    """The model just added, once: its test accuracy, parameters and size, and where it is."""
    if ADDED not in st.session_state:
        return
    try:
        model = store.get(st.session_state.pop(ADDED))
    except store.StoreError as e:
        st.error(common.plain(str(e)), icon=":material/error:")
        return
    st.success(common.plain(added_text(model, ds)), icon=":material/check_circle:")
    if (model.test_accuracy or 0) < near_chance(model):
        st.warning(f"That is near chance ({1 / classes(model):.0%}): the input scale may be "
                   "wrong: try the other one.", icon=":material/warning:")


def added_text(model: store.ModelInfo, ds: data.Dataset) -> str:
    """"Added m.h5: 98.1 % test accuracy on MNIST's 10,000 test images, 5,010 parameters, ..."."""
    up, title = model.uploaded or {}, DATASETS[model.dataset].title
    where = ("It is a run below" if model.dataset == ds.name else
             f"Choose {title} in the sidebar to see it among the runs")
    return (f"Added {up.get('file_name', model.id)} as {model.title}: "
            f"{model.recorded('test_accuracy', '.2%')} test accuracy on {title}'s "
            f"{model.meta.get('test_size', 0):,} test images, {model.recorded('params', ',')} "
            f"parameters, {up.get('bytes', 0) / 1024:,.0f} KB. {where}; it can be used on Draw "
            "and Compare like the others.")


def classes(model: store.ModelInfo) -> int:
    return len(DATASETS[model.dataset].class_names)


def near_chance(model: store.ModelInfo) -> float:
    """Below this test accuracy a model is barely better than guessing (twice chance)."""
    return 2 / classes(model)


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
            runs.ESTIMATE: st.column_config.TextColumn(help=glossary.explain("estimated / real time")),
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
