"""engine: an analytics execution engine and model-serving worker."""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from engine.api import Engine


def __getattr__(name: str) -> Any:
    # The engine pulls in pandas and scikit-learn; importing the package (the CLI, the errors)
    # should not.
    if name == "Engine":
        from engine.api import Engine

        return Engine
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


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
