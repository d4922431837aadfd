"""Feature views. Names, fields and descriptions come from `contract.feature_store`, their one home."""

from datetime import timedelta

from entities import sms
from feast import FeatureView, Field
from feast.types import Array, Float64, Int64
from sources import sms_features1_source, sms_labels_source, smss2_push

from contract.feature_store import (
    FEATURES1,
    FEATURES2,
    LABEL_FIELD,
    LABELS_VIEW,
    V1_FEATURE_DESCRIPTIONS,
    V2_FIELD,
    V2_LENGTH,
)

# Ten years: rows are dated 2019/2020 and must stay retrievable; online reads do not expire them.
TTL = timedelta(days=3650)

sms_features1 = FeatureView(
    name=FEATURES1.view,
    entities=[sms],
    ttl=TTL,
    schema=[Field(name=name, dtype=Float64, description=V1_FEATURE_DESCRIPTIONS[name]) for name in FEATURES1.fields],
    source=sms_features1_source,
    online=True,
    description="v1 features (2019): nine numeric text features.",
    tags={"feature_set": FEATURES1.name},
)

sms_labels = FeatureView(
    name=LABELS_VIEW,
    entities=[sms],
    ttl=TTL,
    schema=[Field(name=LABEL_FIELD, dtype=Int64, description="1 if the message is spam, 0 if ham.")],
    source=sms_labels_source,
    online=True,
    description="Ground-truth labels. Never served to clients (the feature proxy excludes them).",
)

sms_features2 = FeatureView(
    name=FEATURES2.view,
    entities=[sms],
    ttl=TTL,
    schema=[
        Field(
            name=V2_FIELD,
            dtype=Array(Int64),
            description=f"{V2_LENGTH} token ids from the v2 tokenizer (0 = padding, 1 = out of vocabulary).",
        )
    ],
    source=smss2_push,
    online=True,
    description="v2 features (2020): fixed-length token-id vectors, fed in real time by smss2_push.",
    tags={"feature_set": FEATURES2.name},
)
