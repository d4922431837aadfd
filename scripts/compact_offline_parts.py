"""Compact the offline store's part directories now (a thin CLI over feast_ext's compaction).

The offline store (feast_ext.offline.AppendOnlyFileOfflineStore) already compacts in the background
after each write; run this after a bulk backfill, or to see the tiers:

    python scripts/compact_offline_parts.py

Reads FEATURE_REPO_PATH and FEAST_FS_YAML_FILE from the environment (or .env). Safe while writers and
readers run: merged parts are written before the originals leave the ledger, under its lock.
"""

import argparse
import json
import sys

from feast import FeatureStore
from tqdm import tqdm

from api.common.settings import FeatureRepoSettings
from feast_ext.offline import compact_directory_sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    settings = FeatureRepoSettings()
    fs_yaml = settings.feature_repo_path / settings.feast_fs_yaml_file if settings.feast_fs_yaml_file else None
    store = FeatureStore(repo_path=str(settings.feature_repo_path), fs_yaml_file=fs_yaml)
    with tqdm(desc="directories compacted", unit="dir") as bar:
        results = compact_directory_sources(store, progress=lambda: bar.update())
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
