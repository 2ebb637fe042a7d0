"""PNG plots for forecasting training reports, drawn with matplotlib's Agg canvas.

Like `plots`, figures live on their own canvas rather than in pyplot's registry. A report may carry
one plot per series, so these render at a modest resolution to keep a page of dozens of series
quick to draw and small to store.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.reports.plots import BLUE, MAX_LABEL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from engine.reports.forecast_data import SeriesReport

HISTORY = "#334155"
DPI = 100
"""Resolution of the saved PNGs: the per-series plots are many, so sharpness yields to size."""
PALETTE = (
    "#2563eb",
    "#ea580c",
    "#16a34a",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
)
"""Distinct line colours for the algorithms of the horizon plot (cycled beyond ten)."""


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _fixed_figure(width: float, height: float, top: float = 0.12) -> Figure:
    """A figure with fixed margins (in inches) instead of a layout engine: constrained layout
    measures every label before drawing and would double the cost of the many series plots.
    `top` leaves room for a legend above the axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=0.72 / width, right=1 - 0.15 / width, bottom=0.5 / height, top=1 - top / height
    )
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    figure.clear()
    return buffer.getvalue()


def plain(text: str) -> str:
    """`text` shortened for a plot, with `$` escaped so matplotlib never reads it as mathtext."""
    short = text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"
    return short.replace("$", r"\$")


def level_label(level: float) -> str:
    """0.8 → "80%", 0.975 → "97.5%"."""
    return f"{round(level * 100, 6):g}%"


def _dates(index: pd.DatetimeIndex) -> np.ndarray:
    """Timestamps as naive datetime64 (wall-clock time for zoned indexes) for matplotlib."""
    stamps = pd.DatetimeIndex(index)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return stamps.to_numpy(dtype="datetime64[ns]")


def _date_axis(ax: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    # matplotlib.dates is not annotated, hence the ignores.
    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


class SeriesPlotter:
    """Draws the series plots of one report, one after another, on a single reused figure.

    Building a figure and its axes with their ticks is a fair share of the cost of each plot, so
    the plotter keeps one and swaps only the data artists between series; the PNGs are the same
    as from a fresh figure. Not for sharing between threads: each report render makes its own.
    """

    def __init__(self) -> None:
        self._figure = _fixed_figure(8.0, 3.0, top=0.3)
        self._ax = self._figure.add_subplot()
        _date_axis(self._ax)
        self._ax.tick_params(labelsize=8)
        self._ax.grid(alpha=0.3)
        self._ax.margins(x=0.01)

    def png(self, series: SeriesReport, tail: int) -> bytes:
        """The last `tail` observations, the point forecast and its interval bands (wider
        lighter).

        A dotted segment joins the last observation to the first forecast step so the eye
        follows the path on from the history; the bands cover only the forecast steps.
        """
        ax = self._ax
        for artist in [*ax.lines, *ax.collections]:
            artist.remove()
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        ax.relim()
        tail = max(tail, 1)
        history = np.asarray(series.history, dtype=float)[-tail:]
        history_x = _dates(series.history_index)[-tail:]
        forecast = np.asarray(series.forecast, dtype=float)
        forecast_x = _dates(series.forecast_index)
        if len(history):
            ax.plot(history_x, history, color=HISTORY, linewidth=1.4, label="history")
        if len(forecast) and len(history):
            ax.axvline(history_x[-1], color="#cbd5e1", linewidth=1, linestyle="--")
            ax.plot(
                [history_x[-1], forecast_x[0]],
                [history[-1], forecast[0]],
                color=BLUE,
                linewidth=1.6,
                linestyle=":",
            )
        if len(forecast):
            ax.plot(
                forecast_x,
                forecast,
                color=BLUE,
                linewidth=1.8,
                marker="o" if len(forecast) <= 24 else None,
                markersize=3,
                label=f"forecast ({plain(series.algorithm)})",
            )
        levels = sorted(series.bands)
        # The widest band is the lightest: alpha falls from 0.34 (narrowest) to 0.14 (widest).
        alphas = (
            np.linspace(0.34, 0.14, len(levels)) if len(levels) > 1 else np.full(len(levels), 0.24)
        )
        for level, alpha in zip(levels, alphas, strict=True):
            lower, upper = (np.asarray(bound, dtype=float) for bound in series.bands[level])
            label = f"{level_label(level)} interval"
            if len(forecast_x) == 1:
                # A single step has no width to shade: a thick bar stands in for the band.
                ax.vlines(
                    forecast_x, lower, upper, color=BLUE, alpha=alpha, linewidth=10, label=label
                )
            elif len(forecast_x):
                ax.fill_between(
                    forecast_x,
                    lower,
                    upper,
                    color=BLUE,
                    alpha=float(alpha),
                    linewidth=0,
                    label=label,
                )
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=2 + len(levels),
            fontsize=8,
            frameon=False,
            borderaxespad=0.2,
        )
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        return buffer.getvalue()


def horizon_png(errors: dict[str, np.ndarray], chosen: dict[str, int]) -> bytes:
    """Backtest RMSE at each step ahead, one line per algorithm; nan steps leave gaps.

    `chosen` counts the series that picked each algorithm; those lines are drawn thicker and the
    count is given in the legend.
    """
    figure = _figure(7.5, 3.6)
    ax = figure.add_subplot()
    longest = 1
    for i, (name, values) in enumerate(errors.items()):
        rmse = np.asarray(values, dtype=float).ravel()
        rmse = np.where(np.isfinite(rmse), rmse, np.nan)
        steps = np.arange(1, len(rmse) + 1)
        longest = max(longest, len(rmse))
        count = chosen.get(name, 0)
        label = plain(name) + (f" (chosen for {count} series)" if count else "")
        if not np.isfinite(rmse).any():
            label += " (no errors)"
        ax.plot(
            steps,
            rmse,
            color=PALETTE[i % len(PALETTE)],
            linewidth=2.2 if count else 1.3,
            marker="o",
            markersize=4 if len(rmse) <= 30 else 2,
            label=label,
        )
    ax.set_xlim(0.5, longest + 0.5)
    _integer_steps(ax, longest)
    ax.set_xlabel("Steps ahead")
    ax.set_ylabel("RMSE of scaled errors")
    ax.set_title("Backtest RMSE by horizon step")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return _png(figure)


def _integer_steps(ax: Axes, longest: int) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=min(longest, 12), integer=True, min_n_ticks=1))
