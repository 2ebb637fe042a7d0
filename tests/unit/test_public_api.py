"""The curated public surface: everything in `engine.__all__` exists, and errors form one tree."""

from __future__ import annotations

import engine
from engine import errors


def test_all_names_resolve() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_every_error_descends_from_engine_error_and_has_a_code() -> None:
    error_types = [getattr(errors, n) for n in errors.__all__ if n != "FieldProblem"]
    codes = set()
    for error_type in error_types:
        assert issubclass(error_type, errors.EngineError)
        codes.add(error_type.code)
    assert len(codes) == len(error_types)


def test_validation_errors_are_value_errors_and_not_found_is_a_lookup_error() -> None:
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.NotFoundError, LookupError)
    problem = errors.ValidationError.for_field("input_data.tenure", "expected a number")
    assert problem.details == [errors.FieldProblem("input_data.tenure", "expected a number")]
