"""Real processes for end-to-end tests: ops.topology's services (what `make up` runs) on free ports,
run by the same supervisor as `make up`, configured by env vars only.

`running_platform` takes a copy of the built Feast repository (so pushes and part files stay in tmp),
then starts `feast serve`, model serving (v1, v2, v3), user-data, the feature proxy and the inbox under
ops.supervisor, with the topology's commands and worker counts, and waits until each is healthy. A
test may SIGKILL any service's process group (`Platform.kill`); the supervisor restarts it, nobody else.
"""

import os
import shutil
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.inbox.peers import GROUP_PREFIX
from ops import control, processes
from ops.topology import PORTS, Service, platform_services
from tests.fixtures.platform import BuiltPlatform
from tests.fixtures.processes import free_port

API_KEY = "e2e-api-key"  # the shared (admin) key: the tests' own calls
# The services' own identities, as `make up` gives them: the inbox and the web backend call upstream
# under these names, so the call log and the rate limits see them.
SERVICE_KEYS = "inbox:e2e-inbox-key:read+write,web:e2e-web-key:read"
AUTH = {"X-API-Key": API_KEY}
ENTITY_ROWS_PATH = "/get-online-features"


@dataclass
class Platform:
    repo: Path
    run_dir: Path
    services: dict[str, Service]

    def url(self, name: str) -> str:
        return self.services[name].url

    def kill(self, name: str) -> None:
        """SIGKILL the service's whole process group, as a crash would; the supervisor restarts it."""
        pgid = processes.read_pid(self.run_dir / f"{name}.pid")
        assert pgid is not None, f"{name} has no pid file"
        os.killpg(pgid, signal.SIGKILL)

    def kill_inbox_leader(self) -> None:
        """SIGKILL only the inbox worker that leads the batches (api.inbox.peers): its followers must take over."""
        os.kill(inbox_leader_pid(processes.read_pid(self.run_dir / "inbox.pid")), signal.SIGKILL)

    def offline_dir(self) -> Path:
        return self.repo / "data" / "sms_features2"

    def online_features(self, sms_ids: list[str]) -> dict[str, list[int] | None]:
        """v2 features per id as `feast serve` returns them (None when not online)."""
        body = {"features": ["sms_features2:features"], "entities": {"sms_id": sms_ids}}
        response = httpx.post(self.url("feature_server") + ENTITY_ROWS_PATH, json=body, timeout=10)
        response.raise_for_status()
        names = response.json()["metadata"]["feature_names"]
        result = response.json()["results"][names.index("features")]
        return {sms_id: (value if status == "PRESENT" else None)
                for sms_id, value, status in zip(sms_ids, result["values"], result["statuses"], strict=True)}


def inbox_leader_pid(pgid: int | None) -> int:
    """The process of group `pgid` listening on an inbox's abstract socket (in /proc/net/unix: '@' + name)."""
    listening = {fields[6] for fields in map(str.split, Path("/proc/net/unix").read_text().splitlines()[1:])
                 if len(fields) > 7 and fields[7].startswith("@" + GROUP_PREFIX) and fields[3] == "00010000"}
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            target, pid = os.readlink(fd), int(fd.parent.parent.name)
            if target.startswith("socket:[") and target[8:-1] in listening and os.getpgid(pid) == pgid:
                return pid
        except OSError:  # a process or descriptor went away while listing
            continue
    raise AssertionError("no inbox worker leads the batches")


def copy_built_repo(source: Path, target: Path) -> Path:
    """The whole built repository, data included, minus part files other tests may have added."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".part-*"))
    return target


@contextmanager
def running_platform(repo: Path, run_dir: Path, *, models_dir: Path, base_env: Mapping[str, str],
                     fs_yaml: Path | None = None) -> Iterator[Platform]:
    services = _configured(repo, models_dir=models_dir, base_env=base_env, fs_yaml=fs_yaml)
    try:
        control.up(list(services.values()), run_dir)
        yield Platform(repo=repo, run_dir=run_dir, services=services)
    finally:
        left = control.down(run_dir)
        assert not left, f"still holding ports after down: {left}"


@contextmanager
def sqlite_platform(built: BuiltPlatform, root: Path) -> Iterator[Platform]:
    """The embedded profile (SQLite app tables and online store) on a copy of the built repository under `root`."""
    repo = copy_built_repo(built.repo, root / "feature_repo")
    env = {"STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(root / "app.db")}
    with running_platform(repo, root / "run", models_dir=built.models_dir, base_env=env) as running:
        yield running


def _configured(repo: Path, *, models_dir: Path, base_env: Mapping[str, str],
                fs_yaml: Path | None) -> dict[str, Service]:
    services = platform_services({name: free_port() for name in PORTS}, repo=repo, fs_yaml=fs_yaml)
    common = {"LOG_LEVEL": "WARNING", "SPAMOPS_API_KEY": API_KEY, "SPAMOPS_API_KEYS": SERVICE_KEYS, **base_env}
    feast_url = services["feature_server"].url
    serving = {**common, "SPAM_MODEL_VERSIONS": "v1,v2,v3", "MODELS_DIR": str(models_dir),
               "FEATURE_REPO_PATH": str(repo)}
    if fs_yaml is not None:
        serving["FEAST_FS_YAML_FILE"] = str(fs_yaml)
    envs = {
        "feature_server": common,
        "model_serving": serving,
        "user_data": common,
        "feature_proxy": {**common, "FEATURE_SERVER_URL": feast_url},
        "inbox": {**common, "USER_DATA_URL": services["user_data"].url, "FEATURE_SERVER_URL": feast_url,
                  "MODEL_SERVING_URL": services["model_serving"].url, "RECOVERY_INTERVAL_SECONDS": "0.5"},
        "web": {**common, "USER_DATA_URL": services["user_data"].url,
                "MODEL_SERVING_URL": services["model_serving"].url, "FEATURE_PROXY_URL": services["feature_proxy"].url},
    }
    return {name: services[name].with_env(env) for name, env in envs.items()}
