"""Human-readable reports of finished trainings."""

from engine.reports.classification import ClassificationReportData, render_classification_report
from engine.reports.forecast import render_forecast_report
from engine.reports.forecast_data import ForecastReportData, SeriesReport

__all__ = ["ClassificationReportData", "render_classification_report"]
__all__ += ["ForecastReportData", "SeriesReport", "render_forecast_report"]
