"""Time-series forecasting: series preparation, the forecaster port, rolling-origin backtests,
calibrated intervals and the per-series training that ties them together."""
