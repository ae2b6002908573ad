"""The kinds of model the app trains, their names, the CNN recipes, and a training job's settings.

Plain data, no TensorFlow: the store, the jobs and every page read their names here; the
training worker builds a CNN from its recipe (core.cnn has the layers of each recipe).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from core import transfer
from core.datasets import DATASETS, info

SCHEDULES = {  # key -> the name people see; core.cnn.learning_rate builds each
    "constant": "Constant",
    "one-cycle": "One-cycle (warm-up, cosine)",
}


class Augmentation(NamedTuple):
    """One kind of augmentation, as the Train toggle, a sentence and its explanation say it."""

    label: str    # the toggle: "Augment: flip, shift"
    phrase: str   # in a sentence about a run: "trained … with augmentation (flip, shift)"
    what: str     # what it does, for the help text and Compare


AUGMENTATIONS = {  # a dataset's `augmentation` -> what core.architectures.augmentation does
    "rotate-shift-zoom": Augmentation(
        "Augment: rotate, shift, zoom", "with augmentation (rotate, shift, zoom)",
        "Random rotation up to ±15°, shifts and zooms up to ±10 %, new for every batch."),
    "flip-shift": Augmentation(
        "Augment: flip, shift", "with augmentation (flip, shift)",
        "Random left-right flips and shifts of up to 4 pixels (padding with black), new for "
        "every batch."),
}
SHIFTED_COPIES = Augmentation(
    "Augment with shifted copies", "with shifted copies",
    "Each image's copies moved one pixel up, down, left and right are added: 5x the data "
    "and the work, the same copies every round.")


def augmentation(kind: str, dataset: str) -> Augmentation:
    """The augmentation a model of `kind` gets on `dataset`: a Logistic Regression's
    one-pixel shifted copies, a CNN its dataset's random changes."""
    return SHIFTED_COPIES if kind == "logreg" else AUGMENTATIONS[info(dataset).augmentation]


def augmentation_phrase(kind: str, dataset: str, on: bool) -> str:
    """How a run's augmentation reads in a sentence: "with shifted copies", "without augmentation"."""
    if on:
        return augmentation(kind, dataset).phrase
    return "without shifted copies" if kind == "logreg" else "without augmentation"


def augmentation_text(kind: str, dataset: str) -> str:
    """What a model of `kind` trained with augmentation on `dataset` saw, in one sentence."""
    return augmentation(kind, dataset).what


@dataclass(frozen=True)
class Recipe:
    """A CNN architecture with the training settings it was tuned for, on its datasets."""

    name: str
    summary: str
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str                 # a key of SCHEDULES
    tuned_for: tuple[str, ...] = ("mnist", "fashion_mnist")   # datasets it is the default for
    augment: bool = False         # augmentation on at first
    label_smoothing: float = 0.0  # share of each label spread over all classes (core.cnn)


@dataclass(frozen=True)
class Kind:
    """A kind of model: its name on the page and in legends, its short name in captions, and
    what one pass of its training is called (a Logistic Regression's rounds, a CNN's epochs)."""

    name: str
    short: str
    unit: str = "epoch"

    def units(self, n: float) -> str:
        """"1 round", "2.5 epochs": `n` passes of this kind's training, as people read them."""
        text = f"{n:g}" if isinstance(n, float) else f"{n:,}"
        return f"{text} {self.unit}{'' if n == 1 else 's'}"


KINDS = {"logreg": Kind("Logistic Regression", "LR", "round"), "cnn": Kind("CNN", "CNN")}


def unit_axis(kinds: Iterable[str]) -> str:
    """A chart axis of training passes: "rounds", "epochs", or "epochs (CNN) / rounds (LR)"."""
    present = [k for k in KINDS if k in set(kinds)] or ["cnn"]
    units = {KINDS[k].unit + "s" for k in present}
    if len(units) == 1:
        return units.pop()
    return " / ".join(f"{KINDS[k].unit}s ({KINDS[k].short})" for k in reversed(present))

RECIPES = {r.name: r for r in (
    Recipe("Fast", "Built for time to accuracy on a CPU: a strided 5x5 convolution, batch "
                   "normalisation and a one-cycle schedule; ~99 % on MNIST in 2 epochs.",
           epochs=2, batch_size=128, learning_rate=3e-3, schedule="one-cycle"),
    Recipe("Sprint", "Built to pass 99 % on MNIST in one epoch on a CPU: Fast's convolutions "
                     "(the last one narrower), a 256-unit dense layer, label smoothing (0.1) "
                     "and a one-cycle schedule peaking at 0.01; ~99.3 % after 1 epoch, at "
                     "about Fast's cost per epoch.",
           epochs=1, batch_size=128, learning_rate=1e-2, schedule="one-cycle",
           tuned_for=("mnist",), label_smoothing=0.1),
    Recipe("Classic", "keras.io's mnist_convnet (34,826 weights) trained as keras.io does: "
                      "Adam 1e-3, batch 128; ~99 % on MNIST after about 10 epochs.",
           epochs=12, batch_size=128, learning_rate=1e-3, schedule="constant"),
    Recipe("Deeper", "Four convolutions with batch normalisation and a dense layer: slower, "
                     "and the most accurate with augmentation and 15+ epochs.",
           epochs=15, batch_size=128, learning_rate=3e-3, schedule="one-cycle"),
    Recipe("Airbench", "For colour photos: airbench93's network (Keller Jordan, 2024; 0.57 M "
                       "weights) with batch normalisation and a one-cycle schedule; best with "
                       "augmentation (flips and shifts).",
           epochs=11, batch_size=128, learning_rate=3e-3, schedule="one-cycle",
           tuned_for=("cifar10",), augment=True),
)}

BATCH_SIZES = (32, 64, 128, 256)                 # what the Train page offers
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
C_VALUES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
EPOCH_CHOICES = (1, 2, 3, 5, 8, 12, 15, 20, 30)   # a CNN's epochs, an LR's rounds a sweep offers
TRAIN_SIZES = (500, 1000, 3000, 10_000, 30_000)    # training images a sweep offers, and all
assert all(r.batch_size in BATCH_SIZES and r.learning_rate in LEARNING_RATES
           for r in RECIPES.values()), "the Train page offers every recipe's own settings"


LOGREG_DEFAULTS = {"C": 0.1, "epochs": 10, "augment": False}   # the Train page's first values


def default_recipe(dataset: str) -> str:
    """The recipe the Train page offers first for `dataset`: the first tuned for it, else (a
    dataset a person made) the first tuned for a dataset of its image shape."""
    alike = {key for key, d in DATASETS.items() if d.shape == info(dataset).shape}
    tuned = [r.name for r in RECIPES.values() if dataset in r.tuned_for]
    return (tuned or [r.name for r in RECIPES.values() if alike & set(r.tuned_for)])[0]


def default_spec(kind: str, dataset: str = "mnist", recipe: str | None = None) -> Spec:
    """The settings the Train page offers first: a recipe's own for a CNN (`recipe`, else the
    dataset's default), LOGREG_DEFAULTS for a Logistic Regression; all training images."""
    if kind == "cnn":
        return recipe_spec(recipe or default_recipe(dataset), dataset)
    return Spec(kind, dataset, **LOGREG_DEFAULTS)


def title(kind: str, recipe: str | None = None) -> str:
    """A model's display name: "Logistic Regression", "CNN (Fast)"."""
    return KINDS[kind].name + (f" ({recipe})" if recipe else "")


@dataclass(frozen=True)
class Spec:
    """Everything a training job needs to know; stored (less kind and dataset) as a model's
    settings. kind "speed" is the speed check: it measures `dataset`'s image shape."""

    kind: str                     # a key of KINDS, or "speed"
    dataset: str = "mnist"
    recipe: str | None = None     # a CNN's recipe, a key of RECIPES
    epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    schedule: str = "constant"
    augment: bool = False
    C: float = 1.0                # a Logistic Regression's inverse regularisation strength
    train_size: int | None = None # training images used (None: all)
    seed: int = 0
    source: str | None = None     # load only this source of the data (reproducible built-ins)
    benchmark_peek: bool = False  # score the test set after every epoch (benchmarks only)
    experiment: str | None = None # the sweep this job is one run of (its id), if any
    swept: str | None = None      # the setting that sweep varies (a key of SETTINGS)
    start_from: str = transfer.SCRATCH   # a CNN's convolutions: random, or another CNN's
    base: str | None = None       # the stored CIFAR-10 CNN a photo CNN starts from (model id)

    def __post_init__(self):
        info(self.dataset)        # ValueError for a dataset the app does not know
        if self.kind == "cnn" and self.recipe not in RECIPES:
            raise ValueError(f"unknown CNN recipe {self.recipe!r}; choose from {list(RECIPES)}")
        if problem := transfer.refusal(self.kind, self.recipe, self.dataset, self.start_from,
                                       self.epochs, self.base):
            raise ValueError(problem)

    @property
    def title(self) -> str:
        return title(self.kind, self.recipe)

    @property
    def unit(self) -> str:
        """What one pass of its training is called: "round", "epoch" (a speed check: "epoch")."""
        return KINDS[self.kind].unit if self.kind in KINDS else "epoch"

    def units(self, n: float) -> str:
        """"10 rounds", "2 epochs": `n` passes of its training, as people read them."""
        return KINDS.get(self.kind, KINDS["cnn"]).units(n)

    def settings(self) -> dict:
        """The settings that matter for this kind, as meta.json keeps them; a CNN's start and
        base only when transferred (runs from before it was a setting match runs since)."""
        started = (("start_from",) if self.start_from != transfer.SCRATCH else ()) + (
            ("base",) if self.base else ())
        keep = (("recipe", *started, "epochs", "batch_size", "learning_rate", "schedule",
                 "augment") if self.kind == "cnn" else ("epochs", "C", "augment"))
        return {k: getattr(self, k) for k in keep + ("train_size", "seed")}

    def replace(self, **changes) -> Spec:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Setting:
    """A training setting as people read it: its label, its short name in legends, its format."""

    label: str
    short: str
    kinds: tuple[str, ...]        # the model kinds that have it
    fmt: str = "{}"
    short_for: tuple[tuple[str, str], ...] = ()   # (kind, short name) where a kind says it otherwise
    label_for: tuple[tuple[str, str], ...] = ()   # (kind, label) where a kind says it otherwise
    term: str | None = None       # its entry in core.glossary, if it has one
    unit_after: bool = False      # legends put the value first: "500 images"
    names: tuple[tuple[str, str], ...] = ()   # (value, how it reads) for named values
    unrecorded: object = None     # what runs recorded before the setting existed had

    def label_of(self, kinds: str | Iterable[str] = ()) -> str:
        """Its label for runs of these kinds: an LR's "Rounds", a CNN's "Epochs", and for
        both "Epochs (CNN) / rounds (LR)"."""
        present = [k for k in self.kinds if k in ({kinds} if isinstance(kinds, str) else set(kinds))]
        labels = {k: dict(self.label_for).get(k, self.label) for k in present}
        if len(set(labels.values())) <= 1:
            return next(iter(labels.values()), self.label)
        parts = [f"{text} ({KINDS[k].short})" for k, text in labels.items()]
        return " / ".join([parts[0]] + [in_sentence(p) for p in parts[1:]])

    def glossary_term(self, kind: str) -> str | None:
        """The glossary entry that explains it for runs of `kind`: epochs is the kind's unit."""
        return KINDS[kind].unit if self.term == "unit" else self.term

    def text(self, value) -> str:
        """The value as a person reads it: 0.001, 64, on, 3,000."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if self.names:
            return dict(self.names).get(value, str(value))
        return "all" if value is None else self.fmt.format(value)

    def legend(self, text: str, kind: str | None = None) -> str:
        """The setting named in a legend: "lr 0.001", "augment on", a Logistic Regression's
        "rounds 10"."""
        short = dict(self.short_for).get(kind, self.short)
        if not short:   # the value says it all: "from the built-in, fine-tuned"
            return text
        return f"{text} {short}" if self.unit_after else f"{short} {text}"


def in_sentence(label: str) -> str:
    """A label inside a sentence: "learning rate", "regularisation C" (an initialism stays)."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


SETTINGS = {  # the keys of Spec.settings(), in the order tables show them
    "recipe": Setting("Recipe", "recipe", ("cnn",)),
    "start_from": Setting("Started from", "", ("cnn",), term="transfer learning",
                          names=tuple(transfer.PHRASES.items()), unrecorded=transfer.SCRATCH),
    "epochs": Setting("Epochs", "epochs", ("cnn", "logreg"), short_for=(("logreg", "rounds"),),
                      label_for=(("logreg", "Rounds"),), term="unit"),
    "batch_size": Setting("Batch size", "batch", ("cnn",), term="batch size"),
    "learning_rate": Setting("Learning rate", "lr", ("cnn",), "{:g}", term="learning rate"),
    "schedule": Setting("Schedule", "schedule", ("cnn",), term="one-cycle"),
    "augment": Setting("Augmentation", "augment", ("cnn", "logreg"), term="augmentation"),
    "C": Setting("Regularisation C", "C", ("logreg",), "{:g}", term="regularisation C"),
    "train_size": Setting("Training images used", "images", ("cnn", "logreg"), "{:,}",
                          unit_after=True),
    "seed": Setting("Seed", "seed", ("cnn", "logreg")),
}
SWEEPABLE = {"cnn": ("learning_rate", "epochs", "batch_size", "augment", "train_size"),
             "logreg": ("C", "epochs", "augment", "train_size")}
SWEEP_SIZES = (2, 6)   # a sweep tries this many values, at least and at most


def differing(specs: list[Spec]) -> list[str]:
    """The settings (keys of SETTINGS) whose values differ among `specs` of one kind."""
    return [key for key in SETTINGS if all(s.kind in SETTINGS[key].kinds for s in specs)
            and len({getattr(s, key) for s in specs}) > 1]


def settings_text(spec: Spec, keys: list[str]) -> str:
    """Settings `keys` of `spec` as a legend names them: "lr 0.001 · batch 64"; a photo CNN's
    start names its base by dataset (a run's name says more, from its record: core.runs)."""
    text = {"start_from": transfer.spec_phrase(spec.start_from, spec.base)}
    return " · ".join(SETTINGS[k].legend(text.get(k) or SETTINGS[k].text(getattr(spec, k)),
                                         spec.kind) for k in keys)


def sweep(spec: Spec, setting: str, values) -> list[Spec]:
    """One job per value of `setting`, everything else as in `spec`, tagged as one experiment."""
    if setting not in SWEEPABLE.get(spec.kind, ()):
        named = SETTINGS[setting].label_of(spec.kind) if setting in SETTINGS else repr(setting)
        raise ValueError(f"{named} cannot be swept for a {title(spec.kind)}")
    values = list(dict.fromkeys(values))   # each value once, in the order given
    low, high = SWEEP_SIZES
    if not low <= len(values) <= high:
        raise ValueError(f"a sweep tries {low} to {high} different values; {len(values)} given")
    experiment = f"{setting}-{uuid.uuid4().hex[:6]}"
    return [spec.replace(**{setting: value}, experiment=experiment, swept=setting)
            for value in values]


def swept_setting(experiment: str) -> str:
    """The setting a sweep varies, from its experiment id (made by `sweep`)."""
    return experiment.rsplit("-", 1)[0]


def sweep_options(setting: str, n_images: int) -> tuple:
    """The values the Train page offers to sweep `setting` over (`n_images`: all there are)."""
    return {"learning_rate": LEARNING_RATES, "batch_size": BATCH_SIZES, "C": C_VALUES,
            "epochs": EPOCH_CHOICES, "augment": (False, True),
            "train_size": tuple(n for n in TRAIN_SIZES if n < n_images) + (n_images,)}[setting]


def recipe_spec(name: str, dataset: str = "mnist", **changes) -> Spec:
    """A CNN job with the settings recipe `name` was tuned with."""
    r = RECIPES[name]
    return Spec("cnn", dataset, name, r.epochs, r.batch_size, r.learning_rate, r.schedule,
                r.augment).replace(**changes)


def speed_key(spec: Spec) -> str:
    """What a job's training speed depends on most: image shape, model, recipe, augmentation.

    Batch size is left out: from 64 to 256 it changes a CNN's images/s by under 10 %.
    """
    shape = "x".join(map(str, info(spec.dataset).shape))
    model = spec.kind if spec.kind == "logreg" else f"cnn/{spec.recipe}"
    return f"{shape}:{model}{'/augment' if spec.augment else ''}"


def speed_cases(dataset: str) -> list[Spec]:
    """One spec per speed key the Train page can ask about on `dataset`, for the speed check."""
    models = [Spec("logreg", dataset, C=0.1)] + [recipe_spec(name, dataset) for name in RECIPES]
    return [m.replace(augment=augment) for m in models for augment in (False, True)]
