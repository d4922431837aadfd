"""What services agree on about the routes they call each other on: model serving's paths,
`/model/{version}/{endpoint}` (DESIGN §5), and user-data's batch limit."""

# Items in one user-data `POST /batch/sms` or `POST /pending/clear` (user-data's default limit; more is a 413).
USER_DATA_BATCH_MAX = 64

MODEL_PREFIX = "/model"
TEXT_TO_FEATURES = "text_to_features"
FEATURES_TO_PREDICTION = "features_to_prediction"
TEXT_TO_PREDICTION = "text_to_prediction"
SMS_TO_PREDICTION = "sms_to_prediction"
BATCH_SUFFIX = "_batch"


def model_path(version: str, endpoint: str) -> str:
    return f"{MODEL_PREFIX}/{version}/{endpoint}"
