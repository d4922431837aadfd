"""Merge the v2 offline part files (written by the inbox and the backfill) into one part.

Feast reads every part file on each historical retrieval and materialization, and the inbox writes one
per flush, so run this now and then, when no training or materialization is running:

    python scripts/compact_offline_parts.py                     # parts older than 60 s
    python scripts/compact_offline_parts.py --min-age-seconds 3600

Reads FEATURE_REPO_PATH from the environment (or .env). Safe while the inbox runs: parts younger than
--min-age-seconds are left alone, and the merged part is written before any original is removed.
"""

import argparse
import json
import sys

from api.common.offline_append import compact_parts, v2_source_dir
from tqdm import tqdm

from api.common.settings import FeatureRepoSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-age-seconds", type=float, default=60.0, help="leave younger parts alone")
    args = parser.parse_args(argv)
    directory = v2_source_dir(FeatureRepoSettings().feature_repo_path)
    with tqdm(desc="parts read", unit="part") as bar:
        result = compact_parts(directory, min_age_seconds=args.min_age_seconds, progress=lambda _: bar.update())
    merged_into = str(result.merged_into) if result.merged_into else None
    print(json.dumps({"parts_merged": result.parts_merged, "rows": result.rows, "merged_into": merged_into}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
