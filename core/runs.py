"""Runs: every stored model as one run with its whole record, and the names that tell runs apart.

Pure (no Streamlit): pages/runs.py shows the table, the overlays and the settings this builds.
A run's settings are read through core.kinds.SETTINGS (label, short name, format), so a setting
is named and formatted the same in the table, the legends and the settings view.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from core import kinds, transfer, verdict
from core.kinds import SETTINGS
from core.store import ModelInfo

NOT_RECORDED = "—"               # a setting the run's meta.json does not have
LOG_SETTINGS = ("learning_rate", "C")   # settings tried on a log scale: their charts use one

# The table's columns that are not settings (those are named by their SETTINGS label).
RUN, EXPERIMENT, TEST, BEST_VAL, VERDICT, KIND = (
    "Run", "Experiment", "Test accuracy", "Best validation accuracy", "Verdict", "Kind")
IMAGES, SECONDS, SPEED, DATE, BUILT_IN, ID = (
    "Images used", "Training time (s)", "Images/s overall", "Date (UTC)", "Built-in", "ID")
ESTIMATE = "Estimated / real time (s)"   # launch to saved, as the Train page estimated it


# ---------------------------------------------------------------- one run's numbers

def defaults(model: ModelInfo) -> dict:
    """The settings the Train page starts from for a run of this kind (its recipe's, for a CNN)."""
    recipe = model.recipe if model.recipe in kinds.RECIPES else None
    return kinds.default_spec(model.kind, model.dataset, recipe).settings()


def changed(model: ModelInfo, all_images: int | None = None) -> list[str]:
    """The settings (keys of SETTINGS) it was trained with that differ from the Train page's
    defaults for its kind; the recipe is in its title, and `all_images` training images (the
    dataset's all) are the default too. An uploaded model records none."""
    if model.uploaded:
        return []
    first, settings = defaults(model), model.meta.get("settings") or {}
    keys = []
    for key in SETTINGS:
        if key == "recipe" or not has_setting(model, key) or settings.get(key) is None:
            continue
        if key == "train_size" and settings[key] == all_images:
            continue
        if settings[key] != first.get(key):
            keys.append(key)
    return keys


def name(model: ModelInfo, all_images: int | None = None) -> str:
    """The run named by its kind and what it changed from the defaults, TensorBoard-style:
    "Logistic Regression · C 0.01 · 500 images"; a built-in ends "· built-in"."""
    parts = [model.title] + [SETTINGS[k].legend(setting_text(model, k), model.kind)
                              for k in changed(model, all_images)]
    return " · ".join(parts + (["built-in"] if model.builtin else []))


def names(models: list[ModelInfo], all_images: int | None = None) -> dict[str, str]:
    """A name per run (by id), unique among `models`: runs that share a name get the date and
    time they were saved, then the end of their id."""
    return unique({m.id: name(m, all_images) for m in models}, models,
                  extras=(lambda m: m.date, lambda m: m.id[-6:]))


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
    return settings.get(key, SETTINGS[key].unrecorded)


def setting_text(model: ModelInfo, key: str) -> str:
    """Setting `key` as a person reads it ("0.001", "on", "3,000"); "" for another kind's."""
    if not has_setting(model, key):
        return ""
    value = setting_value(model, key)
    if key == "start_from" and value is not None:   # named by its base, as its record says
        return transfer.phrase(value, model.meta.get("base"))
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


def estimate_vs_real(model: ModelInfo) -> str | None:
    """"52 / 46": the seconds the Train page estimated for the run and those it took, launch to
    saved ("— / 46" when nothing was estimated); None for runs that did not record them."""
    estimated, real = model.meta.get("estimated_seconds"), model.meta.get("job_seconds")
    if real is None:
        return None
    return f"{NOT_RECORDED if estimated is None else f'{estimated:.0f}'} / {real:.0f}"


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
    """A name per experiment: "sweep of regularisation C", with its start when two share a name."""
    first: dict[str, ModelInfo] = {}
    for model in sorted(models, key=lambda m: m.created_at):
        if experiment_id(model) is not None:
            first.setdefault(experiment_id(model), model)
    plain = {key: "sweep of " + swept_label(m) for key, m in first.items()}
    shared = {n for n in plain.values() if list(plain.values()).count(n) > 1}
    return {key: n + (f" ({first[key].date})" if n in shared else "") for key, n in plain.items()}


def swept_label(model: ModelInfo) -> str:
    """The setting its sweep varies, as a sentence says it ("regularisation C", "rounds")."""
    swept = (model.experiment or {}).get("swept")
    if swept not in SETTINGS:
        return str(swept or "a setting")
    return kinds.in_sentence(SETTINGS[swept].label_of(model.kind))


def grouped(models: list[ModelInfo]) -> list[ModelInfo]:
    """`models` in their order, except that the runs of an experiment follow its first one."""
    order: dict[str | None, int] = {}
    for i, model in enumerate(models):
        order.setdefault(experiment_id(model) or model.id, i)
    return sorted(models, key=lambda m: order[experiment_id(m) or m.id])


# ---------------------------------------------------------------- the table

def columns(models: list[ModelInfo]) -> dict[str, str]:
    """Each setting's column (key -> label) in a table of `models`: epochs is "Rounds" when all
    are Logistic Regressions, "Epochs (CNN) / rounds (LR)" when both kinds are there."""
    present = {m.kind for m in models} or set(kinds.KINDS)
    return {key: s.label_of(present) for key, s in SETTINGS.items()}


def row(model: ModelInfo, experiments: dict[str, str] | None = None,
        named: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> dict:
    """A run's whole record: name, scores, verdict, experiment, kind, every setting, speed.

    `experiments`, `named` and `labels` (experiment_names, names, columns) of the table it is in.
    """
    experiments = experiment_names([model]) if experiments is None else experiments
    named = named or names([model])
    labels = labels or columns([model])
    return {
        RUN: named[model.id],
        TEST: model.test_accuracy,
        VERDICT: verdict_word(model),
        EXPERIMENT: experiments.get(experiment_id(model)),
        BEST_VAL: best_val_accuracy(model),
        KIND: kinds.KINDS[model.kind].name,
        **{labels[key]: setting_value(model, key) if has_setting(model, key) else None
           for key in SETTINGS},
        IMAGES: model.meta.get("train_size"),
        SECONDS: model.meta.get("train_seconds"),
        ESTIMATE: estimate_vs_real(model),
        SPEED: images_per_s(model),
        DATE: model.date,
        BUILT_IN: model.builtin,
        ID: model.id,
    }


def table(models: list[ModelInfo], all_images: int | None = None) -> pd.DataFrame:
    """One row per run (see `row`), in the order given; numbers stay numbers, so they sort.

    Columns: name, test accuracy, verdict, the settings that differ among `models` (those with
    the most values first: a sweep's setting before what only the built-ins changed), the rest.
    """
    labels, named = columns(models), names(models, all_images)
    experiments = experiment_names(models)
    frame = pd.DataFrame([row(m, experiments, named, labels) for m in models])
    most_varied = sorted(varying(models), key=lambda k: -len({setting_text(m, k) for m in models}))
    first = [RUN, TEST, VERDICT] + [labels[k] for k in most_varied]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    return frame.convert_dtypes()   # nullable types: a batch size stays 64, not 64.0


def varying(models: list[ModelInfo]) -> list[str]:
    """The settings (keys of SETTINGS) whose values differ among the runs of `models` that
    have them (a CNN's learning rate counts even beside Logistic Regressions)."""
    return [key for key in SETTINGS
            if len({setting_text(m, key) for m in models if has_setting(m, key)}) > 1]


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
        parts = ([m.title] if lead else []) + [
            SETTINGS[k].legend(setting_text(m, k), m.kind) for k in keys]
        names[m.id] = " · ".join(parts) or m.when
    return unique(names, models)


def unique(names: dict[str, str], models: list[ModelInfo], extras=None) -> dict[str, str]:
    """`names` with the first of `extras` (by default built-in or the date, then the end of the
    id) added to any name two runs share, then the next."""
    for extra in extras or (lambda m: m.when, lambda m: m.id[-6:]):
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
    labels = columns(models)
    frame = pd.DataFrame({names[m.id]: [setting_text(m, k) for k in keys]
                          for m in oldest_first(models)},
                         index=[labels[k] for k in keys])
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


def curve_kinds(models: list[ModelInfo]) -> dict[str, str]:
    """Each run's kind by legend name (as `curves` names them), so its x reads in its unit."""
    names = legend_names(models)
    return {names[m.id]: m.kind for m in models}


# ---------------------------------------------------------------- one setting against accuracy

def scatter_settings(kind: str) -> list[str]:
    """The settings of a kind that can be plotted against test accuracy."""
    return [key for key, s in SETTINGS.items() if kind in s.kinds]


def scored(models: list[ModelInfo], kind: str, key: str) -> list[ModelInfo]:
    """The runs of `kind` with a test accuracy that record setting `key`."""
    return [m for m in models if m.kind == kind and m.test_accuracy is not None
            and setting_value(m, key) is not None]


def image_counts(models: list[ModelInfo], kind: str) -> dict[int, int]:
    """Training images used -> how many scored runs of `kind` used that many, most used first."""
    counts: dict[int, int] = {}
    for m in scored(models, kind, "train_size"):
        counts[setting_value(m, "train_size")] = counts.get(setting_value(m, "train_size"), 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], -item[0])))


def setting_points(models: list[ModelInfo], kind: str, key: str, images: int | None = None,
                   named: dict[str, str] | None = None) -> tuple[list, list[float], list[str]]:
    """(setting values, test accuracies, run names) of the scored runs of `kind` that record
    setting `key` (and, given `images`, trained on that many images: accuracy depends on it
    more than on most settings); text values ("on", "Fast") unless every value is a number."""
    runs = [m for m in scored(models, kind, key)
            if images is None or setting_value(m, "train_size") == images]
    named = named or names(runs)
    values = [setting_value(m, key) for m in runs]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        values = [SETTINGS[key].text(v) for v in values]
    return values, [m.test_accuracy for m in runs], [named[m.id] for m in runs]


def also_differing(models: list[ModelInfo], kind: str, key: str, images: int | None) -> list[str]:
    """The settings other than `key` (and the images) that differ among the runs a
    setting-against-accuracy chart holds: what it does not hold constant."""
    runs = [m for m in scored(models, kind, key)
            if images is None or setting_value(m, "train_size") == images]
    return [k for k in varying(runs) if k not in (key, "train_size")]
