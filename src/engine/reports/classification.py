"""Self-contained HTML report for one finished classification training.

The page carries its plots as base64 PNG data URIs and its styling inline, so it can be stored,
mailed or opened offline as a single file; it has no scripts. Every piece of caller-supplied text
goes through `html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np

from engine.reports import html, plots

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1_score": "F1 score",
    "auc_roc": "ROC AUC",
    "log_loss": "Log loss",
    "brier_score": "Brier score",
    "cv_auc_roc": "Cross-validated ROC AUC",
    "interval_coverage": "Interval coverage (holdout)",
    "interval_nominal_coverage": "Interval nominal coverage",
    "interval_mean_width": "Interval mean width",
}


@dataclass(frozen=True)
class ClassificationReportData:
    asset_id: str
    version: str
    algorithm: str
    created_at: str
    target: str
    y_holdout: np.ndarray
    p_holdout: np.ndarray
    metrics: dict[str, float]
    cv_scores: dict[str, dict[str, float]]
    global_importance: dict[str, float]
    rows: dict[str, int]
    interval_method: str
    changes: list[str]


def render_classification_report(data: ClassificationReportData) -> str:
    """Return a self-contained HTML document."""
    y = np.asarray(data.y_holdout).astype(int).ravel()
    p = np.asarray(data.p_holdout, dtype=float).ravel()
    if len(y) != len(p):
        raise ValueError(f"y_holdout has {len(y)} rows but p_holdout has {len(p)}")
    body = "\n".join(
        [
            _header(data),
            '<div class="grid">',
            _roc(y, p),
            _holdout_plot("Calibration", y, p, plots.calibration_png),
            _holdout_plot("Confusion matrix", y, p, plots.confusion_png),
            _comparison(data),
            "</div>",
            _importance(data.global_importance),
            _metrics(data.metrics),
            _interval(data),
            html.changes(data.changes),
        ]
    )
    return html.page(f"Training report: {data.asset_id} {data.version}", body)


def _header(data: ClassificationReportData) -> str:
    def rows(key: str) -> str:
        return f"{data.rows[key]:,}" if key in data.rows else "n/a"

    counts = f"{rows('training')} training / {rows('holdout')} holdout ({rows('total')} total)"
    facts = [
        ("Asset", data.asset_id),
        ("Version", data.version),
        ("Target", data.target),
        ("Algorithm", data.algorithm),
        ("Created", data.created_at),
        ("Rows", counts),
    ]
    items = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    heading = escape(f"Training report: {data.asset_id}")
    return f"<header>\n<h1>{heading}</h1>\n<dl>\n{items}\n</dl>\n</header>"


def _roc(y: np.ndarray, p: np.ndarray) -> str:
    classes = len(np.unique(y))
    if classes < 2:
        reason = "the holdout is empty" if classes == 0 else "the holdout has one class"
        return html.section("ROC curve", html.note(f"ROC undefined: {reason}."))
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    caption = f"<p>ROC AUC {auc:.4f} on {len(y):,} holdout rows.</p>"
    return html.section("ROC curve", html.image(plots.roc_png(y, p, auc), "ROC curve") + caption)


def _holdout_plot(
    heading: str, y: np.ndarray, p: np.ndarray, draw: Callable[[np.ndarray, np.ndarray], bytes]
) -> str:
    if len(p) == 0:
        return html.section(heading, html.note(f"{heading} undefined: the holdout is empty."))
    return html.section(heading, html.image(draw(y, p), heading))


def _comparison(data: ClassificationReportData) -> str:
    heading = "Candidate algorithms"
    if not data.cv_scores:
        return html.section(heading, html.note("No cross-validation scores were recorded."))
    caption = (
        f"<p>Selected: <strong>{escape(data.algorithm)}</strong>. Bars show the mean "
        "cross-validated ROC AUC, whiskers one standard deviation across folds.</p>"
    )
    png = plots.comparison_png(data.cv_scores, data.algorithm)
    return html.section(heading, html.image(png, heading) + caption)


def _importance(importance: dict[str, float]) -> str:
    heading = "Feature importance"
    if not importance:
        return html.section(heading, html.note("No feature importance was recorded."))
    return html.section(heading, html.image(plots.importance_png(importance), heading, "wide"))


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def _metrics(metrics: dict[str, float]) -> str:
    if not metrics:
        return html.section("Holdout metrics", html.note("No metrics were recorded."))
    rows = "\n".join(
        f"<tr><td>{escape(METRIC_LABELS.get(name, name))} <code>{escape(name)}</code></td>"
        f'<td class="num">{_number(float(value))}</td></tr>'
        for name, value in metrics.items()
    )
    table = f"<table>\n<tr><th>Metric</th><th>Value</th></tr>\n{rows}\n</table>"
    return html.section("Holdout metrics", table)


def _interval(data: ClassificationReportData) -> str:
    measured = data.metrics.get("interval_coverage")
    nominal = data.metrics.get("interval_nominal_coverage")
    width = data.metrics.get("interval_mean_width")
    parts = [f"<p>{escape(data.interval_method)}</p>"]
    if measured is not None:
        versus = f" against a nominal {nominal:.1%}" if nominal is not None else ""
        parts.append(f"<p>Measured holdout coverage: <strong>{measured:.1%}</strong>{versus}.</p>")
    else:
        parts.append("<p>Holdout coverage was not measured.</p>")
    if width is not None:
        parts.append(f"<p>Mean interval width: {width:.4f}.</p>")
    return html.section("Prediction intervals", "\n".join(parts))
