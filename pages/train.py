"""Train: pick a model and its settings, start a training job, watch it learn, keep the result."""

import streamlit as st

from core import (
    glossary,
    jobs,
    kinds,
    logreg,
    own_training,
    runs_charts,
    transfer,
    verdict,
    worker,
)
from core.kinds import SETTINGS, Spec
from pages import cluster_note, common, runs, train_queue
from pages.picker import DATASETS_PAGE
from pages.train_job import job_view, run_name

common.through_home()

st.title("Train a model")
ds = common.current_dataset()
if ds is None:
    st.stop()
problem = own_training.refusal(ds.name)   # None for the built-in sets
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
                             f"\n\n**One-cycle**: {glossary.explain('one-cycle')}"
                             f"\n\n**Label smoothing**: {glossary.explain('label smoothing')}")
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
        chosen |= start_from(name, chosen["epochs"])
    chosen["train_size"] = train_size(len(ds.y_train))
    return Spec(kind, ds.name, **chosen)


def start_from(recipe: str, epochs: int) -> dict:
    """Where the CNN's convolutions start (transfer learning, core.transfer), as the Spec's
    start_from and base: offered for a Deeper on sketches (from the built-in MNIST CNN) and on
    photos for the recipe of the most accurate CIFAR-10 CNN in the store; said in a caption."""
    scratch = transfer.spec_fields(transfer.SCRATCH)
    if transfer.from_store(ds.name):
        model = transfer.best_base(common.models(transfer.PHOTO_DATASET))
        if model is None:
            st.caption(transfer.GET_A_BASE)
            return scratch
        base, need = transfer.base_record(model), model.recipe
    elif transfer.offered(ds.name):
        base, need = None, transfer.BASE_RECIPE
    else:
        return scratch
    if recipe != need:
        st.caption(f"Transfer learning: to start from {transfer.name(base)}, choose {need}, "
                   "its recipe.")
        return scratch
    offered = transfer.options(base)
    chosen = st.radio("Start from", list(offered), format_func=offered.get,
                      key=f"start_from-{ds.name}",
                      help=f"**Transfer learning**: {glossary.explain('transfer learning')}")
    if chosen == transfer.FINE_TUNE and epochs < 2:
        st.caption("Fine-tuning needs 2 epochs or more (the first half frozen): this 1 epoch "
                   "trains with the convolutions frozen.")
        chosen = transfer.FROZEN
    st.caption(f"Starts from {transfer.claim(chosen, epochs, base)}.")
    return transfer.spec_fields(chosen, base)


def train_size(n_max: int) -> int:
    """How many training images to use: a slider in steps that end on all of them (500s for
    the built-in sets, finer for a small set of a person's own); all when there is no choice."""
    step = next(s for s in (500, 100, 10, 1) if n_max >= 10 * s or s == 1)
    if n_max <= step:
        return n_max
    return st.slider(SETTINGS["train_size"].label, n_max % step or step, n_max, n_max,
                     step=step, key=f"train_size-{ds.name}",
                     help=f"**Validation**: {glossary.explain('validation')}")


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
        st.caption("How long this takes here is not measured yet: the first "
                   f"{spec.unit} will tell.")


def failure_warning(spec: Spec) -> None:
    """A warning when these settings are known to end near chance, with what to change."""
    warning = verdict.likely_to_fail(spec, worker.images_per_epoch(spec))
    if warning:
        st.warning(f"**Likely to stay near guessing.** {warning}", icon=":material/warning:")


def sweep_choice(spec: Spec) -> list[Spec]:
    """The jobs Start makes: `spec` alone, or one per value of one setting ("a sweep")."""
    if not st.toggle("Try several values", key="sweep",   # short: whole in the narrow column
                     help="Of one setting: trains one run per value, one after another, with "
                          "everything else as set above, and overlays their curves."):
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


def experiment_view(job: jobs.Job | None) -> None:
    """A sweep's runs overlaid as they train: each run named by its value of the swept setting
    (a run it shares with someone else's job too)."""
    experiment = next((e for j in [job, *runner.waiting(me)] if j is not None
                       for e in [j.spec.experiment, *sorted(j.also_in)] if e), None)
    if experiment is None:
        return
    members = [j for j in runner.jobs.values() if j.in_sweep(experiment)
               and j.status != "cancelled"]
    swept, kind = kinds.swept_setting(experiment), members[0].spec.kind
    curves = {kinds.settings_text(j.spec, [swept]): j.history
              for j in sorted(members, key=lambda j: j.queued_at) if j.history}
    done = sum(j.status == "done" for j in members)
    st.subheader(f"Sweep of {kinds.in_sentence(SETTINGS[swept].label_of(kind))}: "
                 f"{done} of {len(members)} runs done")
    if curves:
        left, right = st.columns(2)
        for column, metric in ((left, "accuracy"), (right, "loss")):
            column.plotly_chart(runs_charts.runs_overlay(curves, metric, x="epoch",
                                                         kinds_of=dict.fromkeys(curves, kind)),
                                key=f"sweep-{metric}-{experiment}")


def live_panel() -> None:
    """Redrawn every half second while a job runs or waits; a full rerun when one ends."""
    job = runner.latest(me)
    others = [j for j in runner.training() if not j.is_for(me)]
    if others:
        job_view(runner, others[0], me)
        if len(others) > 1:
            st.caption(f"And {len(others) - 1} more of other people's jobs training now.")
    if job is not None:
        job_view(runner, job, me)
    elif not others and not runner.waiting(me):
        st.info("No training yet. Choose a model and press **Start training**.",
                icon=":material/model_training:")
    experiment_view(job)
    train_queue.queue_view(runner, me)
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
    if problem:   # a dataset a person made, with a class still too small
        st.warning(f"**Not ready to train.** {problem}", icon=":material/block:")
        st.page_link(DATASETS_PAGE, label="Add examples on Your data", icon=":material/dataset:")
    if st.button("Start training", type="primary", icon=":material/play_arrow:", key="start",
                 disabled=not specs or problem is not None):
        train_queue.start(runner, specs, me)
    train_queue.offer(runner, specs, me, ds)
with right:
    active = bool(runner.current() or runner.speed_check() or runner.queue)
    st.fragment(live_panel, run_every=0.5 if active else None)()

st.divider()
st.subheader("Runs")
runs.section(ds)
