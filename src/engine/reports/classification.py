"""Self-contained HTML report for one finished classification training.

The page carries its plots as base64 PNG data URIs and its styling inline, so it can be stored,
mailed or opened offline as a single file; it has no scripts. Every piece of caller-supplied text
goes through `html.escape`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np

from engine.reports import plots

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

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;
background:#f1f5f9;margin:0;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px}
header,section{background:#fff;border-radius:10px;padding:18px 24px;margin-bottom:18px;
box-shadow:0 1px 3px rgba(15,23,42,.08)}
h1{font-size:1.6rem;margin:0 0 8px}h2{font-size:1.15rem;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:#475569}dd{margin:0;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
.grid section{margin:0}
img{width:100%;height:auto;display:block}
img.wide{max-width:760px;margin:0 auto}
.note{color:#475569;background:#f8fafc;border:1px dashed #cbd5e1;border-radius:8px;padding:36px;
text-align:center}
table{border-collapse:collapse;min-width:360px}
th,td{padding:6px 14px;border-bottom:1px solid #e2e8f0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{color:#475569;font-weight:600}
code{font-size:.85em;color:#64748b}
ul{margin:0;padding-left:20px}
"""


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
            _changes(data.changes),
        ]
    )
    title = f"Training report: {data.asset_id} {data.version}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _image(png: bytes, alt: str, css: str = "") -> str:
    encoded = base64.b64encode(png).decode("ascii")
    attribute = f' class="{css}"' if css else ""
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}"{attribute}>'


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


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
        return _section("ROC curve", _note(f"ROC undefined: {reason}."))
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    caption = f"<p>ROC AUC {auc:.4f} on {len(y):,} holdout rows.</p>"
    return _section("ROC curve", _image(plots.roc_png(y, p, auc), "ROC curve") + caption)


def _holdout_plot(
    heading: str, y: np.ndarray, p: np.ndarray, draw: Callable[[np.ndarray, np.ndarray], bytes]
) -> str:
    if len(p) == 0:
        return _section(heading, _note(f"{heading} undefined: the holdout is empty."))
    return _section(heading, _image(draw(y, p), heading))


def _comparison(data: ClassificationReportData) -> str:
    heading = "Candidate algorithms"
    if not data.cv_scores:
        return _section(heading, _note("No cross-validation scores were recorded."))
    caption = (
        f"<p>Selected: <strong>{escape(data.algorithm)}</strong>. Bars show the mean "
        "cross-validated ROC AUC, whiskers one standard deviation across folds.</p>"
    )
    png = plots.comparison_png(data.cv_scores, data.algorithm)
    return _section(heading, _image(png, heading) + caption)


def _importance(importance: dict[str, float]) -> str:
    heading = "Feature importance"
    if not importance:
        return _section(heading, _note("No feature importance was recorded."))
    return _section(heading, _image(plots.importance_png(importance), heading, "wide"))


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def _metrics(metrics: dict[str, float]) -> str:
    if not metrics:
        return _section("Holdout metrics", _note("No metrics were recorded."))
    rows = "\n".join(
        f"<tr><td>{escape(METRIC_LABELS.get(name, name))} <code>{escape(name)}</code></td>"
        f'<td class="num">{_number(float(value))}</td></tr>'
        for name, value in metrics.items()
    )
    table = f"<table>\n<tr><th>Metric</th><th>Value</th></tr>\n{rows}\n</table>"
    return _section("Holdout metrics", table)


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
    return _section("Prediction intervals", "\n".join(parts))


def _changes(changes: list[str]) -> str:
    if not changes:
        return _section("Changes", "<p>No changes recorded.</p>")
    items = "\n".join(f"<li>{escape(change)}</li>" for change in changes)
    return _section("Changes", f"<ul>\n{items}\n</ul>")
