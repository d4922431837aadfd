"""Versioned model artifacts: a joblib file plus metadata.json carrying its sha256."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

ARTIFACT_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class ArtifactIntegrityError(RuntimeError):
    """The artifact on disk does not match the hash recorded in its metadata."""


@dataclass(frozen=True)
class ModelArtifact:
    estimator: Any
    metadata: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.metadata["artifact_sha256"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_artifact(estimator: Any, metadata: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Write the estimator and its metadata; return the metadata as written (with the hash)."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact_path = directory / ARTIFACT_FILE
    joblib.dump(estimator, artifact_path)
    written = {**metadata, "artifact_file": ARTIFACT_FILE, "artifact_sha256": file_sha256(artifact_path)}
    (directory / METADATA_FILE).write_text(json.dumps(written, indent=2, sort_keys=True, default=str) + "\n")
    return written


def read_metadata(directory: Path) -> dict[str, Any]:
    path = directory / METADATA_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {METADATA_FILE} in {directory}; train the model first (make models)")
    return json.loads(path.read_text())


def load_artifact(directory: Path) -> ModelArtifact:
    """Load an artifact, refusing one whose sha256 differs from its metadata."""
    metadata = read_metadata(directory)
    artifact_path = directory / metadata["artifact_file"]
    actual = file_sha256(artifact_path)
    if actual != metadata["artifact_sha256"]:
        raise ArtifactIntegrityError(
            f"{artifact_path} has sha256 {actual}, but metadata.json records {metadata['artifact_sha256']}"
        )
    return ModelArtifact(estimator=joblib.load(artifact_path), metadata=metadata)
