"""List the feature services, feature views and features of the repository, with types and descriptions,
and how fresh each view's online rows are (its newest event time and, where the store records it, write time)."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from feast import FeatureStore

from contract.paths import FEATURE_REPO_DIR
from feast_ext.freshness import view_freshness
from training.data import open_store


def render(store: FeatureStore, now: datetime) -> str:
    lines = ["Feature services:"]
    for service in sorted(store.list_feature_services(), key=lambda s: s.name):
        views = ", ".join(projection.name for projection in service.feature_view_projections)
        lines.append(f"  {service.name}: {views} -- {service.description}")
    lines.append("Feature views:")
    views = sorted(store.list_feature_views(), key=lambda v: v.name)
    freshness = view_freshness(store, [view.name for view in views])
    for view, fresh in zip(views, freshness, strict=True):
        lines.append(f"  {view.name} (entities: {', '.join(view.entities)}) -- {view.description}")
        lines.append(f"    online: {fresh.describe(now)}")
        lines += [f"    {field.name}: {field.dtype} -- {field.description}" for field in view.features]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR)
    parser.add_argument("-f", "--feature-store-yaml", type=Path, default=None)
    args = parser.parse_args(argv)
    print(render(open_store(args.repo, args.feature_store_yaml), datetime.now(UTC)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
