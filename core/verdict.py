"""The Train page's verdict on a finished training curve: converging, over- or underfitting."""

from __future__ import annotations

from core.events import epoch_text

OVERFIT_GAP = 0.05        # train accuracy this far above validation = memorising
OVERFIT_LOSS_RISE = 0.10  # validation loss this far above its best = memorising
RISING = 0.005            # accuracy up this much over the last epoch = still learning


def training_verdict(history: list[dict], unit: str = "epoch") -> tuple[str, str]:
    """(one word, one sentence) on a finished training curve; `unit` is what the sentence calls
    one pass of training (core.kinds.Kind.unit: a Logistic Regression's "round").

    Overfitting: validation loss has risen clearly above its best while training loss
    kept falling, or training accuracy is well above validation accuracy. Underfitting:
    training or validation accuracy is still low and still climbing, so more epochs would help.
    Otherwise the model converged. Points may be fractional epochs (core.events.Epoch).
    """
    if len(history) < 3:
        return ("done", f"The curves have {len(history)} point{'s' if len(history) > 1 else ''}: "
                        "too few to show over- or underfitting; the test accuracy says how "
                        "well it learned.")
    last = history[-1]
    gap = last["accuracy"] - last["val_accuracy"]
    val_loss = [h["val_loss"] for h in history]
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    rise = val_loss[-1] / val_loss[best] - 1
    if best < len(history) - 1 and rise > OVERFIT_LOSS_RISE and last["loss"] < history[best]["loss"]:
        return ("overfitting",
                f"Validation loss was lowest at {unit} {epoch_text(history[best]['epoch'])} and "
                f"has risen {rise:.0%} since, "
                "while training loss kept falling: the model is memorising its training images. "
                f"Fewer {unit}s, augmentation or stronger regularisation help.")
    if gap > OVERFIT_GAP:
        return ("overfitting",
                f"Training accuracy is {gap * 100:.1f} points above validation accuracy: the "
                "model fits its training images better than new ones. More data, augmentation "
                "or stronger regularisation help.")
    rising = [key for key in ("accuracy", "val_accuracy")
              if last[key] < 0.95 and last[key] - earlier_point(history)[key] > RISING]
    if rising:
        name = {"accuracy": "Training", "val_accuracy": "Validation"}[rising[0]]
        return ("underfitting",
                f"{name} accuracy is {last[rising[0]]:.1%} and still rising: more {unit}s "
                "(or a larger model) would help.")
    if gap < -OVERFIT_GAP:
        return ("converging",
                f"The curves have levelled off at validation accuracy {last['val_accuracy']:.1%}, "
                f"{-gap * 100:.1f} points above training accuracy: augmentation or dropout make "
                "the training images harder than the validation images, which is expected.")
    return ("converging",
            f"Training and validation agree: validation accuracy {last['val_accuracy']:.1%}, "
            f"{abs(gap) * 100:.1f} points from training accuracy, and the curves have levelled off.")


def earlier_point(history: list[dict]) -> dict:
    """The point about one epoch before the last, or a quarter of the run before it in runs of
    under 4 epochs: what "still rising" compares with, however many points an epoch has."""
    last = history[-1]["epoch"]
    back_to = last - min(1.0, last / 4) + 1e-9
    return next((h for h in reversed(history[:-1]) if h["epoch"] <= back_to), history[0])
