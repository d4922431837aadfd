"""Schemathesis, with every check, against the OpenAPI of each of our services, running for real.

Each service runs as `make up` runs it (tests/e2e/platform.py: the supervisor, the topology's
commands and workers, the built feature repository and models). Schemathesis reads the service's
`/openapi.json`, generates valid and invalid requests from it and checks every answer against it:
no 5xx, only documented statuses, bodies and headers as the schema says, valid data accepted and
invalid data rejected. The run is bounded in time per service; a failure prints Schemathesis' report,
with a curl line that reproduces each case.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.paths import PROJECT_ROOT
from tests.e2e.platform import API_KEY, Platform, sqlite_platform
from tests.fixtures.platform import BuiltPlatform

pytestmark = pytest.mark.slow

SERVICES = ("model_serving", "user_data", "inbox", "feature_proxy", "web")
CONFIG = Path(__file__).with_name("schemathesis.toml")
SECONDS_PER_SERVICE = 40


@pytest.fixture(scope="module")
def platform(built_platform: BuiltPlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with sqlite_platform(built_platform, tmp_path_factory.mktemp("openapi_contracts")) as running:
        yield running


def schemathesis_argv(url: str, report_dir: Path) -> list[str]:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    return [str(schemathesis), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
            "--checks", "all", "--header", f"X-API-Key: {API_KEY}", "--max-time", str(SECONDS_PER_SERVICE),
            "--request-timeout", "10", "--seed", "20261201", "--no-color", "--report", "junit",
            "--report-dir", str(report_dir)]


@pytest.mark.parametrize("service", SERVICES)
def test_service_meets_its_openapi(platform: Platform, service: str, tmp_path: Path) -> None:
    result = subprocess.run(schemathesis_argv(platform.url(service), tmp_path), capture_output=True, text=True,
                            timeout=SECONDS_PER_SERVICE * 4 + 120, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
