"""Model-serving paths other services call: `/model/{version}/{endpoint}` (DESIGN §5)."""

MODEL_PREFIX = "/model"
TEXT_TO_FEATURES = "text_to_features"
FEATURES_TO_PREDICTION = "features_to_prediction"
TEXT_TO_PREDICTION = "text_to_prediction"
SMS_TO_PREDICTION = "sms_to_prediction"
BATCH_SUFFIX = "_batch"


def model_path(version: str, endpoint: str) -> str:
    return f"{MODEL_PREFIX}/{version}/{endpoint}"
