"""Plug-in registries: membership is a plain question, unknown names get a clear answer."""

from __future__ import annotations

import pytest

from engine.algorithms import ALGORITHMS
from engine.connectors import CONNECTORS
from engine.errors import ConfigurationError


def test_membership_is_a_question_not_an_error() -> None:
    assert "xgboost" in ALGORITHMS
    assert "duckdbb" not in CONNECTORS
    assert "snowflake" in CONNECTORS


def test_an_unknown_name_suggests_the_close_one() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean 'duckdb'"):
        CONNECTORS.load("duckdbb")
