"""The engine's exceptions, one tree under `EngineError`.

    EngineError
    ├── ConfigurationError (ValueError)      settings or registry misuse; unknown plug-in names
    │   └── MissingDependencyError (ImportError-like message naming the extra to install)
    ├── ValidationError (ValueError)         bad input; carries field-level `details`
    │   ├── DataValidationError              a validation rule failed on the training data
    │   └── UnsafeQueryError                 SQL that is not a single read-only SELECT
    │       └── UnknownTableError            ... or one over a table the source does not have
    ├── NotFoundError (LookupError)          no such resource for this company
    ├── ConflictError                        the resource's state forbids the operation
    │   └── JobCancelledError                a job stopped because it was cancelled
    ├── ConnectorError                       the data source's driver failed
    ├── ArtifactIntegrityError               a stored artifact does not match its manifest
    └── NotAvailableError                    the operation exists in the contract but is not built

Each error has a stable `code` (for the HTTP layer's one mapping) and a message that names the
thing at fault and, where there is one, the fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of an input."""

    field: str
    problem: str


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])


class ConfigurationError(EngineError, ValueError):
    code = "configuration_error"


class MissingDependencyError(ConfigurationError):
    code = "missing_dependency"


class ValidationError(EngineError, ValueError):
    code = "validation_error"

    @classmethod
    def for_field(cls, field: str, problem: str) -> ValidationError:
        return cls(f"{field}: {problem}", [FieldProblem(field, problem)])


class DataValidationError(ValidationError):
    code = "data_validation_failed"


class UnsafeQueryError(ValidationError):
    code = "unsafe_query"


class UnknownTableError(UnsafeQueryError):
    """A read-only query over a table the source does not have."""


class NotFoundError(EngineError, LookupError):
    code = "not_found"


class ConflictError(EngineError):
    code = "conflict"


class JobCancelledError(ConflictError):
    code = "job_cancelled"


class ConnectorError(EngineError):
    code = "connector_error"


class ArtifactIntegrityError(EngineError):
    code = "artifact_integrity"


class NotAvailableError(EngineError):
    code = "not_available"


__all__ = [
    "ArtifactIntegrityError",
    "ConfigurationError",
    "ConflictError",
    "ConnectorError",
    "DataValidationError",
    "EngineError",
    "FieldProblem",
    "JobCancelledError",
    "MissingDependencyError",
    "NotAvailableError",
    "NotFoundError",
    "UnsafeQueryError",
    "ValidationError",
]
