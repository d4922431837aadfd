"""The platform's services, defined once: name, port, command, health route, environment, workers.

`scripts/launch.py` runs `platform_services()` under the supervisor, the end-to-end and browser tests
start the same definitions on free ports, and tests/test_docker_compose.py checks docker-compose.yml
against it. A command names its program portably ("python", "feast"); `Service.argv()` resolves it to
this virtual environment's, while docker-compose runs the same words inside the image.
"""

import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

BIN_DIR = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
FEATURE_REPO = Path("feature_repo")  # relative to the project root, where services run

PORTS = {
    "feature_server": 6566,
    "model_serving": 8000,
    "user_data": 8111,
    "inbox": 8222,
    "feature_proxy": 8999,
    "web": 8080,
}
# Measured on 2 cores: with a socket each, two workers serve 16 clients at 1,100-1,300 req/s, against
# about 700 for one; 1-client p99 stays within target (docs/benchmarks.md).
WORKERS = {"model_serving": 2, "inbox": 2}
# The inbox's workers share one batcher, so concurrent messages share one batch as in one worker (api.inbox.peers).
INBOX_ENV = {"INGEST_SHARE_BATCHES": "true"}
APPS = {
    "model_serving": "api.model_serving.main:app",
    "user_data": "api.user_data.main:app",
    "inbox": "api.inbox.main:app",
    "feature_proxy": "api.feature_proxy.main:app",
    "web": "api.web.main:app",
}
# What `feast serve` imports before it listens, beyond the CLI: the provider and stores the embedded profile
# names (ours, feast_ext/), and Feast's modules they extend.
FEAST_SERVE_PRELOAD = ("feast.cli.serve", "feast.feature_server", "feast_ext.provider", "feast_ext.online",
                       "feast_ext.registry")
# Every platform process runs optimised. Feast decorates its classes with typeguard's @typechecked, which
# re-compiles them at import (about 4 s of CPU per `import feast`, most of a worker's start-up) and checks
# types on every call (20 of a push's 24 ms, measured); typeguard is a no-op in optimised mode. Our own
# asserts only narrow types. `make setup` compiles the optimised bytecode, so imports do not compile.
OPTIMISED_ENV = {"PYTHONOPTIMIZE": "1"}


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    program: tuple[str, ...]  # the command without --host/--port
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    host: str = LOOPBACK
    # Modules a pre-imported spare (ops.warm) loads ahead of a restart; empty: no spare. program[0] is then
    # a console script.
    preload: tuple[str, ...] = ()

    @property
    def warm_spare(self) -> bool:
        return bool(self.preload)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def health_url(self) -> str:
        return self.url + self.health_path

    def command(self, host: str | None = None) -> list[str]:
        return [*self.program, "--host", host or self.host, "--port", str(self.port)]

    def argv(self) -> list[str]:
        program, *rest = self.command()
        resolved = {"python": sys.executable, "feast": str(BIN_DIR / "feast")}.get(program, program)
        return [resolved, *rest]

    def spare_argv(self, warm_file: Path) -> list[str]:
        return [sys.executable, "-m", "ops.warm", str(warm_file), ",".join(self.preload), *self.command()]

    def with_env(self, extra: Mapping[str, str]) -> "Service":
        return replace(self, env={**self.env, **extra})


def feature_server(name: str = "feature_server", port: int = PORTS["feature_server"], *,
                   repo: Path = FEATURE_REPO, fs_yaml: Path | None = None) -> Service:
    config = ("-f", str(fs_yaml)) if fs_yaml else ()
    # gunicorn recycles Feast's worker every 1,000 requests by default: a multi-second stall each time.
    program = ("feast", "-c", str(repo), *config, "serve", "--no-access-log", "--registry_ttl_sec", "5",
               "--max-requests", "0")
    # Importing Feast takes longer than a restart may (ops.warm).
    return Service(name, port, program, env=OPTIMISED_ENV, preload=FEAST_SERVE_PRELOAD)


def uvicorn_service(name: str, app: str, port: int, workers: int = 1) -> Service:
    """Every app runs under api.common.serve: several workers get a socket each (see there), and it applies
    FORWARDED_ALLOW_IPS, which plain `uvicorn` would default to trusting loopback."""
    program = ("python", "-m", "api.common.serve", app, "--workers", str(workers), "--log-level", "warning")
    return Service(name, port, program, env=OPTIMISED_ENV)


def platform_services(ports: Mapping[str, int] | None = None, *, repo: Path = FEATURE_REPO,
                      fs_yaml: Path | None = None) -> dict[str, Service]:
    """What `make up` runs, in start order; `ports` overrides the defaults (tests use free ports)."""
    port = {**PORTS, **(ports or {})}
    apps = {name: uvicorn_service(name, app, port[name], WORKERS.get(name, 1)) for name, app in APPS.items()}
    apps["inbox"] = apps["inbox"].with_env(INBOX_ENV)
    return {"feature_server": feature_server(port=port["feature_server"], repo=repo, fs_yaml=fs_yaml), **apps}


def dump(services: list[Service], path: Path) -> None:
    path.write_text(json.dumps([asdict(service) for service in services], indent=2))


def load(path: Path) -> list[Service]:
    items = json.loads(path.read_text())
    return [Service(**{**item, "program": tuple(item["program"]), "preload": tuple(item["preload"])}) for item in items]
