"""The feature-store contract: the names and schemas Feast's repository, training, the APIs and the batch
jobs must agree on (DESIGN §3). `feature_repo/` declares Feast objects with these names; nothing else
spells them.

Two feature sets exist, named apart from the model versions that use them: `FEATURES1` (9 named
floats, 2019) and `FEATURES2` (30 token ids, 2020; models v2 and v3 both use it).
"""

from dataclasses import dataclass

import pyarrow as pa

ENTITY_NAME = "sms"
ENTITY_KEY = "sms_id"
TIMESTAMP_FIELD = "event_timestamp"
# DuckDB and Spark reject nanoseconds, so offline rows carry microseconds.
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

LABEL_FIELD = "label"
LABEL_LEGEND: dict[int, str] = {0: "ham", 1: "spam"}
LABELS_VIEW = "sms_labels"
LABELS_SOURCE = "sms_labels_source"
LABELS_SOURCE_PATH = "data/sms_labels.parquet"

V1_FEATURE_DESCRIPTIONS: dict[str, str] = {
    "cap_r": "Share of letters that are capitals (0 when the text has no letters).",
    "nal_r": "Share of non-space characters that are not letters (digits, punctuation, symbols).",
    "len_log": "Natural log of one plus the number of characters in the cleaned text.",
    "url_n": "Number of web links (http(s)://, www. or a bare domain such as example.com).",
    "phone_n": "Number of runs of five or more digits, i.e. phone numbers and short codes.",
    "money_n": "Number of currency signs and money words (£, $, €, cash, pounds, price).",
    "offer_kw_n": "Number of prize-style words (free, win, claim, prize, award, urgent, guaranteed...).",
    "cta_kw_n": "Number of SMS call-to-action words (call, txt, text, reply, send, stop, please...).",
    "promo_kw_n": "Number of self-promotion words and pairs (check out, subscribe, my channel, video, follow...).",
}
V1_FEATURE_NAMES: tuple[str, ...] = tuple(V1_FEATURE_DESCRIPTIONS)

V2_FIELD = "features"
V2_LENGTH = 30
V2_SCHEMA = pa.schema([(ENTITY_KEY, pa.string()), (TIMESTAMP_FIELD, TIMESTAMP_TYPE), (V2_FIELD, pa.list_(pa.int64()))])
PUSH_SOURCE = "smss2_push"


@dataclass(frozen=True)
class FeatureSetContract:
    """One feature set as the feature store holds it: its view, source and services."""

    name: str
    view: str
    fields: tuple[str, ...]  # the view's fields in declared order; Feast's own order is unstable
    source: str
    source_path: str  # relative to the feature repository
    online_service: str  # features only: what serving and the feature proxy read
    training_service: str  # labels + features: what training reads

    def feature_refs(self) -> list[str]:
        return [f"{self.view}:{field}" for field in self.fields]


FEATURES1 = FeatureSetContract(
    name="features1",
    view="sms_features1",
    fields=V1_FEATURE_NAMES,
    source="sms_features1_source",
    source_path="data/sms_features1.parquet",
    online_service="sms_features_1",
    training_service="labeled_sms_1",
)
# A directory of part files: the real-time path appends parts instead of rewriting one file.
FEATURES2 = FeatureSetContract(
    name="features2",
    view="sms_features2",
    fields=(V2_FIELD,),
    source="sms_features2_source",
    source_path="data/sms_features2",
    online_service="sms_features_2",
    training_service="labeled_sms_2",
)
FEATURE_SETS: tuple[FeatureSetContract, ...] = (FEATURES1, FEATURES2)
# Label-free services: the only ones the feature proxy may forward.
ONLINE_SERVICES: tuple[str, ...] = tuple(feature_set.online_service for feature_set in FEATURE_SETS)
