"""Human-readable reports of finished trainings."""

from engine.reports.classification import ClassificationReportData, render_classification_report

__all__ = ["ClassificationReportData", "render_classification_report"]
