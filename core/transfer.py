"""Transfer learning: where a CNN's convolutions start, as settings, sentences and rules.

A CNN starts from random weights ("scratch"), or from the built-in MNIST CNN's convolution
blocks (weights and batch-normalisation statistics copied; a new classifier head with one
output per class): fine-tuned (the convolutions frozen for the first half of the epochs,
then everything trained at a tenth of the learning rate) or frozen throughout. Offered for
datasets of MNIST's image shape other than MNIST itself. Pure: core.cnn does the Keras part.
"""

from __future__ import annotations

from core.datasets import info

SCRATCH, FINE_TUNE, FROZEN = "scratch", "fine-tune", "frozen"
BASE_RECIPE = "Deeper"          # the built-in CNN's recipe: a transferred CNN is one too
BASE_MODEL = "cnn-default"      # its folder in assets/models
BASE_DATASET = "mnist"          # what it learned on
FINE_TUNE_RATE = 0.1            # the learning rate once unfrozen, as a share of the set one

PHRASES = {  # how a run's start reads in its name and legends
    SCRATCH: "from scratch",
    FINE_TUNE: "from the built-in, fine-tuned",
    FROZEN: "from the built-in, frozen",
}
OPTIONS = {  # what the Train page offers, in order
    SCRATCH: "From scratch",
    FINE_TUNE: "From the built-in CNN, fine-tuned",
    FROZEN: "From the built-in CNN, frozen",
}


def offered(dataset: str) -> bool:
    """Whether a CNN on `dataset` may start from the built-in CNN: its images have MNIST's
    shape and it is not MNIST itself (a person's sketches, Fashion-MNIST). Photos: not yet
    (there is no CIFAR-10 CNN to start from among the built-ins)."""
    return dataset != BASE_DATASET and info(dataset).shape == info(BASE_DATASET).shape


def frozen_epochs(start_from: str, epochs: int) -> int:
    """Epochs trained with the convolutions frozen: all when frozen, the first half (rounded
    down) when fine-tuned, none from scratch."""
    return {SCRATCH: 0, FINE_TUNE: epochs // 2, FROZEN: epochs}[start_from]


def refusal(kind: str, recipe: str | None, dataset: str, start_from: str,
            epochs: int) -> str | None:
    """Why a job cannot start this way, in a sentence; None when it can."""
    if start_from not in PHRASES:
        return f"unknown start {start_from!r}; choose from {list(PHRASES)}"
    if start_from == SCRATCH:
        return None
    if kind != "cnn" or recipe != BASE_RECIPE:
        return (f"only a CNN of the {BASE_RECIPE} recipe can start from the built-in CNN "
                f"(a {BASE_RECIPE} itself)")
    if not offered(dataset):
        return (f"the built-in CNN learned on {info(BASE_DATASET).title}'s 28 x 28 grey images: "
                f"it is offered for other datasets of that shape, not {info(dataset).title}")
    if start_from == FINE_TUNE and epochs < 2:
        return "fine-tuning needs at least 2 epochs: the first half frozen, then all trained"
    return None


def claim(start_from: str | None, epochs: int | None = None) -> str:
    """Where a run's CNN started, as Compare's table says it ("Started from")."""
    if start_from in (None, SCRATCH):
        return "scratch (random weights)"
    what = f"the built-in {info(BASE_DATASET).title} CNN's convolutions"
    if start_from == FROZEN:
        return f"{what}, frozen throughout (only a new head trained)"
    n = frozen_epochs(FINE_TUNE, epochs) if epochs else 0
    first = {0: "the first half", 1: "the first epoch"}.get(n, f"the first {n} epochs")
    return (f"{what}, frozen for {first}, then all fine-tuned at "
            f"{FINE_TUNE_RATE:g} x the learning rate")
