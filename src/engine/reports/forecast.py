"""Self-contained HTML report for one finished forecasting training.

Like the classification report, the page carries its plots as base64 PNG data URIs and its styling
inline, has no scripts, and passes every piece of caller-supplied text through `html.escape`. It
shows the asset-level metrics, how the candidate algorithms did in backtests, how error grows with
the horizon, and for each reported series its recent history, forecast and interval bands.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape

import numpy as np

from engine.reports import forecast_plots, html
from engine.reports.forecast_data import ForecastReportData, SeriesReport

MIN_HISTORY = 24
"""Fewest observations a series plot shows before its forecast (when the history has them)."""
HISTORY_HORIZONS = 4
"""A series plot shows this many horizons' worth of history (at least `MIN_HISTORY` points)."""

METRIC_ORDER = ("mape", "smape", "mae", "rmse", "mase")
METRIC_LABELS = {
    "mape": "Mean absolute percentage error",
    "smape": "Symmetric mean absolute percentage error",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
    "mase": "Mean absolute scaled error",
}

FORECAST_STYLE = """
tr.chosen td{background:#fff7ed;font-weight:600}
th.selection,td.selection{background:#eff6ff}
tr.chosen td.selection{background:#ffedd5}
.mark{color:#ea580c;font-weight:700}
.scroll{overflow-x:auto;margin-top:12px}
p.caption{color:#475569;margin:8px 0 0}
"""


def render_forecast_report(data: ForecastReportData) -> str:
    """Return a self-contained HTML document."""
    for series in data.series:
        _check_lengths(series)
    body = "\n".join(
        [
            _header(data),
            _metrics(data.metrics),
            _backtest(data),
            _horizon(data),
            *_series_sections(data),
            html.changes(data.changes),
        ]
    )
    return html.page(f"Training report: {data.asset_id} {data.version}", body, FORECAST_STYLE)


def _check_lengths(series: SeriesReport) -> None:
    def mismatch(what: str, found: int, expected: int) -> ValueError:
        return ValueError(
            f"series {series.label!r}: {what} has {found} values but {expected} were expected"
        )

    if len(series.history_index) != len(series.history):
        raise mismatch("history", len(series.history), len(series.history_index))
    steps = len(series.forecast_index)
    if len(series.forecast) != steps:
        raise mismatch("forecast", len(series.forecast), steps)
    for level, (lower, upper) in series.bands.items():
        for name, bound in (("lower", lower), ("upper", upper)):
            if len(bound) != steps:
                label = forecast_plots.level_label(level)
                raise mismatch(f"the {label} {name} bound", len(bound), steps)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.1f}" if abs(value) >= 10_000 else f"{value:.4f}"


def _is_coverage(metric: str) -> bool:
    return metric.startswith("coverage")


def _value(metric: str, value: float) -> str:
    """A metric value as shown: coverages as percentages, everything else as a number."""
    if _is_coverage(metric) and math.isfinite(value):
        return f"{value:.1%}"
    return _number(value)


def _metric_label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    suffix = metric.removeprefix("coverage_")
    if _is_coverage(metric) and suffix.isdigit():
        return f"Interval coverage ({suffix}%)"
    return metric


def _ordered_metrics(names: list[str]) -> list[str]:
    """Error metrics in a fixed order, then coverages by level, then the rest as first seen."""
    unique = list(dict.fromkeys(names))
    known = [m for m in METRIC_ORDER if m in unique]
    coverages = sorted((m for m in unique if _is_coverage(m) and m not in known), key=_level_key)
    rest = [m for m in unique if m not in known and m not in coverages]
    return known + coverages + rest


def _level_key(metric: str) -> tuple[float, str]:
    suffix = metric.removeprefix("coverage_")
    return (float(suffix), metric) if suffix.isdigit() else (math.inf, metric)


def _chosen_counts(series: list[SeriesReport]) -> Counter[str]:
    return Counter(s.algorithm for s in series)


def _header(data: ForecastReportData) -> str:
    shown = len(data.series)
    total = max(data.total_series, shown)
    counts = _chosen_counts(data.series)
    chosen = ", ".join(f"{name} ({count})" for name, count in counts.most_common()) or "none"
    facts = [
        ("Asset", data.asset_id),
        ("Version", data.version),
        ("Created", data.created_at),
        ("Frequency", data.frequency),
        ("Horizon", f"{data.horizon} step" + ("" if data.horizon == 1 else "s")),
        ("Series", f"{total:,}"),
        ("Selection metric", data.selection_metric),
        ("Chosen algorithms", chosen),
    ]
    items = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    heading = escape(f"Training report: {data.asset_id}")
    scope = ""
    if total > shown:
        scope = (
            f'<p class="caption">Showing {shown:,} of {total:,} series; the backtest summary and '
            "the chosen-algorithm counts cover the series shown.</p>"
        )
    return f"<header>\n<h1>{heading}</h1>\n<dl>\n{items}\n</dl>\n{scope}</header>"


def _metrics(metrics: dict[str, float]) -> str:
    heading = "Asset metrics"
    if not metrics:
        return html.section(heading, html.note("No metrics were recorded."))
    rows = "\n".join(
        f"<tr><td>{escape(_metric_label(name))} <code>{escape(name)}</code></td>"
        f'<td class="num">{_value(name, float(metrics[name]))}</td></tr>'
        for name in _ordered_metrics(list(metrics))
    )
    caption = (
        '<p class="caption">Metrics of the model chosen for each series, averaged over the '
        "series.</p>"
    )
    table = f"<table>\n<tr><th>Metric</th><th>Value</th></tr>\n{rows}\n</table>"
    return html.section(heading, table + caption)


def _score_table(
    scores: dict[str, dict[str, float]],
    selection: str,
    chosen: set[str],
    extra: dict[str, str] | None = None,
    extra_heading: str = "",
) -> str:
    """Algorithms as rows, metrics as columns; chosen algorithms marked, the selection metric
    column shaded."""
    metrics = _ordered_metrics([m for values in scores.values() for m in values])
    head = ["<th>Algorithm</th>"]
    if extra is not None:
        head.append(f"<th>{escape(extra_heading)}</th>")
    for metric in metrics:
        css = ' class="selection"' if metric == selection else ""
        title = escape(_metric_label(metric))
        head.append(f'<th{css} title="{title}">{escape(metric)}</th>')
    rows = ["<tr>" + "".join(head) + "</tr>"]
    for algorithm, values in scores.items():
        is_chosen = algorithm in chosen
        mark = ' <span class="mark">★ chosen</span>' if is_chosen else ""
        cells = [f"<td>{escape(algorithm)}{mark}</td>"]
        if extra is not None:
            cells.append(f'<td class="num">{escape(extra.get(algorithm, ""))}</td>')
        for metric in metrics:
            css = "num selection" if metric == selection else "num"
            shown = _value(metric, float(values[metric])) if metric in values else "—"
            cells.append(f'<td class="{css}">{shown}</td>')
        row_css = ' class="chosen"' if is_chosen else ""
        rows.append(f"<tr{row_css}>" + "".join(cells) + "</tr>")
    table = "<table>\n" + "\n".join(rows) + "\n</table>"
    return f'<div class="scroll">\n{table}\n</div>'


def _mean_scores(series: list[SeriesReport]) -> tuple[dict[str, dict[str, float]], Counter[str]]:
    """Per algorithm, the mean of each metric over the series that scored it (non-finite values
    left out), and how many series scored it."""
    collected: dict[str, dict[str, list[float]]] = {}
    scored: Counter[str] = Counter()
    for s in series:
        for algorithm, scores in s.scores.items():
            scored[algorithm] += 1
            bucket = collected.setdefault(algorithm, {})
            for metric, value in scores.items():
                bucket.setdefault(metric, []).append(float(value))
    means: dict[str, dict[str, float]] = {}
    for algorithm, metrics in collected.items():
        means[algorithm] = {}
        for metric, found in metrics.items():
            finite = [v for v in found if math.isfinite(v)]
            means[algorithm][metric] = float(np.mean(finite)) if finite else math.nan
    return means, scored


def _backtest(data: ForecastReportData) -> str:
    heading = "Backtest by algorithm"
    means, scored = _mean_scores(data.series)
    counts = _chosen_counts(data.series)
    parts = []
    if means:
        extra = {a: f"{counts.get(a, 0)} / {scored[a]}" for a in means}
        # No row is marked here: several algorithms may each be chosen for some series, which
        # the "Chosen / scored" column tells exactly.
        parts.append(_score_table(means, data.selection_metric, set(), extra, "Chosen / scored"))
        parts.append(
            '<p class="caption">Mean of each backtest metric over the series shown that scored '
            "the algorithm; the shaded column is the selection metric "
            f"(<code>{escape(data.selection_metric)}</code>).</p>"
        )
    else:
        parts.append(html.note("No backtest scores were recorded."))
    parts.append("<h3>Interval coverage</h3>")
    parts.append(_coverage(data.coverage))
    return html.section(heading, "\n".join(parts))


def _coverage(coverage: dict[str, dict[float, float]]) -> str:
    levels = sorted({level for values in coverage.values() for level in values})
    if not levels:
        return html.note("No interval coverage was recorded.")
    head = "".join(
        f'<th class="num">{escape(forecast_plots.level_label(level))} nominal</th>'
        for level in levels
    )
    rows = [f"<tr><th>Algorithm</th>{head}</tr>"]
    for algorithm, values in coverage.items():
        cells = [f"<td>{escape(algorithm)}</td>"]
        for level in levels:
            measured = float(values.get(level, math.nan))
            if math.isfinite(measured):
                gap = (measured - level) * 100
                cells.append(f'<td class="num">{measured:.1%} ({gap:+.1f} pp)</td>')
            else:
                cells.append('<td class="num">n/a</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = (
        '<p class="caption">Share of backtest actuals inside the calibrated interval, with the '
        "difference from the nominal level in percentage points.</p>"
    )
    return '<div class="scroll">\n<table>\n' + "\n".join(rows) + "\n</table>\n</div>" + caption


def _horizon(data: ForecastReportData) -> str:
    heading = "Error by horizon"
    errors = {
        name: np.asarray(values, dtype=float).ravel()
        for name, values in data.errors_by_horizon.items()
    }
    if not any(np.isfinite(values).any() for values in errors.values()):
        return html.section(heading, html.note("No backtest errors by horizon step were recorded."))
    png = forecast_plots.horizon_png(errors, dict(_chosen_counts(data.series)))
    caption = (
        '<p class="caption">RMSE of the backtest errors at each step ahead, each error divided '
        "by its series' MASE scale (the mean absolute seasonal difference of the training "
        "window, so 1.0 is as large as the seasonal-naive forecast's typical in-sample error), "
        "pooled over series and folds. Gaps mark steps without errors.</p>"
    )
    return html.section(heading, html.image(png, "Backtest RMSE by horizon step", "wide") + caption)


def _series_sections(data: ForecastReportData) -> list[str]:
    if not data.series:
        return [html.section("Series", html.note("No series were reported."))]
    tail = max(HISTORY_HORIZONS * data.horizon, MIN_HISTORY)
    plotter = forecast_plots.SeriesPlotter()
    return [_series(plotter, series, data.selection_metric, tail) for series in data.series]


def _series(
    plotter: forecast_plots.SeriesPlotter, series: SeriesReport, selection: str, tail: int
) -> str:
    heading = f"Series: {series.label}"
    shown = min(tail, len(series.history))
    caption = (
        f'<p class="caption">Chosen: <strong>{escape(series.algorithm)}</strong>. '
        f"Last {shown:,} of {len(series.history):,} observations, then "
        f"{len(series.forecast):,} forecast steps"
    )
    if series.bands:
        levels = ", ".join(forecast_plots.level_label(level) for level in sorted(series.bands))
        caption += f" with {escape(levels)} intervals (wider lighter)"
    caption += ".</p>"
    if len(series.history) == 0 and len(series.forecast) == 0:
        plot = html.note("Nothing to plot: the series has no history and no forecast.")
    else:
        plot = html.image(plotter.png(series, tail), heading, "wide")
    if series.scores:
        scores = _score_table(series.scores, selection, {series.algorithm})
    else:
        scores = html.note("No backtest scores were recorded for this series.")
    return html.section(heading, f"{plot}\n{caption}\n{scores}")
