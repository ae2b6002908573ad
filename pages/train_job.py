"""One job on the Train page: its progress, live curves, what it learned and how it ended;
for a shared run, who it is shared with and who may stop it."""

import streamlit as st

from core import (
    charts,
    datasets,
    events,
    glossary,
    jobs,
    kinds,
    store,
    transfer,
    verdict,
)
from pages import common

VERDICT_BOX = {  # a verdict's box and icon: a check only for a run that converged
    "converging": (st.success, ":material/check_circle:"),
    "done": (st.info, ":material/info:"),
    "underfitting": (st.warning, ":material/trending_up:"),
    "overfitting": (st.warning, ":material/warning:"),
    "did not learn": (st.error, ":material/block:"),
}


def run_name(spec: kinds.Spec) -> str:
    """A sweep's run by its swept setting ("lr 0.003"), any other job by its title."""
    if spec.swept is None:
        return spec.title
    return kinds.settings_text(spec, [spec.swept])


def people(n: int) -> str:
    """"1 other person", "3 other people"."""
    return f"{n} other {'person' if n == 1 else 'people'}"


def sharing_text(job: jobs.Job, me: str) -> str | None:
    """Who else this run is for and who may stop it, for a run `me` started or joined."""
    others = job.others(me)
    if not others or job.opened or not job.is_for(me):
        return None
    who = ("" if job.ended else " Only you can stop it." if job.owner == me else
           " Only the person who started it can stop it; **Leave** takes it off your page.")
    return (f"Shared with {people(others)}: the same settings were started more than once, "
            f"so the run is trained once for everyone.{who}")


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
        parts.append(f"{job.images_per_s:,.0f} images/s overall")
    return " · ".join(parts) + f" — {job.message}"


def heading(job: jobs.Job, me: str) -> str:
    """"Your job: CNN (Fast) on MNIST", a sweep's run and a seed other than the first named;
    a run opened from the store says when it was trained."""
    who = "Your" if job.is_for(me) else "Someone else's"
    extra = [run_name(job.spec)] if job.spec.swept else []
    extra += [f"seed {job.spec.seed}"] if job.spec.seed else []
    extra += [transfer.phrase(job.spec.start_from, base_of(job))] if job.spec.kind == "cnn" \
        and transfer.base_dataset(job.spec.dataset) else []
    title = " · ".join([job.title, *extra])
    if job.opened:
        return f"{who} run: {title}"
    return f"{who} job: {title}"


def base_of(job: jobs.Job) -> dict | None:
    """What a photo CNN's job started from: as its saved run records it, else as the store has
    the base now (a base gone since is named by its dataset alone)."""
    if job.spec.base is None:
        return None
    try:
        if job.model_id:
            return store.get(job.model_id).meta.get("base")
        return transfer.base_record(store.get(job.spec.base))
    except store.StoreError:
        return {"id": job.spec.base, "dataset": transfer.PHOTO_DATASET}


def job_view(runner: jobs.JobRunner, job: jobs.Job, me: str) -> None:
    """Progress and live curves of one job, and how it ended for those whose run it is; Stop
    for its starter, Leave for those who joined it."""
    st.subheader(heading(job, me))
    if (shared := sharing_text(job, me)) is not None:
        st.caption(shared)
    st.progress(job.progress, text=progress_line(job))
    if job.active and job.owner == me:
        if st.button("Stop", icon=":material/stop:", key=f"stop-{job.id}"):
            runner.stop(job.id)
            common.rerun_fragment()
    elif job.active and me in job.joiners and st.button(
            "Leave", icon=":material/logout:", key=f"leave-{job.id}", type="tertiary",
            help="Takes this run off your page; it goes on for the others."):
        runner.leave(job.id, me)
        st.rerun(scope="app")
    if job.history:
        left, right = st.columns(2)
        for column, metric in zip((left, right), ("accuracy", "loss")):
            column.plotly_chart(curve_figure(job.id, len(job.history), metric, job),
                                key=f"{metric}-{job.id}")
    learned_view(job)
    if job.is_for(me):   # another's run that ended since the page listed it goes at the rerun
        show_result(job, me)


@st.cache_resource(max_entries=16, show_spinner=False)
def curve_figure(job_id: str, points: int, metric: str, _job: jobs.Job):
    """The job's `metric` curve over its first `points` points, built once for every page
    that watches it (a class of thirty polls twice a second), not on every refresh."""
    return charts.training_curve(_job.history[:points], metric, _job.epochs, unit=_job.spec.unit,
                                 guessing=guessing(_job) if metric == "accuracy" else None)


def guessing(job: jobs.Job) -> float | None:
    """The accuracy of a guess on the job's dataset (one class in its number of classes)."""
    try:
        return verdict.chance(len(datasets.info(job.spec.dataset).class_names))
    except ValueError:
        return None


def show_result(job: jobs.Job, me: str) -> None:
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
        st.caption(verdict.saved_sentence(meta) + trained_when(job, meta))
    elif job.status == "stopped" and me in job.joiners:
        st.info("The person who started this shared run stopped it, so nothing was saved. "
                "Press **Start training** to train it yourself.", icon=":material/stop_circle:")
    elif job.status == "stopped":
        st.info("Stopped. Nothing was saved.", icon=":material/stop_circle:")
    elif job.status == "failed":
        st.error(f"Training failed: {job.error}", icon=":material/error:")


def trained_when(job: jobs.Job, meta: dict) -> str:
    """For a run opened from the store: " It was trained on 2026-05-01 10:30 (UTC)"."""
    if not job.opened:
        return ""
    return f" It was trained on {meta.get('created_at', '')[:16].replace('T', ' ')} (UTC)."


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


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
