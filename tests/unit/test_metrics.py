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


def fractional(epochs, per_epoch, **rows):
    """A curve of `per_epoch` points an epoch, each row's numbers given point by point."""
    n = epochs * per_epoch
    return [{"epoch": (i + 1) / per_epoch, **{k: v[i] for k, v in rows.items()}}
            for i in range(n)]


def test_overfitting_names_the_fractional_epoch_of_the_best_point():
    h = fractional(2, 4, accuracy=[.9, .93, .95, .96, .97, .98, .99, .995],
                   val_accuracy=[.9, .92, .94, .95, .95, .95, .95, .95],
                   loss=[.4, .3, .2, .15, .1, .07, .04, .02],
                   val_loss=[.4, .3, .22, .2, .21, .23, .25, .28])
    word, sentence = training_verdict(h)
    assert word == "overfitting" and "lowest at epoch 1 and" in sentence
    h[3]["val_loss"], h[2]["val_loss"] = .25, .2
    assert "lowest at epoch 0.75 and" in training_verdict(h)[1]


def test_still_rising_compares_with_a_quarter_of_a_short_run_earlier():
    rising = [.5, .6, .65, .7, .72, .74, .76, .78]             # +4 points over the last half epoch
    h = fractional(2, 4, accuracy=rising, val_accuracy=rising, loss=[1.0] * 8,
                   val_loss=[1.0] * 8)
    assert training_verdict(h)[0] == "underfitting"
    flat = rising[:6] + [.742, .743]                           # levelled off: +0.3 since 1.5
    h = fractional(2, 4, accuracy=flat, val_accuracy=flat, loss=[1.0] * 8, val_loss=[1.0] * 8)
    assert training_verdict(h)[0] == "converging"


def test_earlier_point_is_one_epoch_back_in_long_runs():
    from core.verdict import earlier_point
    long_run = fractional(10, 1, accuracy=[0.5] * 10)
    assert earlier_point(long_run)["epoch"] == 9
    short_run = fractional(2, 4, accuracy=[0.5] * 8)
    assert earlier_point(short_run)["epoch"] == 1.5
    assert earlier_point(fractional(1, 8, accuracy=[0.5] * 8))["epoch"] == 0.75


def test_validation_still_rising_is_underfitting_even_when_training_accuracy_dips():
    h = fractional(1, 8, accuracy=[.1, .3, .38, .47, .43, .56, .57, .50],
                   val_accuracy=[.1, .1, .19, .33, .45, .57, .63, .615],
                   loss=[3, 2.2, 1.9, 1.6, 1.7, 1.3, 1.3, 1.4],
                   val_loss=[2.3, 2.5, 2.2, 1.8, 1.6, 1.3, 1.2, 1.2])
    word, sentence = training_verdict(h)
    assert word == "underfitting" and sentence.startswith("Validation accuracy is 61.5% and still")


def test_validation_well_above_training_is_explained_not_called_agreement():
    h = curve([.90, .905, .905], [.97, .975, .975], [.3, .29, .29], [.1, .09, .09])
    word, sentence = training_verdict(h)
    assert word == "converging" and "7.0 points above training accuracy" in sentence
    assert "agree" not in sentence
