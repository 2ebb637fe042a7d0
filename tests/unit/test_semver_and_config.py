"""Asset versions (semver) and the validated asset definition (AssetSpec via `parse`)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.domain import semver
from engine.domain.asset_config import DEFAULT_RISK_THRESHOLDS, AssetSpec
from engine.domain.parsing import parse
from engine.errors import ValidationError

# semver -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "bumped"),
    [("1.0.0", "1.1.0"), ("1.2.7", "1.3.0"), ("0.9.3", "0.10.0"), ("2.19.0", "2.20.0")],
)
def test_bump_minor_resets_patch(version: str, bumped: str) -> None:
    assert semver.bump_minor(version) == bumped


@pytest.mark.parametrize(
    ("config_version", "existing", "expected"),
    [
        ("1.0.0", [], "1.0.0"),
        ("1.0.0", ["1.0.0"], "1.0.1"),
        ("1.0.0", ["1.0.0", "1.0.1", "1.0.2"], "1.0.3"),
        ("1.0.0", ["1.0.1"], "1.0.0"),
        ("1.0.0", ["1.0.0", "1.0.2"], "1.0.1"),
        ("1.2.0", ["1.0.0", "1.1.0", "1.1.1"], "1.2.0"),
        ("1.2.3", ["1.2.3", "1.2.4", "1.3.0"], "1.2.5"),
    ],
)
def test_next_model_version_skips_taken_versions(
    config_version: str, existing: list[str], expected: str
) -> None:
    assert semver.next_model_version(config_version, existing) == expected
    assert expected not in existing
    assert semver.parse(expected)[:2] == semver.parse(config_version)[:2]


def test_sort_key_orders_numerically_not_lexically() -> None:
    versions = ["1.10.0", "1.2.0", "1.9.9", "0.99.0", "1.2.10", "1.2.9"]
    assert sorted(versions, key=semver.sort_key) == [
        "0.99.0",
        "1.2.0",
        "1.2.9",
        "1.2.10",
        "1.9.9",
        "1.10.0",
    ]


@pytest.mark.parametrize(
    "bad", ["", "1", "1.2", "1.2.3.4", "v1.2.3", "1.2.x", "1.-2.3", " 1.2.3", "1.2.3-beta", "a.b.c"]
)
def test_parse_refuses_non_semver(bad: str) -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        semver.parse(bad)
    with pytest.raises(ValueError, match="not a semantic version"):
        semver.bump_minor(bad)
    with pytest.raises(ValueError, match="not a semantic version"):
        semver.next_model_version(bad, [])


def test_parse_refuses_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        semver.parse("1.2.3\n")


# AssetSpec --------------------------------------------------------------------------------------


def _body(**configuration: Any) -> dict[str, Any]:
    return {
        "name": "Churn",
        "data_sources": [{"source_id": "telco", "tables": ["customers"]}],
        "configuration": {"target_variable": "churn", "features": ["tenure"], **configuration},
    }


def _fields(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(AssetSpec, data, "asset")
    assert info.value.message.startswith("Invalid asset: ")
    return [d.field for d in info.value.details]


def test_a_minimal_body_gets_documented_defaults() -> None:
    spec = parse(AssetSpec, _body(), "asset")
    config = spec.configuration
    assert config.is_classification
    assert config.algorithms == ["xgboost"]
    assert config.validation_split == 0.2
    assert config.risk_thresholds == DEFAULT_RISK_THRESHOLDS
    assert spec.data_sources[0].access_level == "read_only"
    assert spec.validation_rules.min_data_points == 100


def test_values_are_normalised() -> None:
    spec = parse(
        AssetSpec,
        _body(algorithms=[" xgboost", "xgboost ", "logistic"], risk_thresholds={"high": 0.7}),
        "asset",
    )
    assert spec.configuration.algorithms == ["xgboost", "logistic"]
    assert spec.configuration.risk_thresholds == {"medium": 0.3, "high": 0.7}


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        ({"validation_split": 0.7}, "configuration.validation_split"),
        ({"validation_split": 0.0}, "configuration.validation_split"),
        ({"validation_split": "lots"}, "configuration.validation_split"),
        ({"cross_validation_folds": 1}, "configuration.cross_validation_folds"),
        ({"cross_validation_folds": 21}, "configuration.cross_validation_folds"),
        ({"algorithms": []}, "configuration.algorithms"),
        ({"features": ["a", "a"]}, "configuration.features"),
        ({"features": ["a", 3]}, "configuration.features[1]"),
        ({"risk_thresholds": {"medium": 0.8, "high": 0.5}}, "configuration.risk_thresholds"),
        ({"risk_thresholds": {"extreme": 0.9}}, "configuration.risk_thresholds"),
        ({"confidence_level": 1.0}, "configuration.confidence_level"),
        ({"output_format": "xml"}, "configuration.output_format"),
        ({"entity_key": {"field": "id"}}, "configuration.entity_key.column"),
    ],
)
def test_errors_name_the_field_at_fault(configuration: dict[str, Any], field: str) -> None:
    assert _fields(_body(**configuration)) == [field]


def test_nested_list_errors_carry_indexes() -> None:
    data = _body()
    data["data_sources"].append({"source_id": "", "access_level": "read_write"})
    assert sorted(_fields(data)) == ["data_sources[1].access_level", "data_sources[1].source_id"]


def test_every_problem_is_listed_at_once() -> None:
    data = _body(validation_split=0.9, key_factors=0)
    del data["name"]
    assert sorted(_fields(data)) == [
        "configuration.key_factors",
        "configuration.validation_split",
        "name",
    ]


@pytest.mark.parametrize("path", [(), ("configuration",), ("pricing", "free_tier")])
def test_unknown_extra_fields_are_refused(path: tuple[str, ...]) -> None:
    data = _body()
    section = data
    for key in path:
        section = section.setdefault(key, {})
    section["colour"] = "red"
    assert _fields(data) == [".".join((*path, "colour"))]


def test_classification_needs_a_target() -> None:
    data = _body()
    del data["configuration"]["target_variable"]
    with pytest.raises(ValidationError, match=r"target_variable: .*required for classification"):
        parse(AssetSpec, data, "asset")
    forecasting = copy.deepcopy(data)
    forecasting["configuration"]["model_type"] = "forecasting"
    assert parse(AssetSpec, forecasting, "asset").configuration.target_variable is None


def test_the_target_cannot_be_a_feature() -> None:
    with pytest.raises(ValidationError, match="cannot also be a feature"):
        parse(AssetSpec, _body(features=["tenure", "churn"]), "asset")


def test_missing_target_is_reported_on_the_target_field() -> None:
    data = _body()
    del data["configuration"]["target_variable"]
    assert _fields(data) == ["configuration.target_variable"]


def test_a_prefix_is_prepended_to_field_paths() -> None:
    with pytest.raises(ValidationError) as info:
        parse(AssetSpec, _body(validation_split=2), "asset", prefix="asset")
    assert [d.field for d in info.value.details] == ["asset.configuration.validation_split"]
    with pytest.raises(ValidationError) as info:
        parse(AssetSpec, None, "asset")
    assert {d.field for d in info.value.details} == {"name", "data_sources", "configuration"}
