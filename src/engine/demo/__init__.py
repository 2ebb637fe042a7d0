"""The bundled demo: IBM Telco Customer Churn (Apache-2.0, see data/LICENSE-telco.txt)."""

from pathlib import Path

DATA = Path(__file__).parent / "data" / "telco_customer_churn.csv"
AIR_PASSENGERS = Path(__file__).parent / "data" / "air_passengers.csv"
PEYTON_MANNING = Path(__file__).parent / "data" / "peyton_manning_log_views.csv"
US_RETAIL_SALES = Path(__file__).parent / "data" / "us_retail_sales.csv"

FEATURES = [
    "gender",
    "SeniorCitizen",
    "Partner",
    "Dependents",
    "tenure",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
    "MonthlyCharges",
    "TotalCharges",
]


def source_body() -> dict[str, object]:
    return {
        "name": "Telco customers",
        "type": "duckdb",
        "connection_config": {"files": {"customers": str(DATA)}},
        "validation_query": "SELECT COUNT(*) FROM customers",
    }


def asset_body(source_id: str, algorithms: list[str] | None = None) -> dict[str, object]:
    return {
        "name": "Customer Churn Predictor",
        "description": "Probability that a telco customer churns, with key factors.",
        "category": "machine_learning",
        "data_sources": [
            {"source_id": source_id, "tables": ["customers"], "access_level": "read_only"}
        ],
        "configuration": {
            "model_type": "classification",
            "algorithms": algorithms or ["xgboost", "logistic_regression"],
            "features": FEATURES,
            "target_variable": "Churn",
            "entity_key": {"field": "customer_id", "column": "customerID"},
        },
        "validation_rules": {"min_data_points": 1000, "required_columns": ["customerID", "Churn"]},
        "pricing": {
            "model": "per_request",
            "price": 0.05,
            "currency": "USD",
            "free_tier": {"requests": 50, "period": "monthly"},
        },
    }


def forecast_source_body() -> dict[str, object]:
    return {
        "name": "US retail sales",
        "type": "duckdb",
        "connection_config": {"files": {"retail_sales": str(US_RETAIL_SALES)}},
        "validation_query": "SELECT COUNT(*) FROM retail_sales",
    }


def forecast_asset_body(source_id: str) -> dict[str, object]:
    """Monthly US retail sales (1992–2016), forecast a year ahead; ARIMA and Prophet compete
    on a rolling-origin backtest against the seasonal-naive reference."""
    return {
        "name": "Revenue Forecasting Model",
        "description": "Monthly retail revenue a year ahead, with 80% and 95% intervals.",
        "category": "forecasting",
        "data_sources": [
            {"source_id": source_id, "tables": ["retail_sales"], "access_level": "read_only"}
        ],
        "configuration": {
            "model_type": "time_series",
            "algorithms": ["arima", "prophet"],
            "date_column": "ds",
            "target_variable": "y",
            "value_transform": "log",
            "prediction_horizon": 12,
            "cross_validation_folds": 5,
        },
        "validation_rules": {
            "min_data_points": 100,
            "required_columns": ["ds", "y"],
            "date_range_validation": True,
        },
        "pricing": {"model": "per_request", "price": 0.5, "currency": "USD"},
    }
