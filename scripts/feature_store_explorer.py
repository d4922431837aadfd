"""List the feature services, feature views and features of the repository, with types and descriptions."""

import argparse
import sys
from pathlib import Path

from feast import FeatureStore

from contract.paths import FEATURE_REPO_DIR
from training.data import open_store


def render(store: FeatureStore) -> str:
    lines = ["Feature services:"]
    for service in sorted(store.list_feature_services(), key=lambda s: s.name):
        views = ", ".join(projection.name for projection in service.feature_view_projections)
        lines.append(f"  {service.name}: {views} -- {service.description}")
    lines.append("Feature views:")
    for view in sorted(store.list_feature_views(), key=lambda v: v.name):
        lines.append(f"  {view.name} (entities: {', '.join(view.entities)}) -- {view.description}")
        lines += [f"    {field.name}: {field.dtype} -- {field.description}" for field in view.features]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR)
    parser.add_argument("-f", "--feature-store-yaml", type=Path, default=None)
    args = parser.parse_args(argv)
    print(render(open_store(args.repo, args.feature_store_yaml)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
