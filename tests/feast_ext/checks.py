"""What the feast_ext tests assert about the offline source: the rows in the ledger's live parts."""

from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds

from contract.feature_store import ENTITY_KEY, FEATURES2
from feast_ext.part_files import OUR_PART_NAME
from feast_ext.parts import LedgerSettings, PartLedger, ledger_for


def repo_ledger(repo: Path) -> PartLedger:
    return ledger_for(LedgerSettings(path=repo / "data" / "offline_ledger.db"))


def live_parts(repo: Path) -> list[Path]:
    parts = repo_ledger(repo).live_parts(repo / FEATURES2.source_path)
    assert parts is not None, "the ledger does not manage the v2 directory"
    return parts


def live_id_counts(repo: Path) -> Counter[str]:
    """Rows per sms_id in the live parts: what materialization and `pull_all_from_table_or_query` read.
    Read as they read, as a registered reader, so a compaction running meanwhile keeps the parts listed."""
    with repo_ledger(repo).reading():
        table = ds.dataset([str(p) for p in live_parts(repo)], format="parquet").to_table(columns=[ENTITY_KEY])
    return Counter(table.column(ENTITY_KEY).to_pylist())


def stray_parts(repo: Path) -> list[str]:
    """Our part files that are neither live nor retired (a crash's leftovers, removed by the next writer)."""
    directory = repo / FEATURES2.source_path
    conn = repo_ledger(repo).connection()
    known = {name for (name,) in conn.execute("SELECT name FROM parts UNION SELECT name FROM retired")}
    return [p.name for p in directory.iterdir() if OUR_PART_NAME.fullmatch(p.name) and p.name not in known]
