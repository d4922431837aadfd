"""PartLedger on its own: appends from concurrent threads share parts and transactions (group commit)."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from feast_ext.parts import AppendResult, LedgerSettings, PartLedger

APPENDS = 64


def rows(ids: list[str]) -> pa.Table:
    return pa.table({"sms_id": ids, "event_timestamp": pa.array([0] * len(ids), pa.timestamp("us", tz="UTC"))})


def append(ledger: PartLedger, directory: Path, ids: list[str]) -> AppendResult:
    return ledger.append(directory, "v2", rows(ids), key_columns=["sms_id"], timestamp_column="event_timestamp")


def test_concurrent_appends_share_parts_and_write_each_row_once(tmp_path: Path) -> None:
    ledger = PartLedger(LedgerSettings(path=tmp_path / "ledger.db", compaction_fanout=1000))
    directory = tmp_path / "source"
    batches = [[f"id{index}", f"id{index + 1}"] for index in range(APPENDS)]  # each id but the ends twice
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda batch: append(ledger, directory, batch), batches))
    written = ds.dataset([str(part) for part in ledger.live_parts(directory) or []], format="parquet").to_table()
    assert sorted(written.column("sms_id").to_pylist()) == sorted({i for batch in batches for i in batch})
    assert sum(result.rows_written for result in results) == APPENDS + 1
    parts = {result.part for result in results if result.part}
    assert len(parts) < APPENDS // 2, f"{len(parts)} parts for {APPENDS} concurrent appends: no group commit"
