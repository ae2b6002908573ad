"""Transfer learning: where a CNN's convolutions start, as settings, sentences and rules.

A CNN starts from random weights ("scratch") or from another CNN's convolution blocks
(weights and batch-normalisation statistics copied; a new classifier head with one output
per class): fine-tuned (the convolutions frozen for the first half of the epochs, then
everything trained at a tenth of the learning rate) or frozen throughout. Sketches (28 x 28
grey, other than MNIST) start from the built-in MNIST CNN (a Deeper); photos (32 x 32 colour,
other than CIFAR-10) from a CIFAR-10 CNN in the store, the most accurate one a person can see
(`best_base`), named by its model id in the Spec (`base`) and described in meta.json
(`base_record`). Pure: core.cnn does the Keras part, core.worker loads the base.
"""

from __future__ import annotations

from core.datasets import info

SCRATCH, FINE_TUNE, FROZEN = "scratch", "fine-tune", "frozen"
BASE_RECIPE = "Deeper"          # the built-in CNN's recipe: a transferred CNN is one too
BASE_MODEL = "cnn-default"      # its folder in assets/models
BASE_DATASET = "mnist"          # what it learned on
PHOTO_DATASET = "cifar10"       # what a photo dataset's base learned on (a CNN in the store)
BASE_FILE = "model.keras"       # what a base is loaded from (Keras, in the worker)
FINE_TUNE_RATE = 0.1            # the learning rate once unfrozen, as a share of the set one
HOW = {FINE_TUNE: "fine-tuned", FROZEN: "frozen"}

# How a run's start from the built-in reads in its name and legends, and what the Train page
# offers on a sketch dataset, in order.
PHRASES = {SCRATCH: "from scratch"} | {s: f"from the built-in, {how}" for s, how in HOW.items()}
OPTIONS = {SCRATCH: "From scratch"} | {s: f"From the built-in CNN, {how}" for s, how in HOW.items()}
GET_A_BASE = f"Train a CNN on {info(PHOTO_DATASET).title} first to start from it (transfer learning)."


def base_dataset(dataset: str) -> str | None:
    """What a CNN on `dataset` may start from a CNN trained on: MNIST for other 28 x 28 grey
    sets, CIFAR-10 for other 32 x 32 colour ones; None for those two and any other shape."""
    return next((base for base in (BASE_DATASET, PHOTO_DATASET)
                 if dataset != base and info(dataset).shape == info(base).shape), None)


def offered(dataset: str) -> bool:
    """Whether a CNN on `dataset` may start from the built-in CNN: its images have MNIST's
    shape and it is not MNIST itself (a person's sketches, Fashion-MNIST). Photos start from a
    CIFAR-10 CNN in the store instead (`from_store`)."""
    return base_dataset(dataset) == BASE_DATASET


def from_store(dataset: str) -> bool:
    """Whether a CNN on `dataset` may start from a CIFAR-10 CNN in the store (a person's photos)."""
    return base_dataset(dataset) == PHOTO_DATASET


def best_base(models) -> object | None:
    """The most accurate CNN trained on CIFAR-10 among `models` (core.store.ModelInfo, those a
    person can see), of a recipe the app builds and with its model.keras; None if none is."""
    fit = [m for m in models if m.kind == "cnn" and m.dataset == PHOTO_DATASET and not m.uploaded
           and m.recipe and m.test_accuracy is not None and (m.path / BASE_FILE).is_file()]
    return max(fit, key=lambda m: m.test_accuracy, default=None)


def base_record(model) -> dict:
    """What a run's meta.json keeps of its base (a core.store.ModelInfo), to name it truly."""
    return {"id": model.id, "recipe": model.recipe, "dataset": model.dataset,
            "test_accuracy": model.test_accuracy, "builtin": model.builtin}


def base_refusal(recipe: str | None, base) -> str | None:
    """Why a CNN of `recipe` cannot start from stored model `base` (None: it vanished)."""
    if base is None:
        return (f"the {info(PHOTO_DATASET).title} CNN to start from is not in the store this "
                "job trains from (deleted since?): start from scratch, or from the one Train "
                "offers now")
    if not (base.path / BASE_FILE).is_file():
        return f"the {info(PHOTO_DATASET).title} CNN to start from has no {BASE_FILE} to load"
    if recipe != base.recipe:
        return (f"a CNN starts from the convolutions of {name(base_record(base))} only when it "
                f"is of its recipe, {base.recipe}, not {recipe}")
    return None


def name(base: dict | None) -> str:
    """A base as sentences name it: "the CIFAR-10 CNN trained here (Airbench, 93.1 %)", "the
    built-in MNIST CNN" (a run on a shared server may be someone else's: never "your")."""
    if base is None:
        return f"the built-in {info(BASE_DATASET).title} CNN"
    known = [base.get("recipe")] + ([f"{base['test_accuracy']:.1%}".replace("%", " %")]
                                    if base.get("test_accuracy") is not None else [])
    about = f" ({', '.join(k for k in known if k)})" if any(known) else ""
    title = info(base.get("dataset", PHOTO_DATASET)).title
    return (f"the built-in {title} CNN{about}" if base.get("builtin")
            else f"the {title} CNN trained here{about}")


def phrase(start_from: str, base: dict | None = None) -> str:
    """How a run's start reads in its name and legends: "from the built-in, frozen", "from
    the CIFAR-10 CNN trained here (Airbench, 93.1 %), fine-tuned"."""
    if start_from == SCRATCH or base is None:
        return PHRASES[start_from]
    return f"from {name(base)}, {HOW[start_from]}"


def spec_phrase(start_from: str, base: str | None) -> str:
    """A job's start as its Spec alone says it, the base known by its model id only: "from
    the built-in, frozen", "from the CIFAR-10 CNN trained here, fine-tuned"."""
    return phrase(start_from, {"id": base, "dataset": PHOTO_DATASET} if base else None)


def options(base: dict | None = None) -> dict[str, str]:
    """What the Train page offers, in order: from scratch, or from the base (None: the built-in)."""
    if base is None:
        return OPTIONS
    return {SCRATCH: OPTIONS[SCRATCH]} | {
        start: f"From {name(base)}, {how}" for start, how in HOW.items()}


def spec_fields(start_from: str, base: dict | None = None) -> dict:
    """A chosen start as a Spec's fields: `start_from`, and the base's id when transferred."""
    moved = start_from != SCRATCH and base is not None
    return {"start_from": start_from} | ({"base": base["id"]} if moved else {})


def frozen_epochs(start_from: str, epochs: int) -> int:
    """Epochs trained with the convolutions frozen: all when frozen, the first half (rounded
    down) when fine-tuned, none from scratch."""
    return {SCRATCH: 0, FINE_TUNE: epochs // 2, FROZEN: epochs}[start_from]


def refusal(kind: str, recipe: str | None, dataset: str, start_from: str,
            epochs: int, base: str | None = None) -> str | None:
    """Why a job cannot start this way, in a sentence; None when it can. `base`: the model
    id of the stored CNN a photo dataset's CNN starts from."""
    if start_from not in PHRASES:
        return f"unknown start {start_from!r}; choose from {list(PHRASES)}"
    if start_from == SCRATCH:
        return "a CNN from scratch starts from no other model: leave out its base" if base else None
    if kind != "cnn":
        return "only a CNN can start from another CNN's convolutions"
    if from_store(dataset):
        if base is None:
            return (f"a CNN on photos starts from a {info(PHOTO_DATASET).title} CNN in the "
                    "store: name it (its model id)")
    elif not offered(dataset):
        return (f"transfer learning starts sketches from the built-in MNIST CNN and photos "
                f"from a CIFAR-10 CNN, offered for other datasets of that shape, "
                f"not {info(dataset).title}")
    elif recipe != BASE_RECIPE:
        return (f"only a CNN of the {BASE_RECIPE} recipe can start from the built-in CNN "
                f"(a {BASE_RECIPE} itself)")
    elif base is not None:
        return "a CNN on sketches starts from the built-in MNIST CNN, not a stored model"
    if start_from == FINE_TUNE and epochs < 2:
        return "fine-tuning needs at least 2 epochs: the first half frozen, then all trained"
    return None


def claim(start_from: str | None, epochs: int | None = None, base: dict | None = None) -> str:
    """Where a run's CNN started, as Compare's table says it ("Started from"); `base` is what
    its meta.json keeps of a stored base (none: the built-in MNIST CNN)."""
    if start_from in (None, SCRATCH):
        return "scratch (random weights)"
    what = (f"the built-in {info(BASE_DATASET).title} CNN's convolutions" if base is None
            else f"the convolutions of {name(base)}")
    if start_from == FROZEN:
        return f"{what}, frozen throughout (only a new head trained)"
    n = frozen_epochs(FINE_TUNE, epochs) if epochs else 0
    first = {0: "the first half", 1: "the first epoch"}.get(n, f"the first {n} epochs")
    return (f"{what}, frozen for {first}, then all fine-tuned at "
            f"{FINE_TUNE_RATE:g} x the learning rate")
