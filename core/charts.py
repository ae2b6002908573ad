"""Plotly figures the pages share. Pure functions: data in, figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import metrics

TRAIN_COLOR, VAL_COLOR = "#4f46e5", "#f59e0b"
LABELS = {"accuracy": "Accuracy", "loss": "Loss (cross-entropy)"}
TICKS = {"accuracy": ".4~p"}   # 90%, 91.25%: a curve that moves by tenths still reads


def training_curve(history: list[dict], metric: str, epochs: int, title: str | None = None
                   ) -> go.Figure:
    """Train vs validation `metric` ("accuracy" or "loss") at each curve point, x axis in
    epochs (points may fall inside one) fixed to 0..epochs, ticks at whole epochs."""
    x = [h["epoch"] for h in history]
    fig = go.Figure()
    for key, name, color in ((metric, "train", TRAIN_COLOR), (f"val_{metric}", "validation", VAL_COLOR)):
        fig.add_scatter(x=x, y=[h[key] for h in history], name=name, mode="lines+markers",
                        line=dict(color=color, width=2), marker=dict(size=5),
                        hovertemplate=f"epoch %{{x:.2~f}}<br>{name} %{{y:.4f}}<extra></extra>")
    end = max(epochs, 1)
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=30 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"),
                      xaxis=dict(title="epoch", range=[0, end * 1.03], tickangle=0, tick0=0,
                                 dtick=1 if epochs <= 10 else 2 if epochs <= 20 else 5),
                      yaxis=dict(title=LABELS[metric], tickformat=TICKS.get(metric)))
    return fig


def probabilities(probs, class_names, height: int = 230) -> go.Figure:
    """A bar per class with the most likely one highlighted."""
    top = int(probs.argmax())
    colors = [TRAIN_COLOR if i == top else "#c7c9d9" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=list(class_names), y=probs, marker_color=colors,
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      yaxis=dict(range=[0, 1], tickformat=".0%", title=None),
                      xaxis=dict(type="category", title=None))
    return fig


# ---------------------------------------------------------------- Compare page
# Each figure takes a `title` and a `data_note` (the data it was measured on), which
# is shown as the figure's subtitle, so a screenshot of it still says what it shows.

MODEL_COLORS = ("#f59e0b", "#4f46e5")   # model A, model B
# White for 0, then quickly visible: a handful of mistakes must not look like nothing.
CONFUSION_SCALE = [[0.0, "#ffffff"], [0.004, "#eef0fb"], [0.03, "#c7cbf3"],
                   [0.15, "#8b90e6"], [0.5, "#5b5fd6"], [1.0, "#312e81"]]
SELECTED_COLOR = "#e11d48"


def _titled(fig: go.Figure, title: str, data_note: str, height: int,
            top: int = 70) -> go.Figure:
    """Title with the data statement underneath, and the shared margins."""
    fig.update_layout(title=dict(text=title, subtitle=dict(text=data_note), x=0, xanchor="left"),
                      height=height, margin=dict(l=10, r=10, t=top, b=10))
    return fig


def confusion_matrix(cm, class_names, title: str, data_note: str, normalised: bool = False,
                     selected: tuple[int, int] | None = None, zmax: float | None = None
                     ) -> go.Figure:
    """A clickable confusion matrix: rows = true class, columns = predicted class.

    Plotly heatmap cells cannot be selected in Streamlit, so every cell also carries an
    invisible square marker with customdata [true, predicted]; clicking the cell selects
    that marker (see metrics.clicked_cell). `selected` gets a red outline.
    """
    counts = np.asarray(cm)
    shares = metrics.row_normalised(counts)
    z = shares if normalised else counts
    text = [[(f"{v:.0%}" if normalised else f"{v:,}") if c else "" for v, c in zip(zr, cr)]
            for zr, cr in zip(z, counts)]
    names = [str(c) for c in class_names]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, text=text, texttemplate="%{text}", colorscale=CONFUSION_SCALE,
        zmin=0, zmax=zmax if zmax is not None else (1 if normalised else counts.max()),
        showscale=False, hoverinfo="skip", xgap=1, ygap=1))
    n = len(names)
    cells = [(t, p) for t in range(n) for p in range(n)]
    fig.add_scatter(
        x=[names[p] for t, p in cells], y=[names[t] for t, p in cells], mode="markers",
        marker=dict(symbol="square", size=28, opacity=0, color="#000000"),
        customdata=[[t, p, int(counts[t, p]), shares[t, p]] for t, p in cells],
        hovertemplate="true %{y}, predicted %{x}<br>%{customdata[2]:,} images "
                      "(%{customdata[3]:.1%} of true %{y})<br>click to see them<extra></extra>",
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
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.0, x=1, xanchor="right",
                                                   yanchor="bottom"),
                      yaxis=dict(title=metric, tickformat=".0%",
                                 range=[max(0.0, low - 0.1), 1.0]),
                      xaxis=dict(title="class", type="category", tickangle=0))
    return _titled(fig, title, data_note, height=360, top=90)


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
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.0, x=1, xanchor="right",
                                                   yanchor="bottom"),
                      yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.08]),
                      xaxis=dict(title=None, tickangle=0))
    return _titled(fig, title, data_note, height=380, top=90)


def reliability_diagram(curves: dict[str, metrics.Reliability], title: str,
                        data_note: str) -> go.Figure:
    """Accuracy against confidence per bin, one line per model; the diagonal is perfect."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(color="#9ca3af", dash="dash"), hoverinfo="skip")
    for (name, rel), color in zip(curves.items(), MODEL_COLORS):
        used = rel.count > 0
        fig.add_scatter(x=rel.confidence[used], y=rel.accuracy[used], mode="lines+markers",
                        name=f"{name} (ECE {rel.ece:.1%})", line=dict(color=color, width=2),
                        marker=dict(size=np.clip(4 + np.sqrt(rel.count[used]) / 2, 5, 18)),
                        customdata=rel.count[used],
                        hovertemplate=f"{name}<br>said %{{x:.0%}} sure, was right %{{y:.0%}}"
                                      "<br>%{customdata:,} images<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", x=0, y=-0.2, xanchor="left", yanchor="top"),
                      xaxis=dict(title="confidence (top-class probability)", tickformat=".0%",
                                 range=[0, 1.02]),
                      yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.02]))
    return _titled(fig, title, data_note, height=480)


# How to read weight images, grey (False) or colour (True).
WEIGHTS_NOTE = {False: "Red pixels are where ink argues for the class, blue against it",
                True: "Mid-grey is 0; a colour shows the light that argues for the class "
                      "there, its opposite the light that argues against"}
FILTERS_NOTE = {False: "(red positive, blue negative weights)",
                True: "(mid-grey is 0; colours show the light each one responds to)"}


def as_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """Signed colour weights (... x 3) as uint8 RGB: 0 is mid-grey, +-limit the extremes."""
    return np.clip(127.5 + 127.5 * np.asarray(values) / limit, 0, 255).astype(np.uint8)


def logreg_weights(images, class_names, title: str, data_note: str, height: int = 450
                   ) -> go.Figure:
    """A Logistic Regression's weights as one image per class (10 x H x W, or 10 x H x W x 3).

    Grey: red pushes towards the class, blue away. Colour: each weight image is shown as a
    colour image, mid-grey for 0 (a red patch: red light argues for the class). The scale
    ends at the 99th percentile of |weight|: a few border pixels that are almost never
    inked get large weights and would otherwise wash every template out.
    """
    weights = np.asarray(images)
    limit = float(np.percentile(np.abs(weights), 99)) or 1.0
    colour = weights.ndim == 4
    fig = make_subplots(rows=2, cols=5, subplot_titles=[str(c) for c in class_names],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, w in enumerate(weights):
        where = dict(row=i // 5 + 1, col=i % 5 + 1)
        if colour:
            fig.add_image(z=as_rgb(w, limit), hoverinfo="skip", **where)
        else:
            fig.add_heatmap(z=w, coloraxis="coloraxis", **where,
                            hovertemplate=f"{class_names[i]}: pixel (%{{x}}, %{{y}}) "
                                          "weight %{z:.3f}<extra></extra>")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for i in range(2, 11):
        fig.update_yaxes(scaleanchor=f"x{i}", row=(i - 1) // 5 + 1, col=(i - 1) % 5 + 1)
    if not colour:
        fig.update_layout(coloraxis=dict(colorscale="RdBu", reversescale=True, cmin=-limit,
                                         cmax=limit, colorbar=dict(title="weight", thickness=12)))
    return _titled(fig, title, data_note, height=height, top=110)


# ---------------------------------------------------------------- Draw page: why an answer

def over_digit(values: np.ndarray, image: np.ndarray, title: str, subtitle: str,
               hover: str, colorbar: str, limit: float | None = None) -> go.Figure:
    """A diverging heatmap (red +, blue -, white 0) of one value per pixel, over the image.

    A grey image (H x W in [0, 1]) is outlined at half brightness (a digit's strokes); a
    colour one (H x W x 3) is shown under a see-through heatmap. `hover` is a Plotly
    hovertemplate for one pixel (%{z} is its value, %{customdata} a grey image's value);
    `limit` fixes the colour scale at +-limit, so that two maps can be compared.
    """
    limit = limit or float(np.abs(values).max()) or 1.0
    colour = np.ndim(image) == 3
    heat = go.Heatmap(z=values, zmin=-limit, zmax=limit, colorscale="RdBu", reversescale=True,
                      hovertemplate=hover, colorbar=dict(title=colorbar, thickness=10),
                      customdata=None if colour else image, opacity=0.6 if colour else 1.0)
    if colour:
        fig = go.Figure(go.Image(z=np.asarray(image) * 255, hoverinfo="skip"))
        fig.add_trace(heat)
    else:
        fig = go.Figure(heat)
        fig.add_contour(z=image, contours=dict(start=0.5, end=0.5, coloring="lines"),
                        line=dict(color="#111827", width=1.5), showscale=False, hoverinfo="skip")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return _titled(fig, title, subtitle, height=330, top=60)


def training_curves(histories: dict[str, list[dict]], metric: str, title: str,
                    data_note: str) -> go.Figure:
    """Validation (solid) and training (dotted) `metric` per epoch, one colour per model."""
    fig = go.Figure()
    for (name, history), color in zip(histories.items(), MODEL_COLORS):
        x = [h["epoch"] for h in history]
        for key, dash, part in ((f"val_{metric}", "solid", "validation"),
                                (metric, "dot", "training")):
            fig.add_scatter(x=x, y=[h[key] for h in history], mode="lines",
                            name=f"{name}, {part}", line=dict(color=color, dash=dash, width=2),
                            hovertemplate=f"{name}<br>epoch %{{x}}, {part} %{{y:.4f}}<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0, xanchor="left", yanchor="top"),
                      xaxis=dict(title="epoch (a pass over the training images)"),
                      yaxis=dict(title=LABELS[metric],
                                 tickformat=TICKS.get(metric)))
    return _titled(fig, title, data_note, height=460)


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


def first_layer_filters(kernels: np.ndarray, title: str, note: str) -> go.Figure:
    """A CNN's first-layer filters (F x kh x kw, or F x kh x kw x 3) as a grid, 8 to a row.

    One image with blank gutters between the filters keeps the figure light, and every
    filter shares one symmetric scale: grey filters red positive, blue negative, as in
    logreg_weights; colour filters as colour images, mid-grey for 0.
    """
    kernels = np.asarray(kernels, dtype=np.float32)
    n, kh, kw = kernels.shape[:3]
    cols = min(8, n)
    rows = -(-n // cols)
    z = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1, *kernels.shape[3:]), np.nan,
                dtype=np.float32)
    number = np.zeros(z.shape[:2], dtype=int)
    for i, kernel in enumerate(kernels):
        top, left = (i // cols) * (kh + 1), (i % cols) * (kw + 1)
        z[top:top + kh, left:left + kw] = kernel
        number[top:top + kh, left:left + kw] = i + 1
    limit = float(np.abs(kernels).max()) or 1.0
    if kernels.ndim == 4:
        rgb = as_rgb(np.nan_to_num(z), limit)
        rgb[number == 0] = 255   # white gutters
        fig = go.Figure(go.Image(z=rgb, customdata=number,
                                 hovertemplate="filter %{customdata}<extra></extra>"))
    else:
        fig = go.Figure(go.Heatmap(
            z=z, customdata=number, zmin=-limit, zmax=limit, colorscale="RdBu",
            reversescale=True, hoverongaps=False,
            hovertemplate="filter %{customdata}<br>weight %{z:.3f}<extra></extra>",
            colorbar=dict(title="weight", thickness=12)))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return _titled(fig, title, note, height=90 + 75 * rows)


# ---------------------------------------------------------------- Runs (Train page)

RUN_COLORS = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
              "#ff9da6", "#9d755d", "#bab0ac", "#1f77b4", "#2ca02c")   # Tableau 10, then two more
RUN_AXES = {  # x -> (axis title, how a point's x reads on hover)
    "epoch": ("epochs", "epoch %{x:.2f}"),
    "time": ("seconds since training began", "%{x:.1f} s"),
}


def runs_overlay(curves: dict[str, list[dict]], metric: str, x: str = "epoch",
                 title: str | None = None, note: str = "") -> go.Figure:
    """Several runs' `metric` on one chart, a colour per run: validation solid, training dotted.

    `curves` maps a run's name to its points (dicts with epoch, time, accuracy, loss,
    val_accuracy, val_loss); `x` is "epoch" or "time". Clicking a run in the legend hides both
    of its lines.
    """
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
                hovertemplate=f"{name}<br>{RUN_AXES[x][1]}, {part} %{{y:.4f}}<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0, xanchor="left", yanchor="top"),
                      xaxis=dict(title=RUN_AXES[x][0], rangemode="tozero"),
                      yaxis=dict(title=LABELS[metric],
                                 tickformat=TICKS.get(metric)))
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
