"""Train: pick a model and its settings, start a training job, watch it learn, keep the result."""

import streamlit as st

from core import charts, events, glossary, jobs, kinds, logreg, runs_charts, store, verdict, worker
from core.kinds import SETTINGS, Spec
from pages import cluster_note, common, runs

common.through_home()

st.title("Train a model")
ds = common.current_dataset()
if ds is None:
    st.stop()
st.caption(f"Data: {ds.description}. Validation takes {worker.VAL_FRACTION:.0%} of the training images; "
           f"the {len(ds.y_test):,} test images are only used to score the finished model.")
runner = common.job_runner()
cluster_note.show(runner.executor)
me = common.session_id()
if runner.latest(me) is not None or runner.waiting(me):
    common.remember_owner()  # the URL is dropped when a person switches pages and back


def settings() -> Spec:
    """The settings of the next job; a CNN recipe fills in the settings it was tuned with."""
    kind = st.segmented_control("Model", list(kinds.KINDS), default="logreg",
                                format_func=lambda k: kinds.KINDS[k].name,
                                key="train_kind") or "logreg"
    if kind == "logreg":
        first = kinds.default_spec("logreg", ds.name)
        chosen = {"C": st.select_slider(SETTINGS["C"].label, options=kinds.C_VALUES,
                                        value=first.C, help=explained("C", kind)),
                "epochs": st.slider(f"{SETTINGS['epochs'].label_of(kind)} "
                                    f"({logreg.ITERATIONS_PER_EPOCH} L-BFGS iterations each)",
                                    1, 50, first.epochs, key="epochs-logreg",
                                    help=f"{explained('epochs', kind)} **L-BFGS**: "
                                         f"{glossary.explain('L-BFGS')}"),
                "augment": st.toggle(kinds.augmentation(kind, ds.name).label, first.augment,
                                     key="augment-logreg",
                                     help=f"{explained('augment', kind)} Here: "
                                          f"{kinds.augmentation_text(kind, ds.name)}")}
    else:
        name = st.radio("Recipe", list(kinds.RECIPES), horizontal=True,
                        key=f"train_recipe-{ds.name}",
                        index=list(kinds.RECIPES).index(kinds.default_recipe(ds.name)),
                        help=f"**Batch normalisation**: {glossary.explain('batch normalisation')}"
                             f"\n\n**One-cycle**: {glossary.explain('one-cycle')}")
        recipe = kinds.RECIPES[name]
        st.caption(recipe.summary)
        label, _, what = kinds.augmentation("cnn", ds.name)
        chosen = {"recipe": name,   # widget keys per recipe: choosing one restores its settings
                "epochs": st.slider(SETTINGS["epochs"].label_of(kind), 1, 30, recipe.epochs,
                                    key=f"epochs-{name}", help=explained("epochs", kind)),
                "batch_size": st.select_slider(SETTINGS["batch_size"].label, kinds.BATCH_SIZES,
                                               value=recipe.batch_size, key=f"batch-{name}",
                                               help=explained("batch_size", kind)),
                "learning_rate": st.select_slider(SETTINGS["learning_rate"].label,
                                                  kinds.LEARNING_RATES,
                                                  value=recipe.learning_rate, key=f"lr-{name}",
                                                  help=explained("learning_rate", kind)
                                                  + " With one-cycle, this is its peak."),
                "schedule": st.selectbox("Learning-rate schedule", list(kinds.SCHEDULES),
                                         format_func=kinds.SCHEDULES.get, key=f"sched-{name}",
                                         index=list(kinds.SCHEDULES).index(recipe.schedule),
                                         help=f"**One-cycle**: {explained('schedule', kind)}"),
                "augment": st.toggle(label, recipe.augment, key=f"augment-{name}",
                                     help=f"{explained('augment', kind)} Here: {what}")}
    n_max = len(ds.y_train)
    chosen["train_size"] = st.slider(SETTINGS["train_size"].label, min(500, n_max), n_max, n_max,
                                     step=min(500, n_max), key=f"train_size-{ds.name}",
                                     help=f"**Validation**: {glossary.explain('validation')}")
    return Spec(kind, ds.name, **chosen)


def explained(key: str, kind: str) -> str:
    """The glossary's line for setting `key` of a `kind` (a round or an epoch for "epochs")."""
    return glossary.explain(SETTINGS[key].glossary_term(kind))


def estimate_note(spec: Spec) -> None:
    """How long these settings will take here, as a range, from what jobs cost on this machine
    (core.costs: measured by the speed check and by every run that finished)."""
    n_train = worker.images_per_epoch(spec)
    found = runner.costs.estimate(spec, n_train)
    if found is not None:
        (fixed, per_unit, speed), *_ = runner.costs.parts(spec)
        unit = kinds.KINDS[spec.kind].unit
        each = f" and {per_unit:.1f} s a {unit}" if per_unit >= 0.05 else ""
        st.caption(f"About **{common.duration_range(*found[1:])}** on {runner.executor.name}: "
                   f"{fixed:.0f} s to start and to save{each}, plus {spec.epochs} × {n_train:,} "
                   f"images at {speed:,.0f} images/s, as measured here.")
    elif (check := runner.speed_check()) is not None:
        done, total = runner.costs.progress(kinds.speed_cases(ds.name))
        st.caption(f"Measuring how fast {runner.executor.name} trains each model ({done} of {total} "
                   f"measured, {check.seconds:.0f} s so far; the default models come first), "
                   "to estimate how long yours will take…")
    else:
        st.caption("How long this takes here is not measured yet: the first epoch will tell.")


def failure_warning(spec: Spec) -> None:
    """A warning when these settings are known to end near chance, with what to change."""
    warning = verdict.likely_to_fail(spec, worker.images_per_epoch(spec))
    if warning:
        st.warning(f"**Likely to stay near guessing.** {warning}", icon=":material/warning:")


def sweep_choice(spec: Spec) -> list[Spec]:
    """The jobs Start makes: `spec` alone, or one per value of one setting ("a sweep")."""
    if not st.toggle("Try several values of one setting", key="sweep",
                     help="Trains one run per value, one after another, with everything else "
                          "as set above, and overlays their curves."):
        return [spec]
    setting = st.selectbox("Setting to vary", kinds.SWEEPABLE[spec.kind],
                           format_func=lambda k: SETTINGS[k].label_of(spec.kind),
                           key=f"sweep-setting-{spec.kind}")
    low, high = kinds.SWEEP_SIZES
    values = st.multiselect(f"Values to try ({low} to {high})",
                            kinds.sweep_options(setting, len(ds.y_train)),
                            format_func=SETTINGS[setting].text, max_selections=high,
                            key=f"sweep-values-{spec.kind}-{setting}-{ds.name}")
    try:
        return kinds.sweep(spec, setting, values)
    except ValueError as e:
        st.caption(f"Choose the values: {e}.")
        return []


def sweep_note(specs: list[Spec]) -> None:
    """What a sweep will train, and roughly how long all of it takes here."""
    names = ", ".join(run_name(s) for s in specs)
    times = [runner.costs.estimate(s, worker.images_per_epoch(s)) for s in specs]
    total = (f", about **{common.duration_range(sum(t[1] for t in times), sum(t[2] for t in times))}**"
             " in all") if None not in times else ""
    st.caption(f"{len(specs)} runs, one after another{total}: {names}.")


def run_name(spec: Spec) -> str:
    """A sweep's run by its swept setting ("lr 0.003"), any other job by its title."""
    if spec.swept is None:
        return spec.title
    return kinds.settings_text(spec, [spec.swept])


def start(specs: list[Spec]) -> None:
    try:
        runner.start_all(specs, owner=me)
        common.remember_owner()
    except jobs.QueueFull as e:
        st.error(f"**Not queued.** {e} Your settings are kept.", icon=":material/block:")


def progress_line(job: jobs.Job) -> str:
    """The epoch (an LR's round) it is in, or how far it got; time left, speed and what the
    worker says."""
    reached = job.history[-1]["epoch"] if job.history else 0
    unit = job.spec.unit
    parts = [f"{unit.capitalize()} {min(int(job.epochs_done) + 1, job.epochs)} of {job.epochs}"
             if job.active else f"{events.epoch_text(reached)} of {job.spec.units(job.epochs)}"]
    if job.eta_seconds is not None:
        parts.append(f"about {job.eta_seconds:.0f} s left")
    if job.images_per_s:
        parts.append(f"{job.images_per_s:,.0f} images/s")
    return " · ".join(parts) + f" — {job.message}"


VERDICT_BOX = {  # a verdict's box and icon: a check only for a run that converged
    "converging": (st.success, ":material/check_circle:"),
    "done": (st.info, ":material/info:"),
    "underfitting": (st.warning, ":material/trending_up:"),
    "overfitting": (st.warning, ":material/warning:"),
    "did not learn": (st.error, ":material/block:"),
}


def show_result(job: jobs.Job) -> None:
    """How the job ended; for a saved run, its scores and verdict from its own record."""
    if job.status == "done":
        try:
            meta = store.get(job.model_id).meta
        except store.StoreError as e:
            st.warning(f"Training finished, but its run cannot be read: {e}.",
                       icon=":material/warning:")
            return
        word, sentence = verdict.record_verdict(meta)
        cols = st.columns(2)
        cols[0].metric("Test accuracy", f"{meta['test_accuracy']:.2%}",
                       help=glossary.explain("test accuracy"))
        cols[1].metric("Training time", f"{meta['train_seconds']:.1f} s")
        box, icon = VERDICT_BOX[word]
        box(f"**{word.capitalize()}.** {sentence}", icon=icon)
        st.caption(verdict.saved_sentence(meta))
    elif job.status == "stopped":
        st.info("Stopped. Nothing was saved.", icon=":material/stop_circle:")
    elif job.status == "failed":
        st.error(f"Training failed: {job.error}", icon=":material/error:")


def job_view(job: jobs.Job, mine: bool) -> None:
    """Progress, live curves and the outcome of one job."""
    who = "Your" if mine else "Someone else's"
    swept = f" · {run_name(job.spec)}" if job.spec.swept else ""
    st.subheader(f"{who} job: {job.title}{swept}")
    st.progress(job.progress, text=progress_line(job))
    if job.active and mine:
        if st.button("Stop", icon=":material/stop:", key=f"stop-{job.id}"):
            runner.stop(job.id)
            st.rerun(scope="fragment")
    if job.history:
        left, right = st.columns(2)
        left.plotly_chart(charts.training_curve(job.history, "accuracy", job.epochs,
                                                unit=job.spec.unit), key=f"acc-{job.id}")
        right.plotly_chart(charts.training_curve(job.history, "loss", job.epochs,
                                                 unit=job.spec.unit), key=f"loss-{job.id}")
    learned_view(job)
    show_result(job)


def learned_view(job: jobs.Job) -> None:
    """What the model has learned so far, as images; the last point's stay after the job ends."""
    if job.learned is not None and job.history:
        st.plotly_chart(learned_figure(job.id, job.history[-1]["epoch"], job),
                        key=f"learned-{job.id}", config={"displayModeBar": False})


@st.cache_resource(max_entries=4, show_spinner=False)
def learned_figure(job_id: str, epoch: float, _job: jobs.Job):
    """The figure of the `learned` images at one curve point, built once, not on every refresh."""
    colour = _job.learned.ndim == 4
    after = f"after {_job.spec.unit} {events.epoch_text(epoch)}"
    if _job.spec.kind == "logreg":
        return charts.logreg_weights(
            _job.learned, _job.class_names, f"What each class's weights look like {after}",
            charts.WEIGHTS_NOTE[colour], height=340)
    return charts.first_layer_filters(
        _job.learned, f"The first layer's {len(_job.learned)} filters {after}",
        "Each is a small pattern the layer looks for " + charts.FILTERS_NOTE[colour])


def queue_view() -> None:
    """This person's jobs waiting for the trainer: place in line, when, and Cancel."""
    waiting = runner.waiting(me)
    others = len(runner.queue) - len(waiting)
    if not waiting:
        if others:
            st.caption(f"{others} job{'s' if others > 1 else ''} of other people waiting "
                       "for the trainer.")
        return
    st.markdown("**Your jobs waiting for the trainer**")
    for job in waiting:
        line, cancel = st.columns([5, 1], vertical_alignment="center")
        line.markdown(f"**{ordinal(runner.place(job))}** in line · {waiting_name(job, waiting)} · "
                      f"{starts_text(runner.starts_in(job))}")
        if cancel.button("Cancel", key=f"cancel-{job.id}", icon=":material/close:",
                         type="tertiary"):
            runner.cancel(job.id)
            st.rerun(scope="fragment")
    if len(waiting) > 1 and st.button(f"Cancel all {len(waiting)} waiting", key="cancel-all",
                                      icon=":material/clear_all:", type="tertiary"):
        for job in waiting:
            runner.cancel(job.id)
        st.rerun(scope="fragment")
    st.caption("Each starts by itself when the one before it ends. Waiting jobs are kept in "
               "this server's memory only: if the server restarts they are gone (finished "
               "runs are kept).")


def waiting_name(job: jobs.Job, waiting: list[jobs.Job]) -> str:
    """Its title, and the settings that tell it from this person's other waiting jobs of the
    same title (a sweep's run: its swept setting)."""
    twins = [j.spec for j in waiting if j.title == job.title]
    keys = kinds.differing(twins) or ([job.spec.swept] if job.spec.swept else [])
    return " · ".join([job.title, kinds.settings_text(job.spec, keys)] if keys else [job.title])


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def starts_text(seconds: float | None) -> str:
    if seconds is None:
        return "when it starts is not measured yet"
    return f"starts in about {common.duration(seconds)}"


def experiment_view(job: jobs.Job | None) -> None:
    """A sweep's runs overlaid as they train: each run named by its value of the swept setting."""
    experiment = next((j.spec.experiment for j in [job, *runner.waiting(me)]
                       if j is not None and j.spec.experiment), None)
    if experiment is None:
        return
    members = [j for j in runner.jobs.values() if j.spec.experiment == experiment
               and j.status != "cancelled"]
    curves = {run_name(j.spec): j.history for j in sorted(members, key=lambda j: j.queued_at)
              if j.history}
    first = members[0].spec
    swept = kinds.in_sentence(SETTINGS[first.swept].label_of(first.kind))
    done = sum(j.status == "done" for j in members)
    st.subheader(f"Sweep of {swept}: {done} of {len(members)} runs done")
    if curves:
        left, right = st.columns(2)
        for column, metric in ((left, "accuracy"), (right, "loss")):
            column.plotly_chart(runs_charts.runs_overlay(curves, metric, x="epoch",
                                                         kinds_of=dict.fromkeys(curves, first.kind)),
                                key=f"sweep-{metric}-{experiment}")


def live_panel() -> None:
    """Redrawn every half second while a job runs or waits; a full rerun when one ends."""
    job = runner.latest(me)
    running = runner.current()
    if running is not None and running is not job:
        job_view(running, mine=False)
    if job is not None:
        job_view(job, mine=True)
    elif running is None and not runner.waiting(me):
        st.info("No training yet. Choose a model and press **Start training**.",
                icon=":material/model_training:")
    experiment_view(job)
    queue_view()
    ended = sum(j.ended for j in runner.jobs.values())
    if st.session_state.setdefault("jobs_ended", ended) != ended:
        st.session_state.jobs_ended = ended
        st.rerun(scope="app")  # a run was saved: refresh the runs below (and stop polling)


left, right = st.columns([1, 2], gap="large")
with left:
    runner.check_speed(ds.name)
    spec = settings()
    measuring = runner.speed_check() is not None   # the estimate appears as soon as measured
    st.fragment(estimate_note, run_every=1.0 if measuring else None)(spec)
    failure_warning(spec)
    specs = sweep_choice(spec)
    if len(specs) > 1:
        sweep_note(specs)
    if st.button("Start training", type="primary", icon=":material/play_arrow:", key="start",
                 disabled=not specs):
        start(specs)
with right:
    active = bool(runner.current() or runner.speed_check() or runner.queue)
    st.fragment(live_panel, run_every=0.5 if active else None)()

st.divider()
st.subheader("Runs")
runs.section(ds)
