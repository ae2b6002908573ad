"""Plotly figures the pages share. Pure functions: data in, figure out."""

from __future__ import annotations

import numpy as np

from core import kinds
from core.plot import go, make_subplots
from core.verdict import near_guess

TRAIN_COLOR, VAL_COLOR = "#4f46e5", "#f59e0b"
LABELS = {"accuracy": "Accuracy", "loss": "Loss (cross-entropy)"}
TICKS = {"accuracy": ".4~p"}   # 90%, 91.25%: a curve that moves by tenths still reads


def training_curve(history: list[dict], metric: str, epochs: int, title: str | None = None,
                   unit: str = "epoch", guessing: float | None = None) -> go.Figure:
    """Train vs validation `metric` ("accuracy" or "loss") at each curve point, x axis in
    epochs (a Logistic Regression's `unit` "round"; points may fall inside one) fixed to
    0..epochs, ticks at whole ones. An accuracy curve that never got far past `guessing` (the
    accuracy of a guess) is drawn from 0 to 100 % with that line, so a wobble near chance does
    not look like learning."""
    x = [h["epoch"] for h in history]
    fig = go.Figure()
    for key, name, color in ((metric, "train", TRAIN_COLOR), (f"val_{metric}", "validation", VAL_COLOR)):
        fig.add_scatter(x=x, y=[h[key] for h in history], name=name, mode="lines+markers",
                        line=dict(color=color, width=2), marker=dict(size=5),
                        hovertemplate=f"{unit} %{{x:.2~f}}<br>{name} %{{y:.4f}}<extra></extra>")
    end = max(epochs, 1)
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=30 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"),
                      xaxis=dict(title=f"{unit}s", range=[0, end * 1.03], tickangle=0, tick0=0,
                                 dtick=1 if epochs <= 10 else 2 if epochs <= 20 else 5),
                      yaxis=dict(title=LABELS[metric], tickformat=TICKS.get(metric)))
    if metric == "accuracy" and guessing is not None and history and near_guessing(history, guessing):
        fig.update_yaxes(range=[0, 1])
        fig.add_hline(y=guessing, line=dict(color="#9ca3af", dash="dot", width=1),
                      annotation_text=f"guessing ({guessing:.0%})", annotation_position="top left")
    return fig


def near_guessing(history: list[dict], guessing: float) -> bool:
    """Whether no accuracy on the curve got past the verdict's "did not learn" line."""
    return near_guess(max(max(h["accuracy"], h["val_accuracy"]) for h in history), guessing)


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


# ---------------------------------------------------------------- shared by the pages' figures
# Each figure takes a `title` and a `data_note` (the data it was measured on), which
# is shown as the figure's subtitle, so a screenshot of it still says what it shows.
# Compare's own figures are in core.compare_charts.

MODEL_COLORS = ("#f59e0b", "#4f46e5")   # model A, model B


def _titled(fig: go.Figure, title: str, data_note: str, height: int,
            top: int = 70) -> go.Figure:
    """Title with the data statement underneath, and the shared margins."""
    fig.update_layout(title=dict(text=title, subtitle=dict(text=data_note), x=0, xanchor="left"),
                      height=height, margin=dict(l=10, r=10, t=top, b=10))
    return fig


WEIGHT_COLUMNS = 5   # weight images to a row: two rows for 10 classes, one for 2-5
# How to read weight images, grey (False) or colour (True).
WEIGHTS_NOTE = {False: "Red pixels are where ink argues for the class, blue against it",
                True: "Mid-grey is 0; a colour shows the light that argues for the class "
                      "there, its opposite the light that argues against"}
FILTERS_NOTE = {False: "(red positive, blue negative weights)",
                True: "(mid-grey is 0; colours show the light each one responds to)"}


def as_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """Signed colour weights (... x 3) as uint8 RGB: 0 is mid-grey, +-limit the extremes."""
    return np.clip(127.5 + 127.5 * np.asarray(values) / limit, 0, 255).astype(np.uint8)


def logreg_weights(images, class_names, title: str, data_note: str, height: int | None = None
                   ) -> go.Figure:
    """A Logistic Regression's weights as one image per class (C x H x W, or C x H x W x 3),
    up to WEIGHT_COLUMNS to a row.

    Grey: red pushes towards the class, blue away. Colour: each weight image is shown as a
    colour image, mid-grey for 0 (a red patch: red light argues for the class). The scale
    ends at the 99th percentile of |weight|: a few border pixels that are almost never
    inked get large weights and would otherwise wash every template out.
    """
    weights = np.asarray(images)
    limit = float(np.percentile(np.abs(weights), 99)) or 1.0
    colour = weights.ndim == 4
    cols = min(WEIGHT_COLUMNS, len(weights))
    rows = -(-len(weights) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[str(c) for c in class_names],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, w in enumerate(weights):
        where = dict(row=i // cols + 1, col=i % cols + 1)
        if colour:
            fig.add_image(z=as_rgb(w, limit), hoverinfo="skip", **where)
        else:
            fig.add_heatmap(z=w, coloraxis="coloraxis", **where,
                            hovertemplate=f"{class_names[i]}: pixel (%{{x}}, %{{y}}) "
                                          "weight %{z:.3f}<extra></extra>")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for i in range(2, len(weights) + 1):
        fig.update_yaxes(scaleanchor=f"x{i}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    if not colour:
        fig.update_layout(coloraxis=dict(colorscale="RdBu", reversescale=True, cmin=-limit,
                                         cmax=limit, colorbar=dict(title="weight", thickness=12)))
    return _titled(fig, title, data_note, height=height or 110 + 170 * rows, top=110)


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
                    data_note: str, kinds_of: dict[str, str] | None = None) -> go.Figure:
    """Validation (solid) and training (dotted) `metric` per epoch (a Logistic Regression's
    round), one colour per model; `kinds_of` gives each model's kind (by name; else a CNN)."""
    kinds_of = kinds_of or {}
    fig = go.Figure()
    for (name, history), color in zip(histories.items(), MODEL_COLORS):
        x = [h["epoch"] for h in history]
        unit = kinds.KINDS[kinds_of.get(name, "cnn")].unit
        for key, dash, part in ((f"val_{metric}", "solid", "validation"),
                                (metric, "dot", "training")):
            fig.add_scatter(x=x, y=[h[key] for h in history], mode="lines",
                            name=f"{name}, {part}", line=dict(color=color, dash=dash, width=2),
                            hovertemplate=f"{name}<br>{unit} %{{x}}, {part} %{{y:.4f}}<extra></extra>")
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0, xanchor="left", yanchor="top"),
                      xaxis=dict(title=kinds.unit_axis(kinds_of.get(n, "cnn") for n in histories)),
                      yaxis=dict(title=LABELS[metric],
                                 tickformat=TICKS.get(metric)))
    return _titled(fig, title, data_note, height=460)


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
