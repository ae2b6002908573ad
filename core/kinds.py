"""The kinds of model the app trains, their names, and the CNN recipes with their settings.

Plain data, no TensorFlow: the store, the jobs and every page read their names here; the
training worker builds a CNN from its recipe (core.cnn has the layers of each recipe).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULES = {  # key -> the name people see; core.cnn.learning_rate builds each
    "constant": "Constant",
    "one-cycle": "One-cycle (warm-up, cosine)",
}


@dataclass(frozen=True)
class Recipe:
    """A CNN architecture with the training settings it was tuned for (on 60,000 images)."""

    name: str
    summary: str
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str   # a key of SCHEDULES


@dataclass(frozen=True)
class Kind:
    """A kind of model: its name on the page and in legends, and its short name in captions."""

    name: str
    short: str


KINDS = {"logreg": Kind("Logistic Regression", "LR"), "cnn": Kind("CNN", "CNN")}

RECIPES = {r.name: r for r in (
    Recipe("Fast", "Built for time to accuracy on a CPU: a strided 5x5 convolution, batch "
                   "normalisation and a one-cycle schedule; ~99 % on MNIST in 2 epochs.",
           epochs=2, batch_size=128, learning_rate=3e-3, schedule="one-cycle"),
    Recipe("Classic", "keras.io's mnist_convnet (34,826 weights) trained as keras.io does: "
                      "Adam 1e-3, batch 128; ~99 % on MNIST after about 10 epochs.",
           epochs=12, batch_size=128, learning_rate=1e-3, schedule="constant"),
    Recipe("Deeper", "Four convolutions with batch normalisation and a dense layer: slower, "
                     "and the most accurate with augmentation and 15+ epochs.",
           epochs=15, batch_size=128, learning_rate=3e-3, schedule="one-cycle"),
)}
DEFAULT = "Fast"


def title(kind: str, recipe: str | None = None) -> str:
    """A model's display name: "Logistic Regression", "CNN (Fast)"."""
    return KINDS[kind].name + (f" ({recipe})" if recipe else "")


def settings(name: str) -> dict:
    """A recipe's training settings as they appear in a job spec."""
    r = RECIPES[name]
    return {"preset": name, "epochs": r.epochs, "batch_size": r.batch_size,
            "learning_rate": r.learning_rate, "schedule": r.schedule}


def speed_key(spec: dict) -> str:
    """What a job's training speed depends on most: the model, its recipe and augmentation.

    Batch size is left out: from 64 to 256 it changes a CNN's images/s by under 10 %.
    """
    model = spec["kind"] if spec["kind"] == "logreg" else f"cnn/{spec.get('preset', 'Classic')}"
    return f"{model}{'/augment' if spec.get('augment') else ''}"


def speed_cases() -> list[dict]:
    """One spec per speed key the Train page can ask about, for the speed check."""
    models = [{"kind": "logreg", "C": 0.1}] + [
        {"kind": "cnn", **settings(name)} for name in RECIPES]
    return [{**m, "augment": augment} for m in models for augment in (False, True)]
