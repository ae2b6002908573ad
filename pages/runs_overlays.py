"""What runs show side by side, part of the Train page's Runs: the ticked runs' curves on one
chart and their settings; one setting against test accuracy among runs of one data size."""

import streamlit as st

from core import data, kinds, runs, runs_charts, store
from core.kinds import SETTINGS
from pages import common

X_AXES = ("epoch", "time")   # the overlay's x axis: training passes, or seconds


def overlay(ticked: list[store.ModelInfo], named: dict[str, str]) -> None:
    """The ticked runs' accuracy and loss on one chart each, named by how their settings differ
    (`named`: the table's names, for runs without curves)."""
    axis = kinds.unit_axis(m.kind for m in ticked)
    x = st.segmented_control("X axis", X_AXES, default="epoch", key="runs-x",
                             format_func=lambda x: "Seconds" if x == "time" else axis.capitalize()
                             ) or "epoch"
    curves, kinds_of = runs.curves(ticked), runs.curve_kinds(ticked)
    without = [named[m.id] for m in ticked if not m.history]
    if without:
        st.caption(f"No stored curves: {', '.join(without)}.")
    if not curves:
        return
    left, right = st.columns(2, gap="large")
    for col, metric in zip((left, right), ("accuracy", "loss")):
        col.plotly_chart(runs_charts.runs_overlay(curves, metric, x, kinds_of=kinds_of),
                         key=f"runs-overlay-{metric}", config={"displayModeBar": False})
    st.caption("Validation is measured on a held-out 10 % of each run's training images. "
               "Click a run in a legend to hide it, double-click to show it alone.")


def settings_view(ticked: list[store.ModelInfo]) -> None:
    """The ticked runs' settings side by side: by default only those that differ."""
    only = st.toggle("Only the settings that differ", value=True, key="runs-differences")
    frame = runs.settings_table(ticked, only_differences=only)
    if frame.empty:
        st.caption("Tick two or more runs to see how their settings differ." if len(ticked) < 2
                   else "The ticked runs were trained with the same settings.")
    else:
        st.dataframe(frame, width="stretch")


# ---------------------------------------------------------------- all runs

def scatter_view(models: list[store.ModelInfo], ds: data.Dataset, named: dict[str, str]) -> None:
    """One setting against test accuracy, a dot per run of one kind and one data size: the
    number of training images moves accuracy more than most settings, so sizes are not mixed."""
    counts = {k: sum(m.kind == k for m in models) for k in kinds.KINDS}
    present = [k for k in kinds.KINDS if counts[k]]
    if not present:
        return
    st.markdown("**A setting against test accuracy**")
    left, middle, right = st.columns([2, 2, 2])
    most = max(present, key=counts.get)
    kind = left.segmented_control("Runs of", present, default=most, key="runs-scatter-kind",
                                  format_func=lambda k: kinds.KINDS[k].name) or most
    options = runs.scatter_settings(kind)
    first = first_setting([m for m in models if m.kind == kind], options)
    setting = middle.selectbox("Setting", options, format_func=lambda k: SETTINGS[k].label_of(kind),
                               index=options.index(first), key=f"runs-scatter-setting-{kind}")
    images = None if setting == "train_size" else image_choice(right, models, kind)
    values, accuracies, names = runs.setting_points(models, kind, setting, images, named)
    label = SETTINGS[setting].label_of(kind)
    if not values:
        st.caption(f"No scored {kinds.KINDS[kind].name} run records its "
                   f"{kinds.in_sentence(label)}.")
        return
    size = f", {images:,} training images each" if images is not None else ""
    st.plotly_chart(runs_charts.setting_scatter(
        values, accuracies, names, label, f"Test accuracy against {kinds.in_sentence(label)}",
        f"{len(values)} {kinds.KINDS[kind].short} run{'s' if len(values) > 1 else ''}{size}",
        log=setting in runs.LOG_SETTINGS), key="runs-scatter", config={"displayModeBar": False})
    st.caption(held_note(models, kind, setting, images, len(values), ds))


def image_choice(column, models: list[store.ModelInfo], kind: str) -> int | None:
    """The number of training images whose runs the chart shows (the most used first)."""
    counts = runs.image_counts(models, kind)
    if not counts:
        return None
    return column.selectbox(SETTINGS["train_size"].label, list(counts), key=f"runs-scatter-images-{kind}",
                            format_func=lambda n: f"{n:,} ({counts[n]} run{'s' if counts[n] > 1 else ''})")


def held_note(models: list[store.ModelInfo], kind: str, setting: str, images: int | None,
              n: int, ds: data.Dataset) -> str:
    """The chart's caption: which runs it holds, and what else differs among them."""
    size = f" with {images:,} training images" if images is not None else ""
    also = runs.also_differing(models, kind, setting, images)
    rest = (f"they also differ in {', '.join(kinds.in_sentence(SETTINGS[k].label_of(kind)) for k in also)} "
            "(hover a dot for its run)" if also else "all their other settings the same")
    return (f"{n} {kinds.KINDS[kind].name} run{'s' if n > 1 else ''}{size} on {ds.title}, "
            f"scored on {len(ds.y_test):,} test images; {rest}. Accuracy depends on the number "
            "of training images more than on most settings, so the chart shows one number at "
            "a time.")


def first_setting(of_kind: list[store.ModelInfo], options: list[str]) -> str:
    """The setting shown first: the one the newest sweep varied, else the first that varies."""
    swept = [(m.experiment or {}).get("swept") for m in runs.oldest_first(of_kind)[::-1]]
    varied = [k for k in options if len({runs.setting_text(m, k) for m in of_kind}) > 1]
    return next((k for k in swept + varied if k in options), options[0])


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
