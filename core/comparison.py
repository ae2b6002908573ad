"""Two models side by side: what the page calls each one and how each scored."""

from __future__ import annotations

from dataclasses import dataclass

from core import kinds
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
