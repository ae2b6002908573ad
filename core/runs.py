"""Runs: every stored model as one run with its whole record, and the names that tell runs apart.

Pure (no Streamlit): pages/runs.py shows the table, the overlays and the settings this builds.
A run's settings are read through core.kinds.SETTINGS (label, short name, format), so a setting
is named and formatted the same in the table, the legends and the settings view.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from core import kinds, verdict
from core.kinds import SETTINGS
from core.store import ModelInfo

NOT_RECORDED = "—"               # a setting the run's meta.json does not have
LOG_SETTINGS = ("learning_rate", "C")   # settings tried on a log scale: their charts use one

# The table's columns that are not settings (those are named by their SETTINGS label).
RUN, EXPERIMENT, TEST, BEST_VAL, VERDICT, KIND = (
    "Run", "Experiment", "Test accuracy", "Best validation accuracy", "Verdict", "Kind")
IMAGES, SECONDS, SPEED, DATE, BUILT_IN, ID = (
    "Images used", "Training time (s)", "Images/s", "Date (UTC)", "Built-in", "ID")


# ---------------------------------------------------------------- one run's numbers

def kind_name(model: ModelInfo) -> str:
    """"Logistic Regression", "CNN"; an unknown kind by its key."""
    known = kinds.KINDS.get(model.kind)
    return known.name if known else model.kind


def title(model: ModelInfo) -> str:
    """Its kind and recipe: "CNN (Fast)", "CNN (uploaded: m.h5)"; an unknown kind by its key."""
    return model.title if model.kind in kinds.KINDS else model.kind


def name(model: ModelInfo) -> str:
    """The run as a person recognises it: "CNN (Fast) · 2026-12-01 10:30"."""
    return f"{title(model)} · {model.when}"


def has_setting(model: ModelInfo, key: str) -> bool:
    """Whether runs of this kind have setting `key` at all (a Logistic Regression has no batch)."""
    return model.kind in SETTINGS[key].kinds


def setting_value(model: ModelInfo, key: str):
    """Setting `key` of a run as trained: "all" training images is their number when recorded.

    None when the run does not have it or its meta.json does not say (older runs).
    """
    settings = model.meta.get("settings") or {}
    if key == "recipe":
        return model.recipe
    if key == "train_size" and settings.get("train_size") is None:
        used, val = model.meta.get("train_size"), model.meta.get("val_size")
        return used + val if used is not None and val is not None else None
    return settings.get(key)


def setting_text(model: ModelInfo, key: str) -> str:
    """Setting `key` as a person reads it ("0.001", "on", "3,000"); "" for another kind's."""
    if not has_setting(model, key):
        return ""
    value = setting_value(model, key)
    return NOT_RECORDED if value is None else SETTINGS[key].text(value)


def epochs(model: ModelInfo) -> float | None:
    """Epochs (a Logistic Regression's rounds) it trained: as set, else as its curves show."""
    set_to = setting_value(model, "epochs")
    if set_to is not None:
        return set_to
    return max((p.get("epoch", 0) for p in model.history), default=None)


def images_per_s(model: ModelInfo) -> float | None:
    """Training speed: training images x epochs / training seconds."""
    used, seconds, n = model.meta.get("train_size"), model.meta.get("train_seconds"), epochs(model)
    return used * n / seconds if used and seconds and n else None


def best_val_accuracy(model: ModelInfo) -> float | None:
    """The highest validation accuracy its curves reached."""
    return max((p["val_accuracy"] for p in model.history if "val_accuracy" in p), default=None)


def verdict_word(model: ModelInfo) -> str | None:
    """The Train page's one-word verdict on its curves, or None without (readable) curves."""
    if not model.history:
        return None
    try:
        return verdict.record_verdict(model.meta)[0]
    except (KeyError, TypeError, ZeroDivisionError):   # curves saved without some numbers
        return None


# ---------------------------------------------------------------- experiments

def experiment_id(model: ModelInfo) -> str | None:
    return (model.experiment or {}).get("id")


def experiment_names(models: Iterable[ModelInfo]) -> dict[str, str]:
    """A name per experiment: "sweep of learning rate", with its start when two share a name."""
    first: dict[str, ModelInfo] = {}
    for model in sorted(models, key=lambda m: m.created_at):
        if experiment_id(model) is not None:
            first.setdefault(experiment_id(model), model)
    plain = {key: "sweep of " + swept_label(m) for key, m in first.items()}
    shared = {n for n in plain.values() if list(plain.values()).count(n) > 1}
    return {key: n + (f" ({first[key].date})" if n in shared else "") for key, n in plain.items()}


def swept_label(model: ModelInfo) -> str:
    """The setting its sweep varies, as people read it ("learning rate")."""
    swept = (model.experiment or {}).get("swept")
    return SETTINGS[swept].label.lower() if swept in SETTINGS else str(swept or "a setting")


def grouped(models: list[ModelInfo]) -> list[ModelInfo]:
    """`models` in their order, except that the runs of an experiment follow its first one."""
    order: dict[str | None, int] = {}
    for i, model in enumerate(models):
        order.setdefault(experiment_id(model) or model.id, i)
    return sorted(models, key=lambda m: order[experiment_id(m) or m.id])


# ---------------------------------------------------------------- the table

def row(model: ModelInfo, experiments: dict[str, str] | None = None) -> dict:
    """A run's whole record: name, experiment, kind, every setting, speed, scores, verdict."""
    experiments = experiment_names([model]) if experiments is None else experiments
    return {
        RUN: name(model),
        EXPERIMENT: experiments.get(experiment_id(model)),
        TEST: model.test_accuracy,
        BEST_VAL: best_val_accuracy(model),
        VERDICT: verdict_word(model),
        KIND: kind_name(model),
        **{s.label: setting_value(model, key) if has_setting(model, key) else None
           for key, s in SETTINGS.items()},
        IMAGES: model.meta.get("train_size"),
        SECONDS: model.meta.get("train_seconds"),
        SPEED: images_per_s(model),
        DATE: model.date,
        BUILT_IN: model.builtin,
        ID: model.id,
    }


def table(models: list[ModelInfo]) -> pd.DataFrame:
    """One row per run (see `row`), in the order given; numbers stay numbers, so they sort."""
    experiments = experiment_names(models)
    frame = pd.DataFrame([row(m, experiments) for m in models])
    return frame.convert_dtypes()   # nullable types: a batch size stays 64, not 64.0


def to_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8), for a spreadsheet."""
    return frame.to_csv(index=False).encode()


# ---------------------------------------------------------------- runs side by side

def differing(models: list[ModelInfo]) -> list[str]:
    """The settings (keys of SETTINGS) whose values differ among `models`, counting only those
    every one of them has (a Logistic Regression has no learning rate to differ in)."""
    return [key for key in SETTINGS
            if all(has_setting(m, key) for m in models)
            and len({setting_text(m, key) for m in models}) > 1]


def legend_names(models: list[ModelInfo]) -> dict[str, str]:
    """A name per run (by id) from the settings that differ among them: "lr 0.001 · batch 64".

    The kind and recipe lead when the kinds differ; runs that differ in nothing are named by
    date (built-in), then by id. The names are always unique.
    """
    lead = len({m.kind for m in models}) > 1
    keys = differing(models)
    names = {}
    for m in models:
        parts = ([title(m)] if lead else []) + [
            SETTINGS[k].legend(setting_text(m, k), m.kind) for k in keys]
        names[m.id] = " · ".join(parts) or m.when
    return unique(names, models)


def unique(names: dict[str, str], models: list[ModelInfo]) -> dict[str, str]:
    """`names` with the date, then the end of the id, added to any name two runs share."""
    for extra in (lambda m: m.when, lambda m: m.id[-6:]):
        repeated = {n for n in names.values() if list(names.values()).count(n) > 1}
        names = {m.id: f"{names[m.id]} · {extra(m)}" if names[m.id] in repeated else names[m.id]
                 for m in models}
    return names


def settings_table(models: list[ModelInfo], only_differences: bool = False) -> pd.DataFrame:
    """The runs' settings side by side (a column per run, by legend name), as people read them;
    only the settings that differ among them when asked."""
    keys = [k for k in SETTINGS if any(has_setting(m, k) for m in models)]
    if only_differences:
        keys = [k for k in keys if len({setting_text(m, k) for m in models}) > 1]
    names = legend_names(models)
    frame = pd.DataFrame({names[m.id]: [setting_text(m, k) for k in keys]
                          for m in oldest_first(models)},
                         index=[SETTINGS[k].label for k in keys])
    frame.index.name = "Setting"
    return frame


def differences(models: list[ModelInfo]) -> pd.DataFrame:
    """Only the settings that differ among `models` (W&B's "differences only")."""
    return settings_table(models, only_differences=True)


def oldest_first(models: list[ModelInfo]) -> list[ModelInfo]:
    """Runs in the order they were trained: a run keeps its colour (and column) when a newer
    one is ticked beside it."""
    return sorted(models, key=lambda m: (m.created_at, m.id))


def curves(models: list[ModelInfo]) -> dict[str, list[dict]]:
    """Each run's training curves by legend name, oldest first; runs without curves left out."""
    names = legend_names(models)
    return {names[m.id]: m.history for m in oldest_first(models) if m.history}


# ---------------------------------------------------------------- one setting against accuracy

def scatter_settings(kind: str) -> list[str]:
    """The settings of a kind that can be plotted against test accuracy."""
    return [key for key, s in SETTINGS.items() if kind in s.kinds]


def setting_points(models: list[ModelInfo], kind: str, key: str
                   ) -> tuple[list, list[float], list[str]]:
    """(setting values, test accuracies, run names) of the scored runs of `kind` that record
    setting `key`; text values ("on", "Fast") unless every value is a number."""
    runs = [m for m in models if m.kind == kind and m.test_accuracy is not None
            and setting_value(m, key) is not None]
    values = [setting_value(m, key) for m in runs]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        values = [SETTINGS[key].text(v) for v in values]
    return values, [m.test_accuracy for m in runs], [name(m) for m in runs]
