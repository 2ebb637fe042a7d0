"""Classification training report: a self-contained, escaped HTML page with five PNG plots."""

from __future__ import annotations

import base64
import dataclasses
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.tree import DecisionTreeClassifier

from engine.reports import ClassificationReportData, render_classification_report
from engine.reports.plots import calibration_bins

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
HOSTILE_CHANGE = "<script>alert('x')</script> & re-ran"


@pytest.fixture(scope="module")
def report_data() -> ClassificationReportData:
    x, y = make_classification(n_samples=600, n_features=20, n_informative=6, random_state=0)
    x_train, x_holdout, y_train, y_holdout = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=0
    )
    candidates = {
        "logistic_regression": LogisticRegression(max_iter=1000),
        "decision_tree": DecisionTreeClassifier(max_depth=4, random_state=0),
    }
    cv_scores = {}
    for name, estimator in candidates.items():
        scores = cross_val_score(estimator, x_train, y_train, cv=3, scoring="roc_auc")
        cv_scores[name] = {"auc_roc_mean": float(scores.mean()), "auc_roc_std": float(scores.std())}
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    p = model.predict_proba(x_holdout)[:, 1]
    weights = np.abs(model.coef_[0]) * x_train.std(axis=0)
    importance = {f"feature_{i}": float(w / weights.sum()) for i, w in enumerate(weights)}
    return ClassificationReportData(
        asset_id="churn-model",
        version="1.2.0",
        algorithm="logistic_regression",
        created_at="2024-05-01T12:00:00+00:00",
        target="churned",
        y_holdout=y_holdout,
        p_holdout=p,
        metrics={
            "accuracy": float(accuracy_score(y_holdout, p >= 0.5)),
            "auc_roc": float(roc_auc_score(y_holdout, p)),
            "interval_coverage": 0.912,
            "interval_nominal_coverage": 0.9,
            "interval_mean_width": 0.1234,
        },
        cv_scores=cv_scores,
        global_importance=importance,
        rows={"total": 600, "training": len(y_train), "holdout": len(y_holdout)},
        interval_method="split-conformal 90% interval for the cohort event rate",
        changes=["algorithm changed from decision_tree", HOSTILE_CHANGE],
    )


@pytest.fixture(scope="module")
def document(report_data: ClassificationReportData) -> str:
    return render_classification_report(report_data)


def _parse(document: str) -> None:
    parser = HTMLParser()
    parser.feed(document)
    parser.close()


def _images(document: str) -> list[bytes]:
    return [base64.b64decode(encoded, validate=True) for encoded in IMAGE.findall(document)]


def test_report_is_html_with_five_png_plots(document: str) -> None:
    _parse(document)
    assert document.startswith("<!DOCTYPE html>")
    images = _images(document)
    assert len(images) == 5
    assert all(image.startswith(PNG_SIGNATURE) for image in images)
    assert "http://" not in document
    assert "https://" not in document


def test_report_shows_auc_winner_and_header(
    document: str, report_data: ClassificationReportData
) -> None:
    assert f"{report_data.metrics['auc_roc']:.4f}" in document
    assert "logistic_regression" in document
    for text in ("churn-model", "1.2.0", "2024-05-01T12:00:00+00:00", "churned"):
        assert text in document
    assert "91.2%" in document
    assert "90.0%" in document
    assert report_data.interval_method in document


def test_report_escapes_caller_text(document: str) -> None:
    assert "<script>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; re-ran" in document


def test_single_class_holdout_renders_without_roc(report_data: ClassificationReportData) -> None:
    data = dataclasses.replace(report_data, y_holdout=np.zeros(len(report_data.y_holdout), int))
    document = render_classification_report(data)
    _parse(document)
    assert "ROC undefined: the holdout has one class" in document
    assert len(_images(document)) == 4


def test_tiny_and_empty_holdouts_render(report_data: ClassificationReportData) -> None:
    tiny = dataclasses.replace(
        report_data, y_holdout=np.array([0, 1, 1]), p_holdout=np.array([0.2, 0.7, 0.4])
    )
    assert len(_images(render_classification_report(tiny))) == 5
    empty = dataclasses.replace(
        report_data,
        y_holdout=np.array([], int),
        p_holdout=np.array([]),
        metrics={},
        cv_scores={},
        global_importance={},
        changes=[],
    )
    document = render_classification_report(empty)
    _parse(document)
    assert "ROC undefined: the holdout is empty" in document
    assert _images(document) == []


def test_calibration_uses_fewer_bins_than_rows() -> None:
    y = np.array([0, 1, 1])
    p = np.array([0.9, 0.1, 0.5])
    predicted, observed, counts = calibration_bins(y, p, max_bins=10)
    np.testing.assert_allclose(predicted, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(observed, [1, 1, 0])
    assert counts.tolist() == [1, 1, 1]


def test_calibration_bins_have_equal_counts() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    predicted, observed, counts = calibration_bins(y, p, max_bins=10)
    assert counts.tolist() == [100] * 10
    assert np.all(np.diff(predicted) > 0)
    assert np.max(np.abs(predicted - observed)) < 0.15


def test_mismatched_lengths_are_rejected(report_data: ClassificationReportData) -> None:
    data = dataclasses.replace(report_data, p_holdout=report_data.p_holdout[:-1])
    with pytest.raises(ValueError, match="rows"):
        render_classification_report(data)
