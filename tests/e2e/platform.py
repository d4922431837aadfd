"""Real processes for end-to-end tests: ops.topology's services (what `make up` runs) on free ports,
configured by env vars only.

`running_platform` takes a copy of the built Feast repository (so pushes and part files stay in tmp),
then starts `feast serve`, model serving (v1, v2, v3), user-data, the feature proxy and the inbox, with
the topology's commands and worker counts, and waits until each is healthy.
"""

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ops import processes
from ops.topology import PORTS, Service, platform_services
from tests.fixtures.processes import free_port

API_KEY = "e2e-api-key"
ENTITY_ROWS_PATH = "/get-online-features"


@dataclass
class Platform:
    repo: Path
    run_dir: Path
    services: dict[str, Service] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    envs: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.services[name].url

    def start(self, name: str, service: Service, env: Mapping[str, str]) -> None:
        self.services[name], self.envs[name] = service, dict(env)
        self.processes[name] = processes.start(service, self.run_dir, env)

    def wait(self, name: str, timeout: float = 90.0) -> None:
        try:
            processes.wait_healthy(self.services[name], timeout=timeout, process=self.processes[name])
        except (RuntimeError, TimeoutError) as exc:
            log = (self.run_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{exc}\n--- {name}.log (tail) ---\n{log}") from exc

    def stop(self, name: str) -> None:
        # Waiting on the Popen reaps the leader at once, so a zombie never looks alive.
        process = self.processes[name]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                continue

    def restart(self, name: str) -> None:
        self.processes[name] = processes.start(self.services[name], self.run_dir, self.envs[name])
        self.wait(name)

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            if self.processes[name].poll() is None:
                self.stop(name)

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


def copy_built_repo(source: Path, target: Path) -> Path:
    """The whole built repository, data included, minus part files other tests may have added."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".part-*"))
    return target


@contextmanager
def running_platform(repo: Path, run_dir: Path, *, models_dir: Path, base_env: Mapping[str, str],
                     fs_yaml: Path | None = None) -> Iterator[Platform]:
    platform = Platform(repo=repo, run_dir=run_dir)
    try:
        _start_all(platform, models_dir=models_dir, base_env=base_env, fs_yaml=fs_yaml)
        yield platform
    finally:
        platform.stop_all()


def _start_all(platform: Platform, *, models_dir: Path, base_env: Mapping[str, str], fs_yaml: Path | None) -> None:
    common = {"LOG_LEVEL": "WARNING", "SPAMOPS_API_KEY": API_KEY, **base_env}
    services = platform_services({name: free_port() for name in PORTS}, repo=platform.repo, fs_yaml=fs_yaml)
    feast_url = services["feature_server"].url
    platform.start("feature_server", services["feature_server"], common)
    serving_env = {**common, "SPAM_MODEL_VERSIONS": "v1,v2,v3", "MODELS_DIR": str(models_dir),
                   "FEATURE_REPO_PATH": str(platform.repo)}
    if fs_yaml is not None:
        serving_env["FEAST_FS_YAML_FILE"] = str(fs_yaml)
    platform.start("model_serving", services["model_serving"], serving_env)
    platform.start("user_data", services["user_data"], common)
    platform.start("feature_proxy", services["feature_proxy"], {**common, "FEATURE_SERVER_URL": feast_url})
    for name in list(platform.services):
        platform.wait(name)
    inbox_env = {
        **common,
        "USER_DATA_URL": platform.url("user_data"),
        "MODEL_SERVING_URL": platform.url("model_serving"),
        "FEATURE_SERVER_URL": feast_url,
        "FEATURE_REPO_PATH": str(platform.repo),
        "OFFLINE_FLUSH_SECONDS": "0.2",
        "RETRY_INITIAL_SECONDS": "0.1",
        "RETRY_MAX_SECONDS": "1.0",
    }
    platform.start("inbox", services["inbox"], inbox_env)
    platform.wait("inbox")
