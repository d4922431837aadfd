"""One home for what each model version is: its features, Feast objects, time freeze and artifact dir."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
FEATURE_REPO_DIR = PROJECT_ROOT / "feature_repo"

LABEL_LEGEND: dict[int, str] = {0: "ham", 1: "spam"}
LABEL_VIEW = "sms_labels"
LABEL_FIELD = "label"
ENTITY_KEY = "sms_id"
V2_LENGTH = 30
TOKENIZER_SUBDIR = "tokenizer"


@dataclass(frozen=True)
class VersionSpec:
    """Static description of one model version (DESIGN §4)."""

    version: str
    model_dir_name: str
    feature_view: str
    online_feature_service: str
    training_feature_service: str
    time_freeze: datetime

    def model_dir(self, models_dir: Path = MODELS_DIR) -> Path:
        return models_dir / self.model_dir_name


VERSIONS: dict[str, VersionSpec] = {
    "v1": VersionSpec(
        version="v1",
        model_dir_name="model1_2019",
        feature_view="sms_features1",
        online_feature_service="sms_features_1",
        training_feature_service="labeled_sms_1",
        time_freeze=datetime(2019, 12, 31, tzinfo=UTC),
    ),
    "v2": VersionSpec(
        version="v2",
        model_dir_name="model2_2020",
        feature_view="sms_features2",
        online_feature_service="sms_features_2",
        training_feature_service="labeled_sms_2",
        time_freeze=datetime(2020, 12, 31, tzinfo=UTC),
    ),
    "v3": VersionSpec(
        version="v3",
        model_dir_name="model3_2021",
        feature_view="sms_features2",
        online_feature_service="sms_features_2",
        training_feature_service="labeled_sms_2",
        time_freeze=datetime(2021, 12, 31, tzinfo=UTC),
    ),
}


def get_spec(version: str) -> VersionSpec:
    """Return the spec of `version`, or raise KeyError naming the known versions."""
    try:
        return VERSIONS[version]
    except KeyError:
        raise KeyError(f"unknown model version {version!r}; known: {', '.join(VERSIONS)}") from None


def tokenizer_dir(models_dir: Path = MODELS_DIR) -> Path:
    """The v2 tokenizer is shared by v2 and v3 and lives beside model v2."""
    return VERSIONS["v2"].model_dir(models_dir) / TOKENIZER_SUBDIR
