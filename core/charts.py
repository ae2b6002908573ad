"""Plotly figures the pages share. Pure functions: data in, figure out."""

from __future__ import annotations

import plotly.graph_objects as go

TRAIN_COLOR, VAL_COLOR = "#4f46e5", "#f59e0b"
LABELS = {"accuracy": "Accuracy", "loss": "Loss (cross-entropy)"}


def training_curve(history: list[dict], metric: str, epochs: int, title: str | None = None
                   ) -> go.Figure:
    """Train vs validation `metric` ("accuracy" or "loss") per epoch, x axis fixed to 1..epochs."""
    x = [h["epoch"] for h in history]
    fig = go.Figure()
    for key, name, color in ((metric, "train", TRAIN_COLOR), (f"val_{metric}", "validation", VAL_COLOR)):
        fig.add_scatter(x=x, y=[h[key] for h in history], name=name, mode="lines+markers",
                        line=dict(color=color, width=2),
                        hovertemplate=f"epoch %{{x}}<br>{name} %{{y:.4f}}<extra></extra>")
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=30 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"),
                      xaxis=dict(title="epoch", range=[0.5, max(epochs, 1) + 0.5], tickangle=0,
                                 dtick=1 if epochs <= 10 else 2 if epochs <= 20 else 5),
                      yaxis=dict(title=LABELS[metric], tickformat=".0%" if metric == "accuracy" else None))
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
