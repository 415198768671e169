"""The report's plots as PNG data URIs, drawn on matplotlib's Agg canvas (no display, and no pyplot:
no global figure state in a process that may draw several reports)."""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SIZE = (8.0, 3.2)


def _new(size: tuple[float, float] = SIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _labels(figures: dict[str, Any]) -> list[str]:
    hourly = figures["period"]["bucket"] == "hour"
    return [bucket[11:16] if hourly else bucket[5:10] for bucket in figures["period"]["buckets"]]


def containment_plot(figures: dict[str, Any]) -> str:
    """Share of finished conversations contained, per bucket (no bar where none finished)."""
    figure, axes = _new()
    shares = [entry["share"] for entry in figures["containment"]["series"]]
    axes.bar(_labels(figures), [0 if share is None else share * 100 for share in shares], color="#2f6f4f")
    axes.set_ylim(0, 100)
    axes.set_ylabel("% contained")
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    return _data_uri(figure)


def handoff_rate_plot(figures: dict[str, Any]) -> str:
    """Handoffs per 100 customer turns, one line per trigger."""
    figure, axes = _new()
    labels = _labels(figures)
    for trigger, series in figures["handoff_rate"]["triggers"].items():
        axes.plot(labels, [None if rate is None else rate * 100 for rate in series["per_turn"]], marker="o",
                  label=trigger)
    axes.set_ylabel("handoffs per 100 turns")
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    if figures["handoff_rate"]["triggers"]:
        axes.legend(fontsize=7)
    return _data_uri(figure)


def precision_plot(figures: dict[str, Any]) -> str:
    """Precision per trigger with its 95% interval."""
    rows = figures["precision"]
    figure, axes = _new((SIZE[0], max(1.6, 0.5 * len(rows) + 1)))
    names = [row["trigger"] for row in rows]
    values = [row["precision"] for row in rows]
    errors = [[value - row["interval"][0] for value, row in zip(values, rows, strict=True)],
              [row["interval"][1] - value for value, row in zip(values, rows, strict=True)]]
    axes.errorbar(values, names, xerr=errors, fmt="o", capsize=4, color="#1f4e79")
    axes.axvline(0.7, color="#b00020", linestyle="--", linewidth=1)
    axes.set_xlim(0, 1)
    axes.set_xlabel("precision (share needed), 95% Wilson interval")
    return _data_uri(figure)
