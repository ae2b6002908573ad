"""What training asks of a dataset a person made: it is refused while a class has too few
examples, and noted when a model trained on it is saved (it is then kept a day at least).

Both do nothing for the built-in sets: they have no record among the made ones, so the
Train page and the job runner call them for every dataset without asking which kind it is.
"""

from __future__ import annotations

from core.own_datasets import OwnDatasetError, mark_trained, training_problem


def refusal(key: str) -> str | None:
    """Why dataset `key` cannot be trained yet (core.own_datasets.training_problem), or None:
    a built-in set, or a made one ready to train."""
    try:
        return training_problem(key)
    except OwnDatasetError:
        return None


def note_trained(key: str) -> None:
    """Mark dataset `key` trained now (core.own_datasets.mark_trained); nothing for a built-in
    set, or for one deleted while its model trained (nor when the disk refuses: the model
    is saved, which matters more)."""
    try:
        mark_trained(key)
    except (OwnDatasetError, OSError):
        pass
