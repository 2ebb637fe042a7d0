"""Forecasting training report: a self-contained, escaped HTML page with a PNG per series."""

from __future__ import annotations

import base64
import dataclasses
import re
from html import escape
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from engine.reports import ForecastReportData, SeriesReport, render_forecast_report
from engine.reports.forecast_plots import SeriesPlotter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
SECTION = re.compile(r"<section>\n<h2>(.*?)</h2>(.*?)</section>", re.DOTALL)
HOSTILE_LABEL = "product_category=<script>alert('label')</script>"
HOSTILE_CHANGE = "<script>alert('x')</script> & re-ran"
HORIZON = 6
SEASON = 12
LEVELS = (0.8, 0.95)
Z = {0.8: 1.2816, 0.95: 1.96}
VOID = {"meta", "img", "br", "hr", "link", "input"}


def _seasonal_naive(y: np.ndarray, horizon: int) -> np.ndarray:
    return np.array([y[len(y) - SEASON + (h % SEASON)] for h in range(horizon)])


def _drift(y: np.ndarray, horizon: int) -> np.ndarray:
    slope = (y[-1] - y[0]) / (len(y) - 1)
    return np.asarray(y[-1] + slope * np.arange(1, horizon + 1), dtype=float)


ALGORITHMS = {"seasonal_naive": _seasonal_naive, "drift": _drift}


def _scores(
    train: np.ndarray, actual: np.ndarray, predicted: np.ndarray, sigma: float
) -> dict[str, float]:
    errors = actual - predicted
    scale = np.mean(np.abs(train[SEASON:] - train[:-SEASON]))
    scores = {
        "mape": float(np.mean(np.abs(errors / actual))),
        "smape": float(np.mean(2 * np.abs(errors) / (np.abs(actual) + np.abs(predicted)))),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mase": float(np.mean(np.abs(errors)) / scale),
    }
    for level in LEVELS:
        inside = np.abs(errors) <= Z[level] * sigma
        scores[f"coverage_{round(level * 100)}"] = float(np.mean(inside))
    return scores


def _build(labels: list[str]) -> ForecastReportData:
    """One monthly series per label with trend, seasonality and noise; two simple forecasters
    scored on a last-`HORIZON` backtest, the better one by MAPE chosen per series."""
    rng = np.random.default_rng(7)
    index = pd.date_range("2018-01-01", periods=72, freq="MS")
    future = pd.date_range(index[-1], periods=HORIZON + 1, freq="MS")[1:]
    steps = np.arange(72)
    series = []
    step_errors: dict[str, list[np.ndarray]] = {name: [] for name in ALGORITHMS}
    for i, label in enumerate(labels):
        seasonal = (8 + 4 * i) * np.sin(2 * np.pi * steps / SEASON)
        y = 200 + 50 * i + (0.2 + i) * steps + seasonal + rng.normal(0, 3 + i, 72)
        train, actual = y[:-HORIZON], y[-HORIZON:]
        scores = {}
        for name, method in ALGORITHMS.items():
            # Interval scale from the fold before: its RMSE.
            earlier = train[-HORIZON:] - method(train[:-HORIZON], HORIZON)
            sigma = float(np.sqrt(np.mean(earlier**2)))
            predicted = method(train, HORIZON)
            scores[name] = _scores(train, actual, predicted, sigma)
            step_errors[name].append(actual - predicted)
        chosen = min(scores, key=lambda name: scores[name]["mape"])
        forecast = ALGORITHMS[chosen](y, HORIZON)
        width = scores[chosen]["rmse"] * np.sqrt(np.arange(1, HORIZON + 1))
        bands = {lv: (forecast - Z[lv] * width, forecast + Z[lv] * width) for lv in LEVELS}
        series.append(SeriesReport(label, chosen, index, y, future, forecast, bands, scores))
    errors = {n: np.sqrt(np.mean(np.square(e), axis=0)) for n, e in step_errors.items()}
    coverage = {
        name: {
            lv: float(np.mean([s.scores[name][f"coverage_{round(lv * 100)}"] for s in series]))
            for lv in LEVELS
        }
        for name in ALGORITHMS
    }
    metric_names = series[0].scores[series[0].algorithm]
    metrics = {m: float(np.mean([s.scores[s.algorithm][m] for s in series])) for m in metric_names}
    return ForecastReportData(
        asset_id="category-sales",
        version="2.1.0",
        created_at="2024-06-01T08:30:00+00:00",
        frequency="MS",
        horizon=HORIZON,
        selection_metric="mape",
        series=series,
        total_series=len(series),
        errors_by_horizon=errors,
        coverage=coverage,
        metrics=metrics,
        changes=["selection metric changed from rmse", HOSTILE_CHANGE],
    )


@pytest.fixture(scope="module")
def report_data() -> ForecastReportData:
    data = _build(["product_category=books", HOSTILE_LABEL, "product_category=games"])
    # Both algorithms must win somewhere, or the per-series marks would not be told apart.
    assert {s.algorithm for s in data.series} == set(ALGORITHMS)
    return data


@pytest.fixture(scope="module")
def document(report_data: ForecastReportData) -> str:
    return render_forecast_report(report_data)


class _StrictParser(HTMLParser):
    """Fails on unbalanced elements and records every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open.pop() == tag, f"</{tag}> closes the wrong element"


def _parse(document: str) -> list[str]:
    parser = _StrictParser()
    parser.feed(document)
    parser.close()
    assert parser.open == [], f"unclosed elements: {parser.open}"
    return parser.tags


def _images(document: str) -> list[bytes]:
    return [base64.b64decode(encoded, validate=True) for encoded in IMAGE.findall(document)]


def _series_sections(document: str) -> dict[str, str]:
    """Escaped series label → the HTML of its section."""
    return {
        heading.removeprefix("Series: "): body
        for heading, body in SECTION.findall(document)
        if heading.startswith("Series: ")
    }


def test_report_is_html_with_one_png_per_series_and_the_horizon_plot(
    document: str, report_data: ForecastReportData
) -> None:
    tags = _parse(document)
    assert document.startswith("<!DOCTYPE html>")
    assert "script" not in tags
    images = _images(document)
    assert len(images) == len(report_data.series) + 1
    assert all(image.startswith(PNG_SIGNATURE) for image in images)
    assert len(set(images)) == len(images)
    assert "http://" not in document
    assert "https://" not in document


def test_report_escapes_caller_text(document: str) -> None:
    assert "<script>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; re-ran" in document
    assert "product_category=&lt;script&gt;alert(&#x27;label&#x27;)&lt;/script&gt;" in document


def test_header_shows_the_run(document: str, report_data: ForecastReportData) -> None:
    for text in ("category-sales", "2.1.0", "2024-06-01T08:30:00+00:00", "MS", "6 steps"):
        assert f"<dd>{text}</dd>" in document
    assert "<dd>3</dd>" in document
    assert "<dd>mape</dd>" in document
    assert "showing" not in document.lower()


def test_partial_series_are_announced(report_data: ForecastReportData) -> None:
    document = render_forecast_report(dataclasses.replace(report_data, total_series=30))
    assert "Showing 3 of 30 series" in document
    assert "<dd>30</dd>" in document
    assert len(_images(document)) == 4


def test_each_series_marks_its_chosen_algorithm(
    document: str, report_data: ForecastReportData
) -> None:
    sections = _series_sections(document)
    assert len(sections) == len(report_data.series)
    for series in report_data.series:
        body = sections[escape(series.label)]
        assert len(IMAGE.findall(body)) == 1
        chosen_rows = re.findall(r'<tr class="chosen">(.*?)</tr>', body)
        assert len(chosen_rows) == 1
        assert chosen_rows[0].startswith(f"<td>{series.algorithm} ")
        assert "★ chosen" in chosen_rows[0]
        assert f"Chosen: <strong>{series.algorithm}</strong>" in body
        other = next(name for name in series.scores if name != series.algorithm)
        assert f"<tr><td>{other}</td>" in body


def test_numbers_come_from_the_data(document: str, report_data: ForecastReportData) -> None:
    assert f"{report_data.metrics['mape']:.4f}" in document
    assert f"{report_data.metrics['rmse']:.4f}" in document
    assert f"{report_data.metrics['coverage_80']:.1%}" in document

    books = report_data.series[0]
    body = _series_sections(document)["product_category=books"]
    for algorithm, scores in books.scores.items():
        row = re.search(rf"<tr[^>]*><td>{algorithm}\b.*?</tr>", body)
        assert row is not None
        assert f"{scores['rmse']:.4f}" in row.group(0)
        assert f"{scores['coverage_95']:.1%}" in row.group(0)

    # The backtest summary averages over the series shown.
    mean_rmse = np.mean([s.scores["drift"]["rmse"] for s in report_data.series])
    summary = next(b for h, b in SECTION.findall(document) if h == "Backtest by algorithm")
    assert f"{mean_rmse:.4f}" in summary
    for name in ALGORITHMS:
        chosen = sum(s.algorithm == name for s in report_data.series)
        assert f'<tr><td>{name}</td><td class="num">{chosen} / 3</td>' in summary
    assert '<th class="num">80% nominal</th>' in summary
    assert '<th class="num">95% nominal</th>' in summary
    for levels in report_data.coverage.values():
        for level, measured in levels.items():
            assert f"{measured:.1%} ({(measured - level) * 100:+.1f} pp)" in summary


def test_nan_errors_by_horizon_leave_gaps(report_data: ForecastReportData) -> None:
    errors = dict(report_data.errors_by_horizon)
    errors["drift"] = np.where(np.arange(HORIZON) >= 4, np.nan, errors["drift"])
    errors["seasonal_naive"] = np.full(HORIZON, np.nan)
    document = render_forecast_report(dataclasses.replace(report_data, errors_by_horizon=errors))
    _parse(document)
    assert len(_images(document)) == len(report_data.series) + 1

    no_errors = {name: np.full(HORIZON, np.nan) for name in errors}
    document = render_forecast_report(dataclasses.replace(report_data, errors_by_horizon=no_errors))
    assert "No backtest errors by horizon step were recorded." in document
    assert len(_images(document)) == len(report_data.series)


def test_sparse_inputs_render(report_data: ForecastReportData) -> None:
    first = report_data.series[0]
    one_step = dataclasses.replace(
        first,
        forecast_index=first.forecast_index[:1],
        forecast=first.forecast[:1],
        bands={lv: (low[:1], high[:1]) for lv, (low, high) in first.bands.items()},
        scores={},
    )
    no_bands = dataclasses.replace(report_data.series[1], bands={})
    history = np.array(report_data.series[2].history, dtype=float)
    history[-1] = np.nan
    gappy = dataclasses.replace(report_data.series[2], history=history)
    data = dataclasses.replace(
        report_data,
        horizon=1,
        series=[one_step, no_bands, gappy],
        coverage={},
        metrics={},
        changes=[],
    )
    document = render_forecast_report(data)
    _parse(document)
    assert len(_images(document)) == 4
    assert "No backtest scores were recorded for this series." in document
    assert "No interval coverage was recorded." in document
    assert "No changes recorded." in document

    empty = dataclasses.replace(
        report_data, series=[], total_series=0, errors_by_horizon={}, coverage={}, metrics={}
    )
    document = render_forecast_report(empty)
    _parse(document)
    assert _images(document) == []
    assert "No series were reported." in document
    assert "No backtest scores were recorded." in document


def test_mismatched_lengths_are_rejected(report_data: ForecastReportData) -> None:
    first = report_data.series[0]
    short = dataclasses.replace(first, forecast=first.forecast[:-1])
    with pytest.raises(ValueError, match="forecast has 5 values"):
        render_forecast_report(dataclasses.replace(report_data, series=[short]))
    low, high = first.bands[0.95]
    ragged = dataclasses.replace(first, bands={**first.bands, 0.95: (low, high[:-1])})
    with pytest.raises(ValueError, match="95% upper bound"):
        render_forecast_report(dataclasses.replace(report_data, series=[ragged]))


def test_plots_do_not_depend_on_the_series_drawn_before(report_data: ForecastReportData) -> None:
    first, second, third = report_data.series
    shared = SeriesPlotter()
    shared.png(third, 24)
    shared.png(first, 24)
    assert shared.png(second, 24) == SeriesPlotter().png(second, 24)
