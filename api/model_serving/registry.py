"""Which class serves which version. Model v4 = one class in models.py + one line here."""

from pathlib import Path
from typing import Protocol

from api.model_serving.models import SpamModel, V1Model, V2Model, V3Model


class ModelLoader(Protocol):
    def load(self, version: str, models_dir: Path) -> SpamModel: ...


MODEL_REGISTRY: dict[str, ModelLoader] = {
    "v1": V1Model,
    "v2": V2Model,
    "v3": V3Model,
}


def unknown_version_message(version: str) -> str:
    return f"unknown model version {version!r}; known versions: {', '.join(MODEL_REGISTRY)}"


def load_models(versions: list[str], models_dir: Path) -> list[SpamModel]:
    """Load (and hash-check) every version; errors name the version and the artifact directory."""
    models: list[SpamModel] = []
    for version in versions:
        if version not in MODEL_REGISTRY:
            raise ValueError(unknown_version_message(version))
        try:
            models.append(MODEL_REGISTRY[version].load(version, models_dir))
        except Exception as exc:
            raise RuntimeError(f"cannot load model {version} from {models_dir}: {exc}") from exc
    return models
