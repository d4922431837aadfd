"""The session fixture executes the three notebooks headless; these tests check what they wrote."""

import json
from pathlib import Path

import pytest

from tests.fixtures.platform import BuiltPlatform
from training.artifacts import ArtifactIntegrityError, file_sha256, load_artifact
from training.evaluate import main as evaluate_main
from training.versions import VERSIONS

REQUIRED_KEYS = {
    "version", "feature_service", "feature_names", "time_freeze", "label_legend", "train_metrics",
    "test_metrics", "dataset_sha256", "artifact_sha256", "artifact_file",
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_notebook_writes_artifact_with_metadata(built_platform: BuiltPlatform, version: str) -> None:
    directory = VERSIONS[version].model_dir(built_platform.models_dir)
    metadata = json.loads((directory / "metadata.json").read_text())
    assert metadata.keys() >= REQUIRED_KEYS
    assert metadata["version"] == version
    assert metadata["feature_service"] == VERSIONS[version].feature_set.contract.training_service
    assert metadata["label_legend"] == {"0": "ham", "1": "spam"}
    assert metadata["artifact_sha256"] == file_sha256(directory / metadata["artifact_file"])


def test_models_reach_their_goals_on_the_test_split(built_platform: BuiltPlatform) -> None:
    f1 = {v: load_artifact(VERSIONS[v].model_dir(built_platform.models_dir)).metadata["test_metrics"]["f1_spam"]
          for v in VERSIONS}
    assert f1["v1"] >= 0.80
    assert f1["v2"] >= 0.90
    assert f1["v3"] > f1["v2"]


def test_load_artifact_with_tampered_file_raises(built_platform: BuiltPlatform, tmp_path: Path) -> None:
    source = VERSIONS["v1"].model_dir(built_platform.models_dir)
    copy = tmp_path / "model"
    copy.mkdir()
    for name in ("metadata.json", "model.joblib"):
        (copy / name).write_bytes((source / name).read_bytes())
    with (copy / "model.joblib").open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        load_artifact(copy)


def test_evaluate_cli_prints_json_metrics(built_platform: BuiltPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--version", "v3", "--data", str(built_platform.raw_csv), "--models-dir", str(built_platform.models_dir)]
    assert evaluate_main(args) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"accuracy", "precision_spam", "recall_spam", "f1_spam", "roc_auc"} <= metrics.keys()
    assert 0.9 < metrics["f1_spam"] <= 1.0
