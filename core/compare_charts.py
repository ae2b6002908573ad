"""The Compare page's figures: confusion matrices, per-class bars, robustness bars and the
reliability diagram. Pure functions: data in, figure out; each has a title and a subtitle
that says what data it was measured on (see core.charts._titled)."""

from __future__ import annotations

import numpy as np
from core.plot import go

from core import metrics
from core.charts import MODEL_COLORS, _titled

# White for 0, then quickly visible: a handful of mistakes must not look like nothing.
CONFUSION_SCALE = [[0.0, "#ffffff"], [0.004, "#eef0fb"], [0.03, "#c7cbf3"],
                   [0.15, "#8b90e6"], [0.5, "#5b5fd6"], [1.0, "#312e81"]]
SELECTED_COLOR = "#e11d48"
CELL_FONT = 12   # px: readable at 1280 px, and fits "1122" in a 390 px phone's ~30 px cells
BELOW = dict(orientation="h", x=0, y=-0.2, xanchor="left", yanchor="top")   # a legend under
                                    # the plot: on a phone, one above it covers the subtitle


def confusion_matrix(cm, class_names, title: str, data_note: str, normalised: bool = False,
                     selected: tuple[int, int] | None = None, zmax: float | None = None
                     ) -> go.Figure:
    """A clickable confusion matrix: rows = true class, columns = predicted class.

    Plotly heatmap cells cannot be selected in Streamlit, so every cell also carries an
    invisible square marker with customdata [true, predicted]; clicking the cell selects
    that marker (see clicked_cell). `selected` gets a red outline. No hover box: on a phone
    it covered the cells; the page names the clicked cell and its count under the matrix.
    """
    counts = np.asarray(cm)
    shares = metrics.row_normalised(counts)
    z = shares if normalised else counts
    text = [[(f"{v:.0%}" if normalised else f"{v}") if c else "" for v, c in zip(zr, cr)]
            for zr, cr in zip(z, counts)]
    names = [str(c) for c in class_names]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, text=text, texttemplate="%{text}", colorscale=CONFUSION_SCALE,
        textfont=dict(size=CELL_FONT),
        zmin=0, zmax=zmax if zmax is not None else (1 if normalised else counts.max()),
        showscale=False, hoverinfo="skip", xgap=1, ygap=1))
    n = len(names)
    cells = [(t, p) for t in range(n) for p in range(n)]
    fig.add_scatter(
        x=[names[p] for t, p in cells], y=[names[t] for t, p in cells], mode="markers",
        marker=dict(symbol="square", size=28, opacity=0, color="#000000"),
        customdata=[[t, p, int(counts[t, p]), shares[t, p]] for t, p in cells],
        hoverinfo="none",   # no box over the cells: a click names the cell under the matrix
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        showlegend=False)
    if selected is not None:
        t, p = selected
        fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                      line=dict(color=SELECTED_COLOR, width=3))
    # Fixed ranges: otherwise the big invisible markers pad the axes.
    fig.update_xaxes(title="predicted", type="category", showgrid=False, range=[-0.5, n - 0.5],
                     tickangle=0 if max(map(len, names)) <= 2 else -40)
    fig.update_yaxes(title="true", type="category", showgrid=False, range=[n - 0.5, -0.5])
    fig.update_layout(hoverdistance=40, clickmode="event+select", dragmode=False,
                      plot_bgcolor="#ffffff")
    return _titled(fig, title, data_note, height=470)


def per_class_bars(values: dict[str, np.ndarray], class_names, metric: str, title: str,
                   data_note: str) -> go.Figure:
    """One group of bars per class, one bar per model, for precision, recall or F1."""
    fig = go.Figure()
    for (name, vals), color in zip(values.items(), MODEL_COLORS):
        fig.add_bar(x=[str(c) for c in class_names], y=vals, name=name, marker_color=color,
                    hovertemplate=f"{name}<br>class %{{x}}: %{{y:.1%}}<extra></extra>")
    low = min(float(np.min(v)) for v in values.values())
    fig.update_layout(barmode="group", legend=BELOW,
                      yaxis=dict(title=metric, tickformat=".0%",
                                 range=[max(0.0, low - 0.1), 1.0]),
                      xaxis=dict(title="class", type="category", tickangle=0))
    return _titled(fig, title, data_note, height=390)


def robustness_bars(accuracy: dict[str, dict[str, float]], labels: dict[str, str], title: str,
                    data_note: str) -> go.Figure:
    """Accuracy of each model (bars) on each perturbed version of the test images."""
    fig = go.Figure()
    kinds = list(labels)
    for (name, acc), color in zip(accuracy.items(), MODEL_COLORS):
        fig.add_bar(x=kinds, y=[acc[k] for k in kinds], name=name, marker_color=color,
                    text=[f"{acc[k]:.0%}" for k in kinds], textposition="outside",
                    customdata=[f"{k}: {labels[k]}" for k in kinds],
                    hovertemplate=f"{name}<br>%{{customdata}}: %{{y:.1%}}<extra></extra>")
    fig.update_layout(barmode="group", legend=BELOW,
                      yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.08]),
                      xaxis=dict(title=None, tickangle=0))
    return _titled(fig, title, data_note, height=400)


def reliability_diagram(curves: dict[str, metrics.Reliability], title: str,
                        data_note: str) -> go.Figure:
    """Accuracy against confidence per bin, one line per model; the diagonal is perfect.

    A dot's area grows with its bin's images; a bin of fewer than metrics.FEW_IMAGES is
    hollow and faint, since its accuracy is a rough estimate. Hover gives the count.
    """
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(color="#9ca3af", dash="dash"), hoverinfo="skip")
    for (name, rel), color in zip(curves.items(), MODEL_COLORS):
        used = rel.count > 0
        few = metrics.few_image_bins(rel)[used]
        counts = rel.count[used]
        fig.add_scatter(
            x=rel.confidence[used], y=rel.accuracy[used], mode="lines+markers",
            name=f"{name} (ECE {rel.ece:.1%})", line=dict(color=color, width=2),
            opacity=1.0,
            marker=dict(size=np.clip(5 + np.sqrt(counts) / 3, 6, 22),
                        symbol=["circle-open" if f else "circle" for f in few],
                        opacity=[0.45 if f else 1.0 for f in few],
                        line=dict(color=color, width=2)),
            customdata=np.stack([counts, few], axis=1),
            hovertemplate=f"{name}<br>said %{{x:.0%}} sure, was right %{{y:.0%}}"
                          "<br>%{customdata[0]:,} images<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", x=0, y=-0.2, xanchor="left", yanchor="top"),
                      xaxis=dict(title="confidence (top-class probability)", tickformat=".0%",
                                 range=[0, 1.02]),
                      yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.02]))
    return _titled(fig, title, data_note, height=480)


def clicked_cell(points: list[dict]) -> tuple[int, int] | None:
    """(true, predicted) of the confusion-matrix cell a person clicked, or None.

    `points` is Streamlit's `selection.points` for a confusion-matrix chart: every
    cell carries an invisible marker whose customdata is [true, predicted].
    """
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return int(data[0]), int(data[1])
    return None


