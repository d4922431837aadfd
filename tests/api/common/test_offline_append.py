"""The offline appender: new atomic part files with V2_SCHEMA, never a rewrite, no lost rows."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from api.common.offline_append import FeatureRow, OfflineAppender, compact_parts, write_part
from training.offline_sources import V2_SCHEMA

AT = datetime(2020, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _row(i: int) -> FeatureRow:
    return FeatureRow(sms_id=f"sms-{i}", event_timestamp=AT + timedelta(seconds=i), features=[i] * 30)


def test_write_part_uses_exact_v2_schema(tmp_path: Path) -> None:
    path = write_part(tmp_path, [_row(1), _row(2)])
    assert path.name.startswith("part-") and path.suffix == ".parquet"
    table = pq.read_table(path)
    assert table.schema.equals(V2_SCHEMA)
    assert table.column("event_timestamp").to_pylist()[0] == AT + timedelta(seconds=1)  # microseconds kept, UTC
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_write_part_never_reuses_a_name(tmp_path: Path) -> None:
    names = {write_part(tmp_path, [_row(i)]).name for i in range(20)}
    assert len(names) == 20


def test_append_then_flush_writes_one_part(tmp_path: Path) -> None:
    appender = OfflineAppender(tmp_path)
    appender.append([_row(1), _row(2)])
    assert appender.pending == 2
    assert appender.flush() == 2
    assert appender.flush() == 0
    assert len(list(tmp_path.glob("part-*.parquet"))) == 1


def test_close_flushes_what_is_left(tmp_path: Path) -> None:
    appender = OfflineAppender(tmp_path, flush_interval=60).start()
    appender.append([_row(1)])
    appender.close()
    assert list(pd.read_parquet(tmp_path)["sms_id"]) == ["sms-1"]


def test_background_flush_after_interval(tmp_path: Path) -> None:
    appender = OfflineAppender(tmp_path, flush_interval=0.05).start()
    appender.append([_row(1)])
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while appender.rows_written < 1:
        assert datetime.now(UTC) < deadline
    appender.close()


def test_failed_write_keeps_rows_for_next_flush(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")
    appender = OfflineAppender(blocker)
    appender.append([_row(1), _row(2)])
    with pytest.raises(OSError):
        appender.flush()
    assert appender.pending == 2
    blocker.unlink()
    assert appender.flush() == 2


def test_concurrent_appends_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    appender = OfflineAppender(tmp_path, flush_interval=0.01, max_rows=7).start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: appender.append([_row(i)]), range(500)))
    appender.close()
    ids = pd.read_parquet(tmp_path)["sms_id"]
    assert len(ids) == 500 and ids.nunique() == 500


def test_two_appenders_on_one_directory_both_land(tmp_path: Path) -> None:
    first, second = OfflineAppender(tmp_path), OfflineAppender(tmp_path)
    first.append([_row(1)])
    second.append([_row(2)])
    second.flush()
    first.flush()
    assert sorted(pd.read_parquet(tmp_path)["sms_id"]) == ["sms-1", "sms-2"]


def test_leftover_temp_file_is_ignored_by_readers(tmp_path: Path) -> None:
    write_part(tmp_path, [_row(1)])
    (tmp_path / ".part-crashed.parquet.tmp").write_bytes(b"half a parquet file")
    assert list(pd.read_parquet(tmp_path)["sms_id"]) == ["sms-1"]
    assert list(dd.read_parquet(str(tmp_path)).compute()["sms_id"]) == ["sms-1"]  # what Feast's file store uses


def test_compact_parts_merges_old_parts_into_one(tmp_path: Path) -> None:
    for i in range(5):
        write_part(tmp_path, [_row(2 * i), _row(2 * i + 1)])
    seen: list[Path] = []
    result = compact_parts(tmp_path, min_age_seconds=0, progress=seen.append)
    assert (result.parts_merged, result.rows, len(seen)) == (5, 10, 5)
    assert [p.name for p in tmp_path.iterdir()] == [result.merged_into.name]
    table = pq.read_table(result.merged_into)
    assert table.schema.equals(V2_SCHEMA)
    assert sorted(table.column("sms_id").to_pylist()) == sorted(f"sms-{i}" for i in range(10))
    assert compact_parts(tmp_path, min_age_seconds=0).parts_merged == 0  # one part: nothing to do


def test_compact_parts_leaves_young_parts_alone(tmp_path: Path) -> None:
    old = [write_part(tmp_path, [_row(i)]) for i in range(3)]
    for path in old:
        os.utime(path, (time.time() - 120, time.time() - 120))
    young = write_part(tmp_path, [_row(9)])
    result = compact_parts(tmp_path, min_age_seconds=60)
    assert result.parts_merged == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([young.name, result.merged_into.name])
    assert sorted(pd.read_parquet(tmp_path)["sms_id"]) == ["sms-0", "sms-1", "sms-2", "sms-9"]
