"""docker-compose.yml cannot run here (no Docker engine), so its wiring is checked against the code:
every service's command, port and health check must be ops.topology's (the platform `make up` runs,
on the Cassandra profile and all interfaces), and its environment variables what the settings read."""

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from pydantic_settings import BaseSettings

from contract.paths import PROJECT_ROOT
from ops.topology import APPS as TOPOLOGY_APPS
from ops.topology import platform_services
from tests.readme import marked_blocks

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = {
    "model-serving": ("api.model_serving.main", "api.model_serving.settings:ModelServingSettings", 8000),
    "user-data": ("api.user_data.main", "api.user_data.settings:UserDataSettings", 8111),
    "inbox": ("api.inbox.main", "api.inbox.settings:InboxSettings", 8222),
    "feature-proxy": ("api.feature_proxy.main", "api.feature_proxy.settings:FeatureProxySettings", 8999),
    "web": ("api.web.main", "api.web.settings:WebSettings", 8080),
}
TOPOLOGY = platform_services(repo=Path("feature_repo"), fs_yaml=Path("feature_repo/feature_store.cassandra.yaml"))
CASSANDRA_YAML = (PROJECT_ROOT / "feature_repo/feature_store.cassandra.yaml").read_text()
CASSANDRA_YAML_VARS = set(re.findall(r"\$\{(\w+)\}", CASSANDRA_YAML))
# The image's own environment (every process of it has these): the Dockerfile's ENV lines.
IMAGE_ENV = dict(re.findall(r"(\w+)=(\S+)", " ".join(
    line.removeprefix("ENV ") for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines()
    if line.startswith("ENV "))))


def _settings_class(path: str) -> type[BaseSettings]:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _env_names(settings: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in settings.model_fields}


def _defines_app(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"{module} does not exist"
    tree = ast.parse(Path(spec.origin).read_text())
    return any(
        isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "app" for t in node.targets)
        for node in tree.body
    )


def _compose_name(name: str) -> str:
    return name.replace("_", "-")


def test_compose_runs_every_topology_service() -> None:
    assert {_compose_name(name) for name in TOPOLOGY} <= set(SERVICES)
    assert {name for name in SERVICES if name in APPS} == {_compose_name(name) for name in TOPOLOGY_APPS}


@pytest.mark.parametrize("name", sorted(TOPOLOGY))
def test_compose_command_port_and_health_check_are_the_topology_s(name: str) -> None:
    service, compose = TOPOLOGY[name], SERVICES[_compose_name(name)]
    assert compose["command"] == service.command(host="0.0.0.0")
    published = compose.get("ports", []) + compose.get("expose", [])
    assert any(entry.split(":")[-1] == str(service.port) for entry in published)
    assert f"urlopen('{service.health_url}'" in compose["healthcheck"]["test"][-1]
    environment = {**IMAGE_ENV, **{key: str(value) for key, value in compose["environment"].items()}}
    assert environment.items() >= service.env.items()


@pytest.mark.parametrize("name", sorted(TOPOLOGY_APPS))
def test_topology_app_exists(name: str) -> None:
    assert _defines_app(TOPOLOGY_APPS[name].split(":")[0])


@pytest.mark.parametrize("service", sorted(APPS))
def test_compose_app_environment_is_read_by_its_settings(service: str) -> None:
    _, settings_path, _ = APPS[service]
    settings = _settings_class(settings_path)
    environment = set(SERVICES[service]["environment"])
    assert environment <= _env_names(settings), f"unknown variables: {environment - _env_names(settings)}"
    required = {name.upper() for name, field in settings.model_fields.items() if field.is_required()}
    assert required <= environment, f"{service} misses required settings {required - environment}"


def test_compose_feature_server_has_what_the_cassandra_profile_reads() -> None:
    assert set(SERVICES["feature-server"]["environment"]) >= CASSANDRA_YAML_VARS


def test_compose_init_bootstraps_cassandra_and_feast_in_order() -> None:
    script = SERVICES["init"]["command"][-1]
    steps = ["scripts/init_cassandra.py", "apply", "materialize 2009", "materialize-incremental", "run_notebook.py"]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
    for line in script.splitlines():
        if line.startswith("python scripts/"):
            assert (PROJECT_ROOT / line.split()[1]).exists(), line
    assert set(SERVICES["init"]["environment"]) >= CASSANDRA_YAML_VARS
    assert SERVICES["init"]["depends_on"]["cassandra"]["condition"] == "service_healthy"


def test_compose_cassandra_has_a_healthcheck_and_the_local_dc() -> None:
    cassandra = SERVICES["cassandra"]
    assert cassandra["image"].startswith("cassandra:5")
    assert "healthcheck" in cassandra
    assert cassandra["environment"]["CASSANDRA_DC"] == SERVICES["model-serving"]["environment"]["CASSANDRA_LOCAL_DC"]


def test_compose_inbox_reaches_its_upstreams_by_service_name() -> None:
    environment = SERVICES["inbox"]["environment"]
    assert environment["USER_DATA_URL"] == "http://user-data:8111"
    assert environment["MODEL_SERVING_URL"] == "http://model-serving:8000"
    assert environment["FEATURE_SERVER_URL"] == "http://feature-server:6566"


def _documented_variables() -> set[str]:
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    return {line.lstrip("# ").split("=")[0] for line in lines if re.match(r"^#? ?[A-Z][A-Z0-9_]+=", line)}


def test_env_example_documents_every_setting() -> None:
    settings = [_settings_class(path) for _, path, _ in APPS.values()]
    settings.append(_settings_class("training.settings:TrainingSettings"))
    names = set().union(*(_env_names(cls) for cls in settings[:-1]))
    names |= {f"SPAMOPS_{name.upper()}" for name in settings[-1].model_fields}
    assert names <= _documented_variables(), f"undocumented: {sorted(names - _documented_variables())}"


# Services no host port may reach: feast serve has no auth (labels, writes), Cassandra holds every table.
INTERNAL_ONLY = ("feature-server", "cassandra")
WEB_ORIGINS = {"http://127.0.0.1:8080", "http://localhost:8080"}


@pytest.mark.parametrize("service", INTERNAL_ONLY)
def test_compose_keeps_internal_services_off_the_host(service: str) -> None:
    assert "ports" not in SERVICES[service], f"{service} must not publish a host port"
    assert SERVICES[service].get("expose"), f"{service} should expose its port to the compose network"


def test_compose_cors_accepts_every_url_the_readme_opens() -> None:
    (block,) = marked_blocks("compose")
    opened = set(re.findall(r"open (http://[\w.]+:\d+)", block)) | set(re.findall(r"or (http://[\w.]+:\d+)", block))
    assert opened == WEB_ORIGINS
    browser_called = [name for name in APPS if "CORS_ORIGINS" in SERVICES[name]["environment"]]
    assert set(browser_called) == {"model-serving", "user-data", "feature-proxy"}
    for name in browser_called:
        assert set(SERVICES[name]["environment"]["CORS_ORIGINS"].split(",")) >= opened, name


def test_readme_compose_block_stops_make_up_and_keeps_env() -> None:
    (block,) = marked_blocks("compose")
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands.index("make down") < commands.index("docker compose up -d")
    assert not re.search(r"(?<!>)>\s*\.env\b", block), "the README must never overwrite .env"
    assert "make env" in commands


def test_make_env_target_writes_env_through_the_never_overwriting_script() -> None:
    # The README's `make env` relies on ops.env_file, whose never-overwrite rule tests/ops/test_env_file.py checks.
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^env:.*\n\t\$\(PY\) -m ops\.env_file \.env \.env\.example$", makefile, re.MULTILINE)


@pytest.mark.parametrize("name", sorted(name for name, service in TOPOLOGY.items() if "--workers" in service.program))
def test_supervised_apps_may_renice_their_replacement_workers(name: str) -> None:
    """api.common.serve returns a replacement worker to its priority only with CAP_SYS_NICE."""
    assert "SYS_NICE" in SERVICES[_compose_name(name)].get("cap_add", [])
