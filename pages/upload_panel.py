"""Add a model trained elsewhere, a panel of the Train page's Runs: the file is checked in a
worker (only while no model trains), what it cannot tell is asked, then it is scored and kept."""

import hashlib
from contextlib import contextmanager

import streamlit as st

from core import data, jobs, store, uploads, verdict
from core.datasets import info
from pages import common

INSPECTED = "upload-inspected"   # session state: file hash -> its Inspection, or why it was refused
ADDED = "upload-added"           # session state: the id of the model just added, shown once
UPLOADS = "upload-count"         # session state: models added, part of the file picker's key
SCALE_NAMES = {1: "0-1 (pixels divided by 255)", 255: "0-255"}
WAIT_FOR_TRAINER_S = 20          # a file's check waits this long for a training job to end


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
        inspection = inspected(upload.name, content, ds.name)
        if inspection is None:
            return
        st.markdown(common.plain(inspection.summary))
        dataset, scale = questions(inspection, ds)
        if st.button("Add to the store", type="primary", icon=":material/add:", key="upload-add"):
            add_to_store(upload.name, content, dataset, scale)


def inspected(file_name: str, content: bytes, chosen: str) -> uploads.Inspection | None:
    """What the file holds, read once per file (by its hash) in a worker; None after saying why
    it cannot be added."""
    seen = st.session_state.setdefault(INSPECTED, {})
    digest = hashlib.sha256(content).hexdigest() + chosen   # what fits depends on the choice
    if digest not in seen:
        try:
            uploads.precheck(file_name, content)
            with checking("Checking the file in a separate process…"):
                seen[digest] = uploads.inspect(file_name, content, also=(chosen,))
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
    """A spinner while an uploaded file is read in its worker, which takes a trainer's place
    (JobRunner.lend): with one trainer, only while no model trains, as two TensorFlow workers
    at once would not fit in Community Cloud's 2.7 GB."""
    runner = common.job_runner()
    waiting = "Waiting for a training job to end, then c" + what[1:]
    busy = len(runner.training()) >= runner.slots()
    with st.spinner(waiting if busy else what), runner.lend(WAIT_FOR_TRAINER_S):
        yield


def trainer_busy(busy: jobs.TrainerBusy, again: str) -> None:
    """Why the file was not checked yet, and when to try again."""
    left = ("" if busy.seconds_left is None
            else f" (about {common.duration(busy.seconds_left)} left)")
    n = common.job_runner().slots()
    if n == 1:
        why = (f"A model is training on this server{left}. Model files are checked only while "
               "no model trains, so that the two fit in the server's memory.")
    else:
        why = (f"All {n} trainers of this server are training{left}. A model file is checked "
               "in a trainer's place, so that everything fits in the server's memory.")
    st.info(f"{why} Your file stays chosen: {again} when "
            f"{'the training' if n == 1 else 'one of them'} has ended.",
            icon=":material/hourglass_top:")


def questions(inspection: uploads.Inspection, ds: data.Dataset) -> tuple[str, int]:
    """What the file cannot tell: the dataset it was trained on and the pixel scale it read."""
    fits = list(inspection.fits)
    first = ds.name if ds.name in fits else inspection.suggested
    left, right = st.columns(2)
    dataset = left.selectbox("Trained on", fits, index=fits.index(first), key="upload-dataset",
                             format_func=lambda key: info(key).title,
                             help="Only the datasets whose images and classes the model fits.")
    scale = right.radio("Input scale it was trained on", uploads.SCALES,
                        format_func=SCALE_NAMES.get, key="upload-scale", horizontal=True,
                        help="0-1 when the notebook divided the pixels by 255, as most do.")
    return dataset, scale


def add_to_store(file_name: str, content: bytes, dataset: str, scale: int) -> None:
    """Convert, score and save the upload in a worker; then show the page again with its run."""
    try:
        with checking(f"Checking it and scoring it on {info(dataset).title}'s test images "
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
    classes = len(model.class_names)
    if verdict.near_chance(model.test_accuracy or 0, classes):
        st.warning(f"That is near chance ({verdict.chance(classes):.0%} among {classes} classes): "
                   "the input scale may be wrong: try the other one.", icon=":material/warning:")


def added_text(model: store.ModelInfo, ds: data.Dataset) -> str:
    """"Added m.h5: 98.1 % test accuracy on MNIST's 10,000 test images, 5,010 parameters, ..."."""
    up, title = model.uploaded or {}, info(model.dataset).title
    where = ("It is a run below" if model.dataset == ds.name else
             f"Choose {title} in the sidebar to see it among the runs")
    return (f"Added {up.get('file_name', model.id)} as {model.title}: "
            f"{model.recorded('test_accuracy', '.2%')} test accuracy on {title}'s "
            f"{model.meta.get('test_size', 0):,} test images, {model.recorded('params', ',')} "
            f"parameters, {up.get('bytes', 0) / 1024:,.0f} KB. {where}; it can be used on Draw "
            "and Compare like the others.")


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
