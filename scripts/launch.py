"""Run the platform on this machine: `up` starts every service in the background, `down` stops them.

    python scripts/launch.py up        # feast serve :6566, model serving :8000, user data :8111,
                                       # inbox :8222, feature proxy :8999, web client :8080
    python scripts/launch.py status
    python scripts/launch.py down
Logs and pid files go to .run/.
"""

import argparse
import sys

from api.common.settings import FeatureRepoSettings
from api.launcher import (
    MODEL_SERVING_WORKERS,
    Service,
    feature_server,
    is_running,
    start,
    stop,
    uvicorn_service,
    wait_healthy,
)
from training.versions import PROJECT_ROOT

RUN_DIR = PROJECT_ROOT / ".run"


def platform_services() -> list[Service]:
    repo = FeatureRepoSettings()  # FEAST_FS_YAML_FILE=feature_store.cassandra.yaml serves the Cassandra store
    return [
        feature_server(repo.feature_repo_path, fs_yaml=repo.feast_yaml_path),
        uvicorn_service("model_serving", "api.model_serving.main:app", 8000, workers=MODEL_SERVING_WORKERS),
        uvicorn_service("user_data", "api.user_data.main:app", 8111),
        uvicorn_service("inbox", "api.inbox.main:app", 8222),
        uvicorn_service("feature_proxy", "api.feature_proxy.main:app", 8999),
        uvicorn_service("web", "api.web.main:app", 8080),
    ]


def up() -> int:
    for service in platform_services():
        if is_running(service.name, RUN_DIR):
            print(f"{service.name}: already running on {service.url}")
            continue
        process = start(service, RUN_DIR)
        wait_healthy(service, process=process)
        print(f"{service.name}: up on {service.url} (log: {RUN_DIR / service.name}.log)")
    return 0


def down() -> int:
    for service in reversed(platform_services()):
        print(f"{service.name}: {'stopped' if stop(service.name, RUN_DIR) else 'not running'}")
    return 0


def status() -> int:
    for service in platform_services():
        print(f"{service.name}: {'running' if is_running(service.name, RUN_DIR) else 'stopped'} ({service.url})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args(argv)
    return {"up": up, "down": down, "status": status}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
