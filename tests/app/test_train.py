"""Train page under AppTest: settings, a real (tiny) job, and the model store listing."""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def train_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=30)
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def run_until(at: AppTest, done, timeout: float = 120) -> AppTest:
    """Rerun the page (as the live panel's timer would) until `done(at)` holds."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, [m.value for m in at.markdown]
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def test_page_shows_the_settings_and_an_empty_state():
    at = train_page()
    assert at.title[0].value == "Train a model"
    assert any("offline sample" in c.value or "images" in c.value for c in at.caption)
    labels = [s.label for s in at.slider]
    assert "Epochs (passes over the data)" in labels and "Training images used" in labels


def test_a_one_epoch_job_runs_to_the_end_and_is_listed():
    at = train_page()
    at.slider[0].set_value(1)        # epochs
    at.slider[1].set_value(500)      # training images
    at.button[0].click().run()       # Start training (the form's submit button)
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    accuracy = next(m.value for m in at.metric if m.label == "Test accuracy")
    assert accuracy.endswith("%") and float(accuracy[:-1]) > 50
    at.run()  # the full rerun after the job lists the new model beside the built-ins
    table = at.dataframe[0].value
    mine = table[~table["Built-in"]]
    assert len(mine) == 1 and mine.iloc[0]["Model"].startswith("Logistic Regression")
