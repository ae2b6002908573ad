"""Train: pick a model and its settings, start a training job, watch it learn, keep the result."""

import streamlit as st

from core import charts, jobs, kinds, logreg, store, verdict, worker
from core.kinds import Spec
from pages import common

common.through_home()

st.title("Train a model")
ds = common.current_dataset()
if ds is None:
    st.stop()
st.caption(f"Data: {ds.description}. Validation takes {worker.VAL_FRACTION:.0%} of the training images; "
           f"the {len(ds.y_test):,} test images are only used to score the finished model.")
runner = common.job_runner()
me = common.session_id()
if runner.latest(me) is not None:
    common.remember_owner()  # the URL is dropped when a person switches pages and back


def settings() -> Spec:
    """The settings of the next job; a CNN recipe fills in the settings it was tuned with."""
    kind = st.segmented_control("Model", list(kinds.KINDS), default="logreg",
                                format_func=lambda k: kinds.KINDS[k].name,
                                key="train_kind") or "logreg"
    if kind == "logreg":
        chosen = {"C": st.select_slider(
                    "Regularisation C (smaller = simpler model)",
                    options=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0], value=0.1),
                "epochs": st.slider(f"Rounds ({logreg.ITERATIONS_PER_EPOCH} L-BFGS iterations "
                                    "each, every one a pass over the data)", 1, 50, 10,
                                    key="epochs-logreg"),
                "augment": st.toggle("Augment with shifted copies", key="augment-logreg",
                                     help="Adds each image's copies moved one pixel up, down, "
                                          "left and right: 5x the data and the work.")}
    else:
        name = st.radio("Recipe", list(kinds.RECIPES), horizontal=True,
                        key=f"train_recipe-{ds.name}",
                        index=list(kinds.RECIPES).index(kinds.default_recipe(ds.name)))
        recipe = kinds.RECIPES[name]
        st.caption(recipe.summary)
        label, what = kinds.AUGMENTATIONS[ds.info.augmentation]
        chosen = {"recipe": name,   # widget keys per recipe: choosing one restores its settings
                "epochs": st.slider("Epochs", 1, 30, recipe.epochs, key=f"epochs-{name}"),
                "batch_size": st.select_slider("Batch size", kinds.BATCH_SIZES,
                                               value=recipe.batch_size, key=f"batch-{name}"),
                "learning_rate": st.select_slider("Learning rate (Adam; the peak of a one-cycle "
                                                  "schedule)", kinds.LEARNING_RATES,
                                                  value=recipe.learning_rate, key=f"lr-{name}"),
                "schedule": st.selectbox("Learning-rate schedule", list(kinds.SCHEDULES),
                                         format_func=kinds.SCHEDULES.get, key=f"sched-{name}",
                                         index=list(kinds.SCHEDULES).index(recipe.schedule),
                                         help="One-cycle warms up over the first 15 % of the "
                                              "steps, then decays to zero along a cosine."),
                "augment": st.toggle(label, recipe.augment, key=f"augment-{name}",
                                     help=what)}
    n_max = len(ds.y_train)
    chosen["train_size"] = st.slider("Training images used", min(500, n_max), n_max, n_max,
                                     step=min(500, n_max), key=f"train_size-{ds.name}")
    return Spec(kind, ds.name, **chosen)


def estimate_note(spec: Spec) -> None:
    """Roughly how long these settings will take here, from speeds measured on this machine."""
    n_train = round(spec.train_size * (1 - worker.VAL_FRACTION))
    seconds = runner.estimate(spec, n_train)
    if seconds is not None:
        speed = runner.speeds[kinds.speed_key(spec)]
        startup = f", after ~{runner.startup_s:.0f} s to start TensorFlow" if (
            spec.kind == "cnn" and runner.startup_s) else ""
        st.caption(f"About **{duration(seconds)}** on this machine: {spec.epochs} × "
                   f"{n_train:,} images at {speed:,.0f} images/s{startup}, as measured here.")
    elif runner.speed_check() is not None:
        st.caption("Measuring how fast this machine trains each model, to estimate how long "
                   "yours will take…")
    else:
        st.caption("How long this takes here is not measured yet: the first epoch will tell.")


def duration(seconds: float) -> str:
    """a few seconds, 20 s, 1 min 30 s, 12 min: how long, in the words a person would use."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min" + (f" {rest} s" if rest and minutes < 10 else "")


def start(spec: Spec) -> None:
    try:
        runner.start(spec, owner=me)
        common.remember_owner()
    except jobs.Busy as e:
        st.warning(f"**One training job at a time.** {e}. It will free the trainer when it ends; "
                   "press Start again then. Your settings are kept.", icon=":material/hourglass:")


def progress_line(job: jobs.Job) -> str:
    parts = [f"Epoch {min(len(job.history) + 1, job.epochs)} of {job.epochs}" if job.active
             else f"{len(job.history)} of {job.epochs} epochs"]
    if job.eta_seconds is not None:
        parts.append(f"about {job.eta_seconds:.0f} s left")
    if job.images_per_s:
        parts.append(f"{job.images_per_s:,.0f} images/s")
    return " · ".join(parts) + f" — {job.message}"


def show_result(job: jobs.Job) -> None:
    if job.status == "done":
        word, sentence = verdict.training_verdict(job.history)
        cols = st.columns(2)
        cols[0].metric("Test accuracy", f"{job.test_accuracy:.2%}")
        cols[1].metric("Training time", f"{job.train_seconds:.1f} s")
        st.success(f"**{word.capitalize()}.** {sentence} Saved to the model store.",
                   icon=":material/check_circle:")
    elif job.status == "stopped":
        st.info("Stopped. Nothing was saved.", icon=":material/stop_circle:")
    elif job.status == "failed":
        st.error(f"Training failed: {job.error}", icon=":material/error:")


def job_view(job: jobs.Job, mine: bool) -> None:
    """Progress, live curves and the outcome of one job."""
    who = "Your" if mine else "Someone else's"
    st.subheader(f"{who} job: {job.title}")
    st.progress(job.progress, text=progress_line(job))
    if job.active and mine:
        if st.button("Stop", icon=":material/stop:", key=f"stop-{job.id}"):
            runner.stop(job.id)
            st.rerun(scope="fragment")
    if job.history:
        left, right = st.columns(2)
        left.plotly_chart(charts.training_curve(job.history, "accuracy", job.epochs),
                          key=f"acc-{job.id}")
        right.plotly_chart(charts.training_curve(job.history, "loss", job.epochs),
                           key=f"loss-{job.id}")
    learned_view(job)
    show_result(job)


def learned_view(job: jobs.Job) -> None:
    """What the model has learned so far, as images; the last epoch's stay after the job ends."""
    if job.learned is not None and job.history:
        st.plotly_chart(learned_figure(job.id, job.history[-1]["epoch"], job),
                        key=f"learned-{job.id}", config={"displayModeBar": False})


@st.cache_resource(max_entries=4, show_spinner=False)
def learned_figure(job_id: str, epoch: int, _job: jobs.Job):
    """The figure of one epoch's `learned` images, built once, not on every live refresh."""
    colour = _job.learned.ndim == 4
    if _job.spec.kind == "logreg":
        return charts.logreg_weights(
            _job.learned, _job.class_names, f"What each class's weights look like after epoch {epoch}",
            charts.WEIGHTS_NOTE[colour], height=340)
    return charts.first_layer_filters(
        _job.learned, f"The first layer's {len(_job.learned)} filters after epoch {epoch}",
        "Each is a small pattern the layer looks for " + charts.FILTERS_NOTE[colour])


def live_panel() -> None:
    """Redrawn every half second while a job runs; one full rerun when it ends."""
    job = runner.latest(me)
    running = runner.current()
    if running is not None and running is not job:
        job_view(running, mine=False)
    if job is not None:
        job_view(job, mine=True)
    elif running is None:
        st.info("No training yet. Choose a model and press **Start training**.",
                icon=":material/model_training:")
    if st.session_state.get("polling") and running is None and runner.speed_check() is None:
        st.session_state.polling = False
        st.rerun(scope="app")  # refresh the model list below and stop polling


def model_table(models: list[store.ModelInfo]) -> None:
    rows = [{"Model": m.label, "Test accuracy": m.test_accuracy,
             "Trained on": f"{m.meta.get('train_size', 0):,} images ({m.meta.get('dataset_source')})",
             "Training time (s)": m.meta.get("train_seconds"),
             "Epochs": m.meta.get("settings", {}).get("epochs"),
             "Built-in": m.builtin} for m in models]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "Test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        "Training time (s)": st.column_config.NumberColumn(format="%.1f")})


def manage(models: list[store.ModelInfo]) -> None:
    """Download or delete one of the models people trained here."""
    own = [m for m in models if not m.builtin]
    if not own:
        return
    chosen = st.selectbox("Model to download or delete", own, format_func=lambda m: m.label)
    cols = st.columns(4)
    for col, path in zip(cols, chosen.downloads):
        col.download_button(f"Download {path.suffix}", path.read_bytes(), file_name=f"{chosen.id}{path.suffix}",
                            icon=":material/download:", key=f"dl-{path.name}")
    if cols[3].button("Delete", icon=":material/delete:", type="tertiary"):
        try:
            store.delete(chosen.id)
        except (store.StoreError, OSError) as e:
            st.error(f"Could not delete it: {e}")
        else:
            st.rerun()


left, right = st.columns([1, 2], gap="large")
with left:
    runner.check_speed(ds.name)
    spec = settings()
    estimate_note(spec)
    if st.button("Start training", type="primary", icon=":material/play_arrow:", key="start"):
        start(spec)
with right:
    active = runner.current() is not None or runner.speed_check() is not None
    st.session_state.polling = active
    st.fragment(live_panel, run_every=0.5 if active else None)()

st.divider()
st.subheader("Model store")
stored = common.models(ds.name)
if stored:
    model_table(stored)
    manage(stored)
else:
    st.caption(f"No models for {ds.title} yet. Train one above.")
