"""The Train page's Start and line: starting jobs (or joining the same run), a finished run
offered instead of trained twice, the jobs waiting for a trainer, and how many trainers there are."""

import streamlit as st

from core import fair_queue, jobs, kinds, store
from core.executors import LocalExecutor
from pages import common, runs
from pages.train_job import people, run_name

OFFER = "train-offer"   # session state: [(definition, model id)] of finished runs Start found


def start(runner: jobs.JobRunner, specs: list[kinds.Spec], me: str,
          unless_finished: bool = True) -> bool:
    """Queue `specs` (or join the same runs); whether they were taken. A finished run is
    offered instead (see offer), unless `unless_finished` is False (Train again)."""
    st.session_state.pop(OFFER, None)
    try:
        runner.start_all(specs, owner=me, unless_finished=unless_finished)
        common.remember_owner()
        return True
    except jobs.AlreadyTrained as e:
        st.session_state[OFFER] = [(fair_queue.definition(s), m.id) for s, m in e.runs]
    except jobs.QueueFull as e:
        st.error(f"**Not queued.** {e} Your settings are kept.", icon=":material/block:")
    return False


def offered(specs: list[kinds.Spec]) -> list[tuple[kinds.Spec, store.ModelInfo]]:
    """The finished runs Start found for these very settings (forgotten once they change)."""
    held = st.session_state.get(OFFER) or []
    by_definition = {fair_queue.definition(s): s for s in specs}
    try:
        found = [(by_definition[d], store.get(model_id)) for d, model_id in held]
    except (KeyError, store.StoreError):   # other settings now, or the run was deleted
        st.session_state.pop(OFFER, None)
        return []
    return found


def offer(runner: jobs.JobRunner, specs: list[kinds.Spec], me: str, ds) -> None:
    """Settings already trained: open that run (or those runs), or train again with new seeds."""
    found = offered(specs)
    if not found:
        return
    if len(specs) == 1:
        (spec, model), = found
        st.info(f"**Already trained.** {spec.title} with these settings finished on "
                f"{model.date} (UTC) with **{model.recorded('test_accuracy', '.2%')}** test "
                "accuracy.", icon=":material/history:")
    else:
        listed = "; ".join(f"{run_name(s)}: {m.date} (UTC), {m.recorded('test_accuracy', '.2%')}"
                           for s, m in found)
        st.info(f"**{len(found)} of these runs are already trained** ({listed}).",
                icon=":material/history:")
    again = [runner.again(s) if any(s is f for f, _ in found) else s for s in specs]
    left, right = st.columns(2)
    rest = len(specs) - len(found)
    label = ("Open that run" if len(specs) == 1 else
             f"Open those, train the other {rest}" if rest else "Open those runs")
    if left.button(label, icon=":material/open_in_browser:", key="offer-open"):
        st.session_state.pop(OFFER, None)
        fresh = [s for s in specs if not any(s is f for f, _ in found)]
        if len(specs) == 1:
            runner.open(found[0][1], me)
            common.remember_owner()
        else:
            runs.tick(ds, [m.id for _, m in found])
        if not fresh or start(runner, fresh, me):
            st.rerun()
    if (right.button("Train again", icon=":material/replay:", key="offer-again")
            and start(runner, again, me, unless_finished=False)):
        st.rerun()
    seeds = ", ".join(f"{s.seed} instead of {f.seed}" for s, f in zip(again, specs) if s != f)
    st.caption(f"Train again starts from other random weights (seed {seeds}), so its result "
               "can differ a little." + (" The finished runs are ticked in Runs below."
                                         if len(specs) > 1 else ""))


def trainers_text(runner: jobs.JobRunner) -> str:
    """How many jobs train at once here (or on the cluster jobs go to), in one short sentence."""
    n, name = runner.slots(), runner.executor.name
    where = "This server" if name == LocalExecutor.name else name[0].upper() + name[1:]
    at_once = "one job at a time" if n == 1 else f"{n} jobs at once"
    return (f"{where} has {'one trainer' if n == 1 else f'{n} trainers'}: it trains "
            f"{at_once}, and people take turns.")


def queue_view(runner: jobs.JobRunner, me: str) -> None:
    """This person's jobs waiting for a trainer: place in line, when, and Cancel (Leave for
    a run others wait for too); how many trainers there are."""
    waiting = runner.waiting(me)
    others = len(runner.queue) - len(waiting)
    if not waiting:
        if others:
            st.caption(f"{others} job{'s' if others > 1 else ''} of other people waiting "
                       f"for a trainer. {trainers_text(runner)}")
        else:
            st.caption(trainers_text(runner))
        return
    st.markdown("**Your jobs waiting for a trainer**")
    for job in waiting:
        line, cancel = st.columns([5, 1], vertical_alignment="center")
        shared = f" · shared with {people(job.others(me))}" if job.others(me) else ""
        line.markdown(f"**{ordinal(runner.place(job))}** in line · {waiting_name(job, waiting)} · "
                      f"{starts_text(runner.starts_in(job))}{shared}")
        leave = bool(job.others(me))
        if cancel.button("Leave" if leave else "Cancel", key=f"cancel-{job.id}",
                         icon=":material/logout:" if leave else ":material/close:",
                         type="tertiary"):
            runner.cancel(job.id, owner=me)
            common.rerun_fragment()
    if len(waiting) > 1 and st.button(f"Cancel all {len(waiting)} waiting", key="cancel-all",
                                      icon=":material/clear_all:", type="tertiary"):
        for job in waiting:
            runner.cancel(job.id, owner=me)
        common.rerun_fragment()
    after = ("the one before it ends" if runner.slots() == 1 else "a trainer is free")
    st.caption(f"Each starts by itself when {after}. {trainers_text(runner)} Waiting jobs are "
               "kept in this server's memory only: if the server restarts they are gone "
               "(finished runs are kept).")


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


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
