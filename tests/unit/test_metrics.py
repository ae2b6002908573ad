"""core.metrics: the training verdict on typical curves."""

from core.verdict import training_verdict


def curve(acc, val_acc, loss, val_loss):
    return [{"epoch": i + 1, "accuracy": a, "val_accuracy": va, "loss": lo, "val_loss": vl}
            for i, (a, va, lo, vl) in enumerate(zip(acc, val_acc, loss, val_loss))]


def test_rising_validation_loss_is_overfitting():
    h = curve([.9, .95, .97, .99, .995], [.9, .94, .95, .95, .95],
              [.4, .2, .1, .05, .02], [.4, .25, .2, .25, .3])
    word, sentence = training_verdict(h)
    assert word == "overfitting" and "lowest at epoch 3" in sentence


def test_a_wide_accuracy_gap_is_overfitting():
    h = curve([.90, .93, .95], [.87, .88, .88], [.3, .25, .2], [.4, .39, .40])
    assert training_verdict(h)[0] == "overfitting"


def test_low_and_still_rising_is_underfitting():
    h = curve([.5, .6, .7], [.5, .6, .7], [1.5, 1.2, 1.0], [1.5, 1.2, 1.0])
    assert training_verdict(h)[0] == "underfitting"


def test_flat_and_agreeing_is_converging():
    h = curve([.97, .98, .982], [.975, .979, .98], [.1, .07, .06], [.09, .08, .075])
    assert training_verdict(h)[0] == "converging"


def test_too_short_to_judge():
    assert training_verdict(curve([.9], [.9], [.3], [.3]))[0] == "done"
