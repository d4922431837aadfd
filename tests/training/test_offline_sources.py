from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contract.feature_store import TIMESTAMP_FIELD, V1_FEATURE_NAMES, V2_FIELD
from training.features import v1_features
from training.offline_sources import labels_frame, v1_frame, v2_frame, write_parquet
from training.tokenizer import SmsTokenizer

RAW = pd.DataFrame(
    {"sms_id": ["sms1", "sms2"], "text": ["WIN a FREE prize now!!", "see you at home"], "label": ["spam", "ham"]}
)


def test_v1_frame_has_named_features_matching_extractor() -> None:
    frame = v1_frame(RAW)
    assert list(frame.columns) == ["sms_id", TIMESTAMP_FIELD, *V1_FEATURE_NAMES]
    assert frame.loc[0, list(V1_FEATURE_NAMES)].tolist() == v1_features(RAW.loc[0, "text"])


def test_labels_frame_encodes_spam_as_one() -> None:
    assert labels_frame(RAW)["label"].tolist() == [1, 0]


def test_write_parquet_uses_utc_microseconds_and_2019_date(tmp_path: Path) -> None:
    write_parquet(v1_frame(RAW), tmp_path / "v1.parquet")
    column = pq.read_table(tmp_path / "v1.parquet").schema.field(TIMESTAMP_FIELD)
    assert column.type == pa.timestamp("us", tz="UTC")
    assert pd.read_parquet(tmp_path / "v1.parquet")[TIMESTAMP_FIELD].dt.year.unique().tolist() == [2019]


def test_v2_frame_writes_int64_lists_dated_2020(tmp_path: Path) -> None:
    tokenizer = SmsTokenizer(vocab_size=50, min_count=1).fit(RAW["text"].tolist())
    write_parquet(v2_frame(RAW, tokenizer), tmp_path / "v2.parquet")
    table = pq.read_table(tmp_path / "v2.parquet")
    assert table.schema.field(V2_FIELD).type == pa.list_(pa.int64())
    assert table.schema.field(TIMESTAMP_FIELD).type == pa.timestamp("us", tz="UTC")
    features = np.array(table.column(V2_FIELD).to_pylist())
    assert features.shape == (2, 30)
    assert pd.read_parquet(tmp_path / "v2.parquet")[TIMESTAMP_FIELD].dt.year.unique().tolist() == [2020]
