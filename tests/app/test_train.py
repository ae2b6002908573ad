"""Train page under AppTest: settings, a real (tiny) job, and the model store listing."""

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from core import kinds, store
from core.kinds import Spec
from pages import common


@pytest.fixture
def train_page(open_page):
    return lambda: open_page("pages/train.py", timeout=30)


def run_until(at: AppTest, done, timeout: float = 120) -> AppTest:
    """Rerun the page (as the live panel's timer would) until `done(at)` holds."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, [m.value for m in at.markdown]
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def figure_titled(at: AppTest, title: str) -> dict:
    """The page's Plotly figure with this title, as the JSON the browser gets."""
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    found = [f for f in figures if f["layout"].get("title", {}).get("text") == title]
    assert found, [f["layout"].get("title") for f in figures]
    return found[0]


def test_page_shows_the_settings_and_an_empty_state(train_page):
    at = train_page()
    assert at.title[0].value == "Train a model"
    assert any("the 10,000 test images are only used to score" in c.value for c in at.caption)
    assert at.slider(key="epochs-logreg").label.startswith("Rounds (20 L-BFGS iterations")
    assert at.slider(key="train_size-mnist").value == 60_000


def test_a_cnn_recipe_brings_its_own_settings(train_page):
    at = train_page()
    at.button_group[0].set_value("cnn").run()
    assert at.radio(key="train_recipe-mnist").value == "Fast"
    assert at.slider(key="epochs-Fast").value == 2
    assert at.selectbox(key="sched-Fast").value == "one-cycle"
    at.radio(key="train_recipe-mnist").set_value("Classic").run()
    assert at.slider(key="epochs-Classic").value == 12
    assert at.selectbox(key="sched-Classic").value == "constant"
    assert any("keras.io's mnist_convnet" in c.value for c in at.caption)
    at.radio(key="train_recipe-mnist").set_value("Sprint").run()
    assert (at.slider(key="epochs-Sprint").value, at.select_slider(key="lr-Sprint").value) == (1, 0.01)
    assert any("label smoothing" in c.value for c in at.caption)
    assert "**Label smoothing**: Training towards" in at.radio(key="train_recipe-mnist").help


@pytest.mark.speed_check
def test_the_page_says_how_long_the_settings_will_take(train_page):
    at = train_page()
    notes = lambda at: [c.value for c in at.caption]  # noqa: E731
    run_until(at, lambda at: any(n.startswith("About **") for n in notes(at)), timeout=180)
    note = next(n for n in notes(at) if n.startswith("About **"))
    assert "10 × 54,000 images at" in note and "as measured here" in note
    at.slider(key="train_size-mnist").set_value(6000).run()
    assert any("10 × 5,400 images at" in n for n in notes(at))


def test_a_logistic_regression_trains_in_rounds_never_epochs(train_page):
    """Slider, progress line, curves, weights and verdict all count a Logistic Regression's
    rounds (core.kinds.KINDS["logreg"].unit)."""
    before = {m.id for m in store.list_models()[0]}
    try:
        rounds_everywhere(train_page())
    finally:   # the other tests count the runs in this process's store
        for model in store.list_models()[0]:
            if model.id not in before:
                store.delete(model.id)


def rounds_everywhere(at: AppTest) -> None:
    slider = at.slider(key="epochs-logreg")
    assert "epoch" not in (slider.label + slider.help).lower() and "L-BFGS" in slider.help
    notes = [c.value for c in at.caption]   # the estimate, or what tells it when unmeasured
    assert any(n.startswith("About **") or n.endswith("the first round will tell.")
               for n in notes) and "epoch" not in " ".join(notes), notes
    slider.set_value(2)
    at.slider(key="train_size-mnist").set_value(500)
    at.button(key="start").click().run()
    progress = lambda at: [p.proto.text for p in at.get("progress")]  # noqa: E731
    run_until(at, lambda at: any("of 2 rounds" in t for t in progress(at)))
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    assert all("epoch" not in t.lower() for t in progress(at)), progress(at)
    said = [e.value for e in (*at.success, *at.info, *at.warning, *at.error)]
    assert said and all("epoch" not in t.lower() for t in said), said
    live = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
            if c.proto.spec and "round" in c.proto.spec]
    assert len(live) >= 3                                   # accuracy, loss, weights
    assert all("epoch" not in json.dumps(f).lower() for f in live)
    assert any(f["layout"]["xaxis"].get("title", {}).get("text") == "rounds" for f in live)


def test_a_one_epoch_job_runs_to_the_end_and_is_listed(train_page):
    at = train_page()
    at.slider(key="epochs-logreg").set_value(1)
    at.slider(key="train_size-mnist").set_value(500)
    at.button(key="start").click().run()
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    accuracy = next(m.value for m in at.metric if m.label == "Test accuracy")
    assert accuracy.endswith("%") and float(accuracy[:-1]) > 50
    weights = figure_titled(at, "What each class's weights look like after round 1")
    assert [t["type"] for t in weights["data"]] == ["heatmap"] * 10   # kept after the job ends
    at.run()  # the full rerun after the job lists the new model beside the built-ins
    table = at.dataframe[0].value
    mine = table[~table["Built-in"]]
    assert len(mine) == 1 and mine.iloc[0]["Run"].startswith("Logistic Regression")


def test_a_cnn_shows_its_first_layer_filters_live(train_page):
    at = train_page()
    at.button_group[0].set_value("cnn").run()
    at.slider(key="epochs-Fast").set_value(30)   # stopped long before the end
    at.slider(key="train_size-mnist").set_value(500)
    at.button(key="start").click().run()
    title = "The first layer's 16 filters after epoch "
    run_until(at, lambda at: any(title in chart.proto.spec for chart in at.get("plotly_chart")))
    runner = common.job_runner()   # the page's Stop reruns only its fragment, which AppTest cannot
    runner.stop(runner.current().id)
    run_until(at, lambda at: any("Nothing was saved" in i.value for i in at.info), timeout=30)
    shown = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if title in c.proto.spec]
    assert len(shown) == 1                       # still there after the job has ended
    filters = shown[0]["data"][0]
    assert filters["type"] == "heatmap" and filters["zmin"] == -filters["zmax"]


def idle_runner():
    """The server's job runner with nothing training or waiting (earlier tests share it)."""
    runner = common.job_runner()
    for job in list(runner.jobs.values()):
        if not job.ended:
            runner.cancel(job.id)
            runner.wait(job.id, timeout=30)
    return runner


def test_a_sweep_queues_one_run_per_value_and_a_waiting_run_can_be_cancelled(train_page):
    runner = idle_runner()
    someone = runner.start(Spec("logreg", epochs=50, train_size=60_000), owner="someone")
    at = train_page()
    at.slider(key="epochs-logreg").set_value(1)
    at.slider(key="train_size-mnist").set_value(500)
    at.toggle(key="sweep").set_value(True).run()
    assert at.selectbox(key="sweep-setting-logreg").value == "C"
    assert at.button(key="start").disabled                   # no values chosen yet
    at.multiselect(key="sweep-values-logreg-C-mnist").set_value([0.01, 1.0, 100.0]).run()
    assert any(c.value.startswith("3 runs, one after another") and "C 0.01, C 1, C 100" in c.value
               for c in at.caption)
    at.button(key="start").click().run()
    mine = [j for j in runner.queue if j.owner != "someone"]
    assert [j.spec.C for j in mine] == [0.01, 1.0, 100.0]
    assert len({j.spec.experiment for j in mine}) == 1
    lines = [m.value for m in at.markdown if " in line · " in m.value]
    assert [line.split(" in line")[0] for line in lines] == ["**1st**", "**2nd**", "**3rd**"]
    assert "Logistic Regression on MNIST · C 0.01" in lines[0]
    at.button(key=f"cancel-{mine[1].id}").click().run()     # AppTest reruns the whole page:
    assert not at.exception                                   # Cancel's fragment rerun gives way
    assert mine[1].status == "cancelled" and runner.place(mine[2]) == 2
    assert len([m for m in at.markdown if " in line · " in m.value]) == 2
    at.button(key="cancel-all").click().run()                 # "Cancel all 2 waiting"
    assert not at.exception
    assert [j.status for j in mine] == ["cancelled"] * 3
    assert not [m for m in at.run().markdown if " in line · " in m.value]
    runner.cancel(someone.id)


def test_waiting_jobs_of_one_kind_are_told_apart_by_their_settings(train_page):
    runner = idle_runner()
    runner.start(Spec("logreg", epochs=50, train_size=60_000), owner="someone")
    at = train_page()
    at.slider(key="train_size-mnist").set_value(500)
    for rounds in (2, 3):
        at.slider(key="epochs-logreg").set_value(rounds)
        at.button(key="start").click().run()
    lines = [m.value for m in at.markdown if " in line · " in m.value]
    assert "Logistic Regression on MNIST · rounds 2 · " in lines[0], lines
    assert "Logistic Regression on MNIST · rounds 3 · " in lines[1], lines
    for job in runner.jobs.values():
        runner.cancel(job.id)


def test_a_full_queue_says_so_and_keeps_the_settings(train_page):
    runner = idle_runner()
    someone = runner.start(Spec("logreg", epochs=50, train_size=60_000), owner="someone")
    at = train_page()
    at.slider(key="train_size-mnist").set_value(500)
    at.toggle(key="sweep").set_value(True).run()
    at.multiselect(key="sweep-values-logreg-C-mnist").set_value(list(kinds.C_VALUES[:6])).run()
    at.button(key="start").click().run()
    assert "at most 5 jobs waiting" in at.error[0].value and "Your settings are kept" in at.error[0].value
    assert len(at.multiselect(key="sweep-values-logreg-C-mnist").value) == 6
    assert not [j for j in runner.queue if j.owner != "someone"]
    runner.cancel(someone.id)


def test_a_finished_run_is_described_from_its_own_meta_json(train_page):
    """Settings known to end near chance are warned about before Start; once the run is saved,
    its verdict box, scores and sentence agree with what its meta.json holds."""
    from core import store, verdict

    idle_runner()
    at = train_page()
    at.button_group[0].set_value("cnn").run()
    at.slider(key="epochs-Fast").set_value(1)
    at.select_slider(key="lr-Fast").set_value(3e-4)
    at.toggle(key="augment-Fast").set_value(True)
    at.slider(key="train_size-mnist").set_value(500).run()
    assert any(w.value.startswith("**Likely to stay near guessing.** 1 × 450 images in "
                                  "batches of 128 is 4 optimiser steps") for w in at.warning)
    at.button(key="start").click().run()
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric), timeout=180)
    job = next(j for j in common.job_runner().jobs.values()
               if j.spec.kind == "cnn" and j.spec.learning_rate == 3e-4 and j.model_id)
    model = store.get(job.model_id)
    meta = json.loads((model.path / "meta.json").read_text())
    assert (meta["kind"], meta["train_size"], meta["val_size"]) == ("cnn", 450, 50)
    assert meta["settings"]["augment"] is True
    sentence = verdict.saved_sentence(meta)
    assert sentence == ("CNN (Fast) on MNIST is saved: trained on 450 images (50 more for "
                        "validation), with augmentation (rotate, shift, zoom); it is one of "
                        "the runs below.")
    assert any(c.value == sentence for c in at.caption)
    word, why = verdict.record_verdict(meta)
    boxes = {"converging": at.success, "done": at.info, "underfitting": at.warning,
             "overfitting": at.warning, "did not learn": at.error}
    assert any(b.value == f"**{word.capitalize()}.** {why}" for b in boxes[word])
    assert next(m.value for m in at.metric if m.label == "Test accuracy") == \
        f"{meta['test_accuracy']:.2%}"
