"""AppendOnlyFileOfflineStore through the SDK: exactly once per row, across batches, processes, compaction, crashes."""

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore
from feast.data_source import PushMode

from contract.paths import PROJECT_ROOT
from feast_ext.offline import ledger
from tests.feast_ext.checks import live_id_counts, live_parts, stray_parts
from tests.feast_ext.conftest import RAW, v2_directory
from tests.feast_ext.offline_writer import EVENT_TIME, v2_rows
from training.offline_sources import write_parquet

WRITER_TIMEOUT_SECONDS = 120


def push(store: FeatureStore, ids: list[str]) -> None:
    store.push("smss2_push", v2_rows(ids), to=PushMode.OFFLINE)


def start_writer(repo: Path, ids: list[str], batch: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.feast_ext.offline_writer", str(repo), "--ids", ",".join(ids),
            "--batch", str(batch)]
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)


def finish(writer: subprocess.Popen[str]) -> list[str]:
    out, _ = writer.communicate(timeout=WRITER_TIMEOUT_SECONDS)
    assert writer.returncode == 0
    return [sms_id for line in out.splitlines() for sms_id in line.split(",")]


def pushed_counts(repo: Path) -> dict[str, int]:
    """Rows per pushed id (the three bulk-loaded ids left out)."""
    return {key: count for key, count in live_id_counts(repo).items() if key not in set(RAW["sms_id"])}


def test_push_twice_same_batch_writes_each_row_once(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    push(store, ["a", "b"])
    push(store, ["a", "b"])
    assert pushed_counts(repo) == {"a": 1, "b": 1}


def test_push_retried_in_other_batches_writes_each_row_once(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    for batch in (["a", "b"], ["b", "c"], ["c", "a", "d"], ["d", "d"]):
        push(store, batch)
    assert pushed_counts(repo) == {"a": 1, "b": 1, "c": 1, "d": 1}


def test_push_after_new_event_time_writes_a_new_row(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    push(store, ["a"])
    store.push("smss2_push", v2_rows(["a"]).assign(event_timestamp=datetime(2022, 1, 1, tzinfo=UTC)),
               to=PushMode.OFFLINE)
    assert pushed_counts(repo) == {"a": 2}


def test_push_same_rows_from_two_processes_at_once_writes_each_once(repo: Path) -> None:
    ids = [f"p{index}" for index in range(120)]
    writers = [start_writer(repo, ids, batch=7), start_writer(repo, list(reversed(ids)), batch=3)]
    for writer in writers:
        assert sorted(finish(writer)) == sorted(ids)
    assert pushed_counts(repo) == dict.fromkeys(ids, 1)


def test_push_same_rows_from_threads_at_once_writes_each_once(repo: Path) -> None:
    """Threads of one process (feast serve's pool) group-commit (tests/feast_ext/test_parts.py)."""
    store = FeatureStore(repo_path=str(repo))
    ids = [f"t{index}" for index in range(96)]
    batches = [ids[start : start + 3] for start in range(0, len(ids), 3)] * 2  # every row pushed twice
    random.Random(0).shuffle(batches)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda batch: push(store, batch), batches))
    assert pushed_counts(repo) == dict.fromkeys(ids, 1)


def test_push_after_compaction_writes_nothing_again(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    ids = [f"c{index}" for index in range(40)]
    for start in range(0, len(ids), 4):
        push(store, ids[start : start + 4])
    ledger(store.config).compact(v2_directory(repo))
    files_after_compaction = len(live_parts(repo))
    push(store, ids)
    assert pushed_counts(repo) == dict.fromkeys(ids, 1)
    assert files_after_compaction <= 4  # 10 pushes + the bulk part, fanout 2: one part per size tier


def test_push_to_file_source_is_refused(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    frame = pd.DataFrame({"sms_id": ["x"], "event_timestamp": [EVENT_TIME], "label": [1]})
    with pytest.raises(ValueError, match="directory of part files"):
        store.write_to_offline_store("sms_labels", frame)


def test_writer_killed_mid_write_loses_no_acknowledged_row_and_doubles_none(repo: Path) -> None:
    ids = [f"k{index}" for index in range(3000)]
    acknowledged: list[str] = []
    rng = random.Random(7)
    for _ in range(3):
        writer = start_writer(repo, ids, batch=5)
        assert writer.stdout is not None
        first = writer.stdout.readline()  # it is writing now
        time.sleep(rng.uniform(0.2, 1.5))
        os.killpg(writer.pid, signal.SIGKILL)
        out, _ = writer.communicate(timeout=WRITER_TIMEOUT_SECONDS)
        acknowledged += [sms_id for line in (first + out).splitlines() for sms_id in line.split(",") if sms_id]
        counts = live_id_counts(repo)
        assert all(counts[sms_id] == 1 for sms_id in acknowledged)
        assert max(counts.values()) == 1
    retry = start_writer(repo, ids, batch=50)  # the client retries everything; the ledger drops what it has
    finish(retry)
    assert pushed_counts(repo) == dict.fromkeys(ids, 1)
    assert stray_parts(repo) == []  # the retrying writer removed what the killed ones left


def test_compaction_while_writers_and_readers_run_loses_and_doubles_nothing(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    groups = [[f"w{writer}-{index}" for index in range(150)] for writer in range(3)]
    writers = [start_writer(repo, ids, batch=2) for ids in groups]
    # Ids with rows only: Feast's Dask join cannot sort a null timestamp over several parts (a Feast limit).
    entity_df = pd.DataFrame({"sms_id": RAW["sms_id"], "event_timestamp": [datetime.now(UTC)] * len(RAW)})
    reads = 0
    while any(writer.poll() is None for writer in writers):
        frame = store.get_historical_features(entity_df=entity_df, features=["sms_features2:features"]).to_df()
        assert frame["features"].notna().all()
        reads += 1
    for writer in writers:
        finish(writer)
    ledger(store.config).compact(v2_directory(repo))
    assert reads > 0
    assert pushed_counts(repo) == dict.fromkeys([sms_id for ids in groups for sms_id in ids], 1)
    assert len(live_parts(repo)) <= 12  # 451 rows at fanout 2: at most one part per size tier


def test_part_written_by_another_tool_is_adopted_not_deleted(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    push(store, ["before"])
    write_parquet(v2_rows(["foreign"]), v2_directory(repo) / "part-foreign.parquet")  # as the old inbox appender
    for index in range(4):
        push(store, [f"after{index}"])
    ledger(store.config).compact(v2_directory(repo))
    assert pushed_counts(repo) == {"before": 1, "foreign": 1, **{f"after{index}": 1 for index in range(4)}}
