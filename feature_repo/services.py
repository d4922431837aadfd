"""Feature services: labelled sets for training, label-free sets for serving and the feature proxy."""

from feast import FeatureService
from views import sms_features1, sms_features2, sms_labels

from contract.feature_store import FEATURES1, FEATURES2

labeled_sms_1 = FeatureService(
    name=FEATURES1.training_service,
    features=[sms_labels, sms_features1],
    description="Labels and v1 features: the training set of model v1.",
)

labeled_sms_2 = FeatureService(
    name=FEATURES2.training_service,
    features=[sms_labels, sms_features2],
    description="Labels and v2 features: the training set of models v2 and v3.",
)

sms_features_1 = FeatureService(
    name=FEATURES1.online_service,
    features=[sms_features1],
    description="v1 features only, for serving.",
)

sms_features_2 = FeatureService(
    name=FEATURES2.online_service,
    features=[sms_features2],
    description="v2 features only, for serving.",
)
