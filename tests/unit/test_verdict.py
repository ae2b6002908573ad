"""core.verdict: "did not learn" before over- and underfitting, advice from a run's own
settings, the sentence about a saved run, and the warning before Start."""

import pytest

from core import charts, verdict
from core.kinds import Spec, recipe_spec
from core.verdict import training_verdict


def curve(acc, val_acc, loss=None, val_loss=None):
    n = len(acc)
    loss, val_loss = loss or [1.0] * n, val_loss or [1.0] * n
    return [{"epoch": i + 1, "accuracy": a, "val_accuracy": va, "loss": lo, "val_loss": vl}
            for i, (a, va, lo, vl) in enumerate(zip(acc, val_acc, loss, val_loss))]


# The tester's run: training accuracy climbed, validation and test stayed at chance.
AT_CHANCE = curve([.2, .4, .545], [.10, .12, .12], [2.2, 1.8, 1.4], [2.3, 2.3, 2.3])
FAST_500 = {"recipe": "Fast", "epochs": 1, "batch_size": 128, "learning_rate": 3e-4,
            "schedule": "one-cycle", "augment": False, "train_size": 500, "seed": 0}


def test_chance_level_is_did_not_learn_not_overfitting():
    assert training_verdict(AT_CHANCE)[0] == "overfitting"       # without classes: as before
    word, sentence = training_verdict(AT_CHANCE, classes=10, test_accuracy=0.1135)
    assert word == "did not learn"
    assert sentence.startswith("Test accuracy 11.3% is close to the 10% of guessing among 10")


def test_validation_stands_in_for_a_missing_test_score():
    word, sentence = training_verdict(AT_CHANCE, classes=10)
    assert word == "did not learn" and sentence.startswith("Validation accuracy 12.0%")


def test_near_chance_depends_on_the_number_of_classes():
    assert verdict.near_chance(0.27, 10) and not verdict.near_chance(0.29, 10)
    assert verdict.near_chance(0.55, 2) and not verdict.near_chance(0.65, 2)


def test_a_single_point_at_chance_did_not_learn():
    assert training_verdict(curve([.3], [.1]), classes=10)[0] == "did not learn"
    assert training_verdict(curve([.9], [.9]), classes=10)[0] == "done"


def test_every_other_state_is_unchanged_above_chance():
    overfit = curve([.90, .93, .95], [.87, .88, .88], [.3, .25, .2], [.4, .39, .40])
    under = curve([.5, .6, .7], [.5, .6, .7])
    flat = curve([.97, .98, .982], [.975, .979, .98])
    for h, word in ((overfit, "overfitting"), (under, "underfitting"), (flat, "converging")):
        assert training_verdict(h, classes=10, test_accuracy=h[-1]["val_accuracy"])[0] == word


def test_every_verdict_is_a_known_state():
    cases = [AT_CHANCE, curve([.9], [.9]), curve([.5, .6, .7], [.5, .6, .7]),
             curve([.97, .98, .982], [.975, .979, .98]),
             curve([.90, .93, .95], [.87, .88, .88])]
    words = {training_verdict(h, classes=10)[0] for h in cases}
    assert words == set(verdict.VERDICTS)


def test_advice_for_a_short_cnn_run_names_its_steps():
    sentence = training_verdict(AT_CHANCE, 10, 0.11, "cnn", FAST_500, 450)[1]
    assert "It took only 4 optimiser steps (1 × 450 images in batches of 128)" in sentence
    assert "more epochs, more images or a smaller batch" in sentence
    assert "learning rate 0.0003 is low" in sentence
    enough = FAST_500 | {"learning_rate": 3e-3}   # measured: 4 steps at 3e-3 reach 64 %
    assert "only" not in training_verdict(AT_CHANCE, 10, 0.11, "cnn", enough, 450)[1]


def test_advice_for_a_low_or_high_learning_rate():
    slow = FAST_500 | {"learning_rate": 1e-4, "epochs": 30, "train_size": 60_000}
    sentence = training_verdict(AT_CHANCE, 10, 0.11, "cnn", slow, 54_000)[1]
    assert "learning rate 0.0001 is low" in sentence and "only" not in sentence
    fast = FAST_500 | {"learning_rate": 1e-2, "epochs": 30, "train_size": 60_000}
    assert "0.01 is high" in training_verdict(AT_CHANCE, 10, 0.11, "cnn", fast, 54_000)[1]


def test_advice_for_a_logistic_regression():
    strong = {"epochs": 10, "C": 0.01, "augment": False}
    assert "try a larger C" in training_verdict(AT_CHANCE, 10, 0.11, "logreg", strong, 450)[1]
    assert "More rounds or more images" in training_verdict(
        AT_CHANCE, 10, 0.11, "logreg", strong | {"C": 1.0}, 450)[1]


def record(**changes):
    return {"kind": "cnn", "dataset": "mnist", "dataset_title": "MNIST", "settings": FAST_500,
            "train_size": 450, "val_size": 50, "test_size": 10_000, "history": AT_CHANCE,
            "test_accuracy": 0.1135} | changes


def test_a_stored_run_is_judged_with_its_own_classes_score_and_settings():
    word, sentence = verdict.record_verdict(record())
    assert word == "did not learn" and "4 optimiser steps" in sentence
    assert verdict.record_verdict(record(test_accuracy=0.95))[0] == "overfitting"
    assert verdict.record_verdict(record(dataset="gone"))[0] == "overfitting"   # no chance level


def test_the_saved_sentence_is_built_from_the_record():
    assert verdict.saved_sentence(record()) == (
        "CNN (Fast) on MNIST is saved: trained on 450 images (50 more for validation), "
        "without augmentation; it is one of the runs below.")
    augmented = record(settings=FAST_500 | {"augment": True})
    assert "with augmentation (rotate, shift, zoom)" in verdict.saved_sentence(augmented)
    lr = record(kind="logreg", settings={"epochs": 1, "C": 0.1, "augment": True})
    assert verdict.saved_sentence(lr).startswith("Logistic Regression on MNIST is saved")
    assert "with shifted copies" in verdict.saved_sentence(lr)


def test_the_warning_before_start_follows_the_measured_line():
    deeper = recipe_spec("Deeper", epochs=1, train_size=500)
    warning = verdict.likely_to_fail(deeper, 450)
    assert warning.startswith("1 × 450 images in batches of 128 is 4 optimiser steps at "
                              "learning rate 0.003. Measured on MNIST, CNN (Deeper) needs about 8")
    assert verdict.likely_to_fail(deeper, 900) is None                 # 8 steps: 47 %
    fast = recipe_spec("Fast", epochs=1, train_size=500)
    assert verdict.likely_to_fail(fast, 450) is None                   # 4 steps: 64 %
    assert "needs about 10 steps" in verdict.likely_to_fail(fast.replace(learning_rate=3e-4), 450)
    assert verdict.likely_to_fail(fast.replace(learning_rate=3e-4, epochs=3), 450) is None
    assert verdict.likely_to_fail(Spec("logreg", epochs=1, train_size=500), 450) is None
    assert "1 optimiser step at" in verdict.likely_to_fail(
        recipe_spec("Classic", epochs=1, batch_size=256), 100)


@pytest.mark.parametrize("recipe", sorted(verdict.LEARNING_LINE))
def test_every_recipe_has_a_measured_line_and_full_runs_pass_it(recipe):
    assert verdict.likely_to_fail(recipe_spec(recipe), 54_000) is None


def test_a_curve_that_did_not_learn_is_drawn_from_0_to_100_percent_with_guessing_marked():
    """A wobble between 9 % and 11 % would fill an autoscaled chart and look like learning."""
    flat = [{"epoch": e, "accuracy": a, "val_accuracy": a - 0.01, "loss": 2.3, "val_loss": 2.3}
            for e, a in ((1, 0.10), (2, 0.12))]
    learned = [dict(p, accuracy=0.97 + p["epoch"] / 100, val_accuracy=0.96) for p in flat]
    fig = charts.training_curve(flat, "accuracy", 2, guessing=0.1)
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert [s.y0 for s in fig.layout.shapes] == [0.1]
    fig = charts.training_curve(learned, "accuracy", 2, guessing=0.1)
    assert fig.layout.yaxis.range is None and not fig.layout.shapes
    assert not charts.training_curve(flat, "loss", 2, guessing=0.1).layout.shapes
