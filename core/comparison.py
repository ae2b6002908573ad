"""Two models side by side: what the page calls each one and how each scored."""

from __future__ import annotations

from dataclasses import dataclass

from core import kinds, transfer
from core.metrics import Evaluation
from core.store import ModelInfo


def names(a: ModelInfo, b: ModelInfo, short: bool = False) -> tuple[str, str]:
    """Names for headings and legends (short: for captions under images).

    " A" / " B" are added when both models would otherwise read the same.
    """
    na, nb = ((kinds.KINDS[m.kind].short if short else m.title) for m in (a, b))
    return (f"{na} A", f"{nb} B") if na == nb else (na, nb)


@dataclass(frozen=True)
class Pair:
    """The two models on the page, their names, and how each scored on the test set."""

    models: tuple[ModelInfo, ModelInfo]
    names: tuple[str, str]    # for headings and legends
    short: tuple[str, str]    # for captions under images
    evals: tuple[Evaluation, Evaluation]

    @classmethod
    def of(cls, models: tuple[ModelInfo, ModelInfo], evals) -> Pair:
        return cls(models, names(*models), names(*models, short=True), tuple(evals))


# ---------------------------------------------------------------- what each model's record says
# Every sentence Compare says about how a model was trained is built here, from its meta.json.

NOT_HERE = "trained elsewhere"   # an uploaded model: its training is not recorded


def augmentation_claim(model: ModelInfo) -> str:
    """The augmentation the model was trained with, as its record says: "none", or what a
    model of its kind on its dataset gets (core.kinds.augmentation_text)."""
    settings = model.meta.get("settings") or {}
    if model.uploaded:
        return f"not recorded ({NOT_HERE})"
    if "augment" not in settings:
        return "not recorded"
    return kinds.augmentation_text(model.kind, model.dataset) if settings["augment"] else "none"


def settings_claim(model: ModelInfo) -> str:
    """Its training settings as recorded, named as legends name them (core.kinds.SETTINGS):
    "recipe Deeper · epochs 15 · batch 128 · lr 0.003 · schedule one-cycle", "rounds 15 · C 0.1"."""
    if model.uploaded:
        return NOT_HERE
    settings = model.meta.get("settings") or {}
    keys = [k for k in kinds.SETTINGS
            if k in settings and k not in ("augment", "train_size", "seed", "start_from")]
    return " · ".join(kinds.SETTINGS[k].legend(kinds.SETTINGS[k].text(settings[k]), model.kind)
                      for k in keys) or "not recorded"


def started_from_claim(model: ModelInfo) -> str:
    """Where its CNN's weights started, as its record says (core.transfer.claim); a CNN
    recorded before transfer learning existed started from scratch."""
    if model.kind != "cnn":
        return "not a CNN: a Logistic Regression has no convolutions to start from"
    if model.uploaded:
        return NOT_HERE
    settings = model.meta.get("settings") or {}
    return transfer.claim(settings.get("start_from"), settings.get("epochs"),
                          model.meta.get("base"))
