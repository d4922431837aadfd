"""Write the offline sources Feast reads: v1 features and labels (2019) and v2 token ids (2020).

v2 needs the tokenizer (scripts/fit_tokenizer.py). Re-running rewrites the files from the raw CSV; for v2
that means a fresh directory and a fresh offline ledger, since rows pushed with an older tokenizer (and
the ledger's record of them) would no longer match.
"""

import argparse
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from contract.feature_store import FEATURES2
from contract.paths import FEATURE_REPO_DIR, MODELS_DIR, RAW_DATA_PATH
from feast_ext.offline import AppendOnlyFileOfflineStoreConfig
from training.feature_sets import TOKEN_IDS
from training.offline_sources import v2_frame, v2_initial_part, write_parquet, write_v1_and_labels
from training.raw_data import read_raw_csv
from training.tokenizer import SmsTokenizer

LEDGER_PATH = AppendOnlyFileOfflineStoreConfig.model_fields["ledger_path"].default


def fresh_v2_source(repo: Path) -> Path:
    """Remove the v2 part directory and the offline ledger (with its WAL files); returns the initial part."""
    shutil.rmtree(repo / FEATURES2.source_path, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        (repo / f"{LEDGER_PATH}{suffix}").unlink(missing_ok=True)
    return v2_initial_part(repo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=RAW_DATA_PATH)
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR, help="feature repository directory")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the v2 tokenizer lives")
    parser.add_argument("--skip-v2", action="store_true", help="only v1 and labels (no tokenizer needed)")
    args = parser.parse_args(argv)
    raw = read_raw_csv(args.data)
    steps = [("v1 features and labels", lambda: write_v1_and_labels(raw, args.repo))]
    if not args.skip_v2:
        tokenizer = SmsTokenizer.load(TOKEN_IDS.state_dir(args.models_dir))
        steps.append(("v2 features", lambda: write_parquet(v2_frame(raw, tokenizer), fresh_v2_source(args.repo))))
    for name, step in tqdm(steps, desc="offline sources", unit="file"):
        step()
        tqdm.write(f"wrote {name} for {len(raw)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
