"""Run the write path's services on a port set of their own, so two builds can be measured side by side.

    python scripts/bench_platform.py up --built feature_repo --models models --run-dir /tmp/new --port-base 9100
    /work/main/.venv/bin/python scripts/bench_platform.py up ... --run-dir /tmp/old --port-base 9200
    python scripts/bench_platform.py down --run-dir /tmp/new

`up` copies the built Feast repository's data (sources, registry, online store) under the run directory
with the definitions and config of the build running this script (the tree its Python imports `ops`
from), then starts `feast serve`, model serving (v2, v3), user-data and the inbox under ops.supervisor,
with the topology's commands and workers, on `port-base` + 0..3, and user-data's SQLite in the run
directory. It uses only ops.control and ops.topology, so the build before this script can run it too.
The API key comes from $SPAMOPS_API_KEY.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from benchlib import PROJECT_ROOT

from ops import control
from ops.topology import FEATURE_REPO, Service, platform_services

REPO_DIR = PROJECT_ROOT / FEATURE_REPO
SERVICES = ("feature_server", "model_serving", "user_data", "inbox")


def copy_repo(built: Path, target: Path) -> Path:
    """This build's definitions and config, with the built repository's data."""
    shutil.copytree(REPO_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "data"))
    # A fresh ledger adopts the parts it finds.
    leftovers = shutil.ignore_patterns(".write-*", ".compact-*", "offline_ledger.db*")
    shutil.copytree(built / "data", target / "data", ignore=leftovers)
    return target


def configured(repo: Path, models: Path, run_dir: Path, port_base: int, api_key: str) -> list[Service]:
    ports = {name: port_base + offset for offset, name in enumerate(SERVICES)}
    services = platform_services(ports, repo=repo)
    common = {"LOG_LEVEL": "WARNING", "SPAMOPS_API_KEY": api_key, "SPAMOPS_ENV_FILE": "",
              "SQLITE_PATH": str(run_dir / "spamops.db")}
    envs = {
        "feature_server": common,
        "model_serving": {**common, "SPAM_MODEL_VERSIONS": "v2,v3", "MODELS_DIR": str(models),
                          "FEATURE_REPO_PATH": str(repo)},
        "user_data": common,
        "inbox": {**common, "USER_DATA_URL": services["user_data"].url,
                  "FEATURE_SERVER_URL": services["feature_server"].url,
                  "MODEL_SERVING_URL": services["model_serving"].url},
    }
    return [services[name].with_env(envs[name]) for name in SERVICES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--built", type=Path, default=REPO_DIR, help="a built, materialized repository")
    parser.add_argument("--models", type=Path, default=Path("models"), help="the model artifacts")
    parser.add_argument("--port-base", type=int, default=9100, help="feast serve's port; the others follow")
    args = parser.parse_args(argv)
    run_dir = args.run_dir.resolve()
    if args.command == "down":
        held = control.down(run_dir)
        print("stopped" if not held else f"still held: {', '.join(held)}")
        return 1 if held else 0
    api_key = os.environ.get("SPAMOPS_API_KEY")
    if not api_key:
        parser.error("SPAMOPS_API_KEY must be set")
    if run_dir.exists():
        parser.error(f"{run_dir} exists; use a fresh run directory")
    repo = copy_repo(args.built.resolve(), run_dir / "feature_repo")
    control.up(configured(repo, args.models.resolve(), run_dir, args.port_base, api_key), run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
