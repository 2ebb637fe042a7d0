"""engine: an analytics execution engine and model-serving worker."""

from engine.api import Engine
from engine.errors import (
    ArtifactIntegrityError,
    ConfigurationError,
    ConflictError,
    ConnectorError,
    DataValidationError,
    EngineError,
    FieldProblem,
    MissingDependencyError,
    NotAvailableError,
    NotFoundError,
    UnsafeQueryError,
    ValidationError,
)
from engine.settings import Settings

__all__ = [
    "ArtifactIntegrityError",
    "ConfigurationError",
    "ConflictError",
    "ConnectorError",
    "DataValidationError",
    "Engine",
    "EngineError",
    "FieldProblem",
    "MissingDependencyError",
    "NotAvailableError",
    "NotFoundError",
    "Settings",
    "UnsafeQueryError",
    "ValidationError",
]
