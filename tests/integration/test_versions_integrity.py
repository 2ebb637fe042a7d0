"""Stored versions are immutable and verified: tampering is refused, a failed write leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ArtifactIntegrityError, Engine, Settings
from engine.trained_model import TrainedModel

RECORD = {
    "tenure": 5,
    "MonthlyCharges": 70.0,
    "TotalCharges": 350.0,
    "Contract": "One year",
    "InternetService": "DSL",
    "PaymentMethod": "Mailed check",
    "PaperlessBilling": "No",
    "SeniorCitizen": 1,
}


def test_a_tampered_artifact_is_refused_by_a_fresh_engine(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    settings = engine.context.settings
    payload = next((settings.models_dir / asset_id / "1.0.0").glob("*.joblib"))
    payload.write_bytes(payload.read_bytes() + b"\0")
    with Engine.open(settings) as fresh, pytest.raises(ArtifactIntegrityError, match="sha256"):
        fresh.execute("acme", asset_id, {"input_data": RECORD})


def test_a_tampered_manifest_is_refused(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    manifest = engine.context.settings.models_dir / asset_id / "1.0.0" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"files"', '"filez"'))
    with Engine.open(engine.context.settings) as fresh, pytest.raises(ArtifactIntegrityError):
        fresh.execute("acme", asset_id, {"input_data": RECORD})


def test_deploying_a_tampered_version_keeps_the_active_one(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    engine.train("acme", asset_id, activate=False)
    features = engine.context.settings.models_dir / asset_id / "1.0.1" / "features.json"
    features.write_text(features.read_text().replace("tenure", "tenur3"))
    with Engine.open(engine.context.settings) as fresh:
        with pytest.raises(ArtifactIntegrityError):
            fresh.deploy("acme", asset_id, "1.0.1")
        assert fresh.list_versions("acme", asset_id)[1]["current_version"] == "1.0.0"
        assert (
            fresh.execute("acme", asset_id, {"input_data": RECORD})["metadata"]["model_version"]
            == "1.0.0"
        )


def test_an_interrupted_version_write_leaves_no_version(
    trained: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, asset_id = trained

    def crash_midway(self: TrainedModel, directory: Path) -> None:
        self.classifier.save(directory)
        raise OSError("disk full")

    monkeypatch.setattr(TrainedModel, "write_payload", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        engine.train("acme", asset_id)
    asset_dir = engine.context.settings.models_dir / asset_id
    assert sorted(p.name for p in asset_dir.iterdir()) == ["1.0.0"]
    assert [v["version"] for v in engine.list_versions("acme", asset_id)[0]] == ["1.0.0"]
    monkeypatch.undo()
    assert engine.train("acme", asset_id)["model_version"] == "1.0.1"


def test_the_metadata_store_survives_a_reopen(trained: tuple[Engine, str], tmp_path: Path) -> None:
    engine, asset_id = trained
    before = engine.execute("acme", asset_id, {"input_data": RECORD})["results"]
    engine.context.executions.flush()
    with Engine.open(Settings.for_home(engine.context.settings.home)) as reopened:
        assert reopened.execute("acme", asset_id, {"input_data": RECORD})["results"] == before
        assert reopened.get_asset("acme", asset_id)["usage_statistics"]["total_requests"] == 1


def test_every_version_carries_its_training_report(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    report = engine.training_report("acme", asset_id)
    assert report.count('<img src="data:image/png;base64,') == 5
    assert asset_id in report
    path = engine.context.settings.models_dir / asset_id / "1.0.0" / "report.html"
    path.write_text(report.replace("ROC", "R0C"))
    with Engine.open(engine.context.settings) as fresh, pytest.raises(ArtifactIntegrityError):
        fresh.training_report("acme", asset_id, "1.0.0")
