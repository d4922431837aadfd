"""Run the platform on this machine: `up` starts every service under one supervisor, `down` stops them.

    python scripts/launch.py up        # feast serve :6566, model serving :8000, user data :8111,
                                       # inbox :8222, feature proxy :8999, web client :8080
    python scripts/launch.py status
    python scripts/launch.py down
The services are ops.topology's; the supervisor (ops.supervisor) restarts any that dies.
Logs and pid files go to .run/.
"""

import argparse
import sys

from api.common.settings import FeatureRepoSettings
from contract.paths import RUN_DIR
from ops import control
from ops.topology import platform_services


def up() -> int:
    repo = FeatureRepoSettings()  # FEAST_FS_YAML_FILE=feature_store.cassandra.yaml serves the Cassandra store
    services = platform_services(repo=repo.feature_repo_path, fs_yaml=repo.feast_yaml_path)
    control.up(list(services.values()), RUN_DIR)
    return 0


def down() -> int:
    held = control.down(RUN_DIR)
    for line in held:
        print(f"still held: {line}")
    print("stopped" if not held else "stopped, but ports are still held")
    return 1 if held else 0


def status() -> int:
    for name, line in control.status(RUN_DIR).items():
        print(f"{name}: {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args(argv)
    return {"up": up, "down": down, "status": status}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
