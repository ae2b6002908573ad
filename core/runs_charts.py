"""The Runs section's Plotly figures: several runs' curves on one chart, and one setting against
test accuracy. Pure functions: data in, figure out (core.runs names the runs)."""

from __future__ import annotations

from core.plot import go

from core import kinds
from core.charts import LABELS, TICKS, _titled

RUN_COLORS = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
              "#ff9da6", "#9d755d", "#bab0ac", "#1f77b4", "#2ca02c")   # Tableau 10, then two more
TIME_AXIS = ("seconds since training began", "%{x:.1f} s")   # (axis title, a point's x on hover)


def x_axis(x: str, kind_keys) -> tuple[str, dict[str, str]]:
    """(axis title, kind -> how a point's x reads on hover) for an overlay against `x`: "time",
    or "epoch", which counts a Logistic Regression's rounds and a CNN's epochs."""
    if x == "time":
        return TIME_AXIS[0], {k: TIME_AXIS[1] for k in kinds.KINDS}
    return (kinds.unit_axis(kind_keys),
            {k: f"{kind.unit} %{{x:.2f}}" for k, kind in kinds.KINDS.items()})


def runs_overlay(curves: dict[str, list[dict]], metric: str, x: str = "epoch",
                 title: str | None = None, note: str = "",
                 kinds_of: dict[str, str] | None = None) -> go.Figure:
    """Several runs' `metric` on one chart, a colour per run: validation solid, training dotted.

    `curves` maps a run's name to its points (dicts with epoch, time, accuracy, loss,
    val_accuracy, val_loss); `x` is "epoch" or "time"; `kinds_of` maps a run's name to its kind
    (else a CNN), so a Logistic Regression's x reads in rounds. Clicking a run in the legend
    hides both of its lines.
    """
    kinds_of = kinds_of or {}
    axis, hover = x_axis(x, [kinds_of.get(name, "cnn") for name in curves])
    fig = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        for key, dash, part in ((f"val_{metric}", "solid", "validation"),
                                (metric, "dot", "training")):
            shown = [p for p in points if x in p and key in p]
            fig.add_scatter(
                x=[p[x] for p in shown], y=[p[key] for p in shown], mode="lines", name=name,
                legendgroup=name, showlegend=part == "validation",
                line=dict(color=color, dash=dash, width=2 if part == "validation" else 1.5),
                hovertemplate=f"{name}<br>{hover[kinds_of.get(name, 'cnn')]}, {part} "
                              "%{y:.4f}<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0, xanchor="left", yanchor="top"),
                      xaxis=dict(title=axis, rangemode="tozero"),
                      yaxis=dict(title=LABELS[metric], tickformat=TICKS.get(metric)))
    subtitle = "solid: validation, dotted: training" + (f"; {note}" if note else "")
    return _titled(fig, title or f"{LABELS[metric]} of each run", subtitle,
                   height=420 + 22 * ((len(curves) + 1) // 2))


def setting_scatter(values: list, accuracies: list[float], names: list[str], setting: str,
                    title: str, note: str, log: bool = False) -> go.Figure:
    """Test accuracy against one setting, a dot per run (hover names it); `log` for settings
    tried on a log scale, such as a learning rate."""
    text = not all(isinstance(v, (int, float)) for v in values)
    fig = go.Figure(go.Scatter(
        x=values, y=accuracies, mode="markers", text=names,
        marker=dict(size=11, color=RUN_COLORS[0], opacity=0.8,
                    line=dict(color="#ffffff", width=1)),
        hovertemplate=f"%{{text}}<br>{setting} %{{x}}<br>test accuracy %{{y:.2%}}<extra></extra>"))
    tried = sorted(set(values)) if not text else None
    fig.update_layout(xaxis=dict(title=setting, type="category" if text else
                                 "log" if log else "linear",
                                 tickvals=tried if tried and len(tried) <= 8 else None),
                      yaxis=dict(title="test accuracy", tickformat=".1%",
                                 range=accuracy_range(accuracies)))
    return _titled(fig, title, note, height=380)


def accuracy_range(accuracies: list[float]) -> list[float]:
    """A y range around the accuracies that never runs past 0 % or 100 %."""
    low, high = min(accuracies), max(accuracies)
    pad = max(0.01, (high - low) * 0.1)
    return [max(0.0, low - pad), min(1.0, high + pad)]
