"""What the feast_ext tests assert about the offline source: rows as every reader sees them."""

import contextlib
import time
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds

from feast_ext.parts import PART_PREFIX, PART_SUFFIX, LedgerSettings, ledger_for
from training.offline_sources import V2_SOURCE_PATH
from training.versions import ENTITY_KEY

SETTLE_SECONDS = 10.0


def part_files(repo: Path) -> list[Path]:
    directory = repo / V2_SOURCE_PATH
    return sorted(p for p in directory.iterdir() if p.name.startswith(PART_PREFIX) and p.name.endswith(PART_SUFFIX))


def offline_id_counts(repo: Path) -> Counter[str]:
    """Rows per sms_id over every part file on disk (what Dask's directory listing reads)."""
    table = ds.dataset([str(p) for p in part_files(repo)], format="parquet").to_table(columns=[ENTITY_KEY])
    return Counter(table.column(ENTITY_KEY).to_pylist())


def settled_id_counts(repo: Path) -> Counter[str]:
    """Counts once the files on disk are the ledger's live parts (no merge half-way through its clean-up)."""
    ledger = ledger_for(LedgerSettings(path=repo / "data" / "offline_ledger.db"))
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        live = ledger.live_parts(repo / V2_SOURCE_PATH)
        if live is not None and sorted(live) == part_files(repo):
            with contextlib.suppress(FileNotFoundError):  # a merge removed a part meanwhile: look again
                return offline_id_counts(repo)
        time.sleep(0.1)
    raise AssertionError("the part files on disk never matched the ledger's live parts")


def settled_part_files(repo: Path) -> list[Path]:
    settled_id_counts(repo)
    return part_files(repo)
