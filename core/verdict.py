"""The Train page's verdict on a finished run: did not learn, over- or underfitting, converging."""

from __future__ import annotations

import math

from core.datasets import model_classes
from core.events import epoch_text
from core.kinds import KINDS, Spec, augmentation_phrase, title

OVERFIT_GAP = 0.05        # train accuracy this far above validation = memorising
OVERFIT_LOSS_RISE = 0.10  # validation loss this far above its best = memorising
RISING = 0.005            # accuracy up this much over the last epoch = still learning
NEAR_CHANCE = 0.2         # under a fifth of the way from guessing to 100 % = did not learn
# Below these optimiser steps x learning rate a CNN recipe stays near chance. Measured on
# MNIST, 1 epoch, with batch normalisation's statistics recomputed (core.batchnorm), 2026-12-02
# (test accuracy; steps = epochs x ceil(images / batch)):
#   Fast     (3e-3, one-cycle): 4 x 3e-4 -> 17 %, 8 x 1e-4 -> 13 %; 2 x 3e-3 -> 39 %,
#            4 x 1e-3 -> 41 %, 4 x 3e-3 -> 64 %, 8 x 3e-3 -> 80 %, 15 x 3e-3 -> 81 %
#   Sprint   (1e-2, one-cycle): 8 x 1e-4 -> 18 %, 4 x 3e-4 -> 27 %; 15 x 1e-4 -> 31 %,
#            8 x 3e-4 -> 43 %, 4 x 1e-3 -> 57 %, 4 x 1e-2 -> 83 %
#   Classic  (1e-3, constant):  4 x 1e-3 -> 28 %; 8 x 1e-3 -> 51 %, 22 x 1e-3 -> 71 %
#   Deeper   (3e-3, one-cycle): 4 x 3e-3 -> 19 %; 8 x 3e-3 -> 47 %
#   Airbench (3e-3, one-cycle): 4 x 3e-3 -> 49 %, 8 x 3e-3 -> 78 %
LEARNING_LINE = {"Fast": 3e-3, "Sprint": 1.5e-3, "Classic": 8e-3, "Deeper": 0.024,
                 "Airbench": 0.012}
VERDICTS = ("did not learn", "overfitting", "underfitting", "converging", "done")


def chance(classes: int) -> float:
    """The accuracy of guessing: one class in `classes`."""
    return 1 / classes


def near_chance(accuracy: float, classes: int) -> bool:
    """Whether `accuracy` is less than NEAR_CHANCE of the way from guessing to perfect
    (10 classes: under 28 %; 2 classes: under 60 %)."""
    return near_guess(accuracy, chance(classes))


def near_guess(accuracy: float, guessing: float) -> bool:
    """near_chance, given the accuracy of a guess itself."""
    return accuracy < guessing + NEAR_CHANCE * (1 - guessing)


def record_verdict(meta: dict) -> tuple[str, str]:
    """training_verdict of a stored run (its meta.json): its curves, its number of
    classes, its test accuracy and its own settings."""
    try:
        classes = len(model_classes(meta))
    except (KeyError, ValueError):   # a record without a dataset the app knows: no chance level
        classes = None
    return training_verdict(meta.get("history") or [], classes,
                            meta.get("test_accuracy"), meta.get("kind"),
                            meta.get("settings") or {}, meta.get("train_size"))


def saved_sentence(meta: dict) -> str:
    """Where a finished run is and what it was trained on, from its stored record:
    "CNN (Fast) on MNIST is saved: trained on 450 images (50 more for validation), without
    augmentation; it is one of the runs below."."""
    recipe = (meta.get("settings") or {}).get("recipe")
    augment = (meta.get("settings") or {}).get("augment")
    how = augmentation_phrase(meta["kind"], meta["dataset"], bool(augment))
    return (f"{title(meta['kind'], recipe)} on {meta['dataset_title']} is saved: trained on "
            f"{meta['train_size']:,} images ({meta['val_size']:,} more for validation), {how}; "
            "it is one of the runs below.")


def training_verdict(history: list[dict], classes: int | None = None,
                     test_accuracy: float | None = None, kind: str | None = None,
                     settings: dict | None = None, images: int | None = None,
                     unit: str | None = None) -> tuple[str, str]:
    """(one of VERDICTS, one sentence) on a finished run; `unit` is what a sentence calls one
    pass of training (by default its kind's: a Logistic Regression's "round").

    Did not learn (checked first, when the number of `classes` is known): its test accuracy
    (else its last validation accuracy) is near chance; the advice fits its `kind`, `settings`
    and `images` (training images per epoch) when they are given.
    Overfitting: validation loss has risen clearly above its best while training loss
    kept falling, or training accuracy is well above validation accuracy. Underfitting:
    training or validation accuracy is still low and still climbing, so more epochs would help.
    Otherwise the model converged. Points may be fractional epochs (core.events.Epoch).
    """
    unit = unit or (KINDS[kind].unit if kind in KINDS else "epoch")
    score, scored_on = ((test_accuracy, "Test") if test_accuracy is not None else
                        (history[-1]["val_accuracy"], "Validation") if history else (None, ""))
    if classes and score is not None and near_chance(score, classes):
        return ("did not learn",
                f"{scored_on} accuracy {score:.1%} is close to the {chance(classes):.0%} of "
                f"guessing among {classes} classes: the model did not learn. "
                + advice(kind, settings or {}, images))
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


def advice(kind: str | None, settings: dict, images: int | None) -> str:
    """What to change in a run that did not learn, from its own settings."""
    if kind == "logreg":
        if settings.get("C", 1) <= 0.01:
            return (f"C {settings['C']:g} regularises so strongly that the weights stay near "
                    "zero: try a larger C, more rounds or more images.")
        return "More rounds or more images help."
    tips = []
    batch, epochs, rate = (settings.get(k) for k in ("batch_size", "epochs", "learning_rate"))
    steps = optimiser_steps(epochs, images, batch) if images and batch and epochs else None
    if steps and rate and too_few_steps(settings.get("recipe"), steps, rate):
        tips.append(f"it took only {steps:,} optimiser steps ({epochs} × {images:,} images "
                    f"in batches of {batch}): more epochs, more images or a smaller batch "
                    "give it more")
    if rate is not None and rate <= 3e-4:
        tips.append(f"its learning rate {rate:g} is low: a higher one learns faster")
    elif rate is not None and rate >= 1e-2:
        tips.append(f"its learning rate {rate:g} is high: a lower one may stop the steps "
                    "overshooting")
    if not tips:
        return "More epochs, more images or a higher learning rate help."
    text = "; ".join(tips)
    return text[0].upper() + text[1:] + "."


def optimiser_steps(epochs: int, images: int, batch_size: int) -> int:
    """How many times a CNN run changes its weights: one step per batch."""
    return epochs * math.ceil(images / batch_size)


def too_few_steps(recipe: str | None, steps: int, learning_rate: float) -> bool:
    """Whether `steps` at `learning_rate` are below where `recipe` was measured to get well
    past chance (LEARNING_LINE)."""
    return recipe in LEARNING_LINE and steps * learning_rate < LEARNING_LINE[recipe] * (1 - 1e-9)


def likely_to_fail(spec: Spec, images: int) -> str | None:
    """A warning when a CNN run of `spec` on `images` training images an epoch is known to
    end near chance (LEARNING_LINE), saying what to change; None when it is not."""
    if spec.kind != "cnn":
        return None
    steps = optimiser_steps(spec.epochs, images, spec.batch_size)
    if not too_few_steps(spec.recipe, steps, spec.learning_rate):
        return None
    needed = math.ceil(LEARNING_LINE[spec.recipe] / spec.learning_rate - 1e-9)
    return (f"{spec.epochs} × {images:,} images in batches of {spec.batch_size} is {steps:,} "
            f"optimiser step{'s' if steps > 1 else ''} at learning rate "
            f"{spec.learning_rate:g}. Measured on MNIST, {spec.title} needs about {needed:,} "
            "steps at that rate to get well past guessing: use more epochs, more images, a "
            "smaller batch or a higher learning rate.")
