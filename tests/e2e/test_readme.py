"""The README's walkthroughs (the 2019 serving calls, then architecture II), run as written against the
platform `make up` runs.

The blocks marked `<!-- readme-test -->` run in order in one bash process (`set -euo pipefail`, so
shell variables such as `SMS_ID` carry from block to block, and a failing command fails its block).
The platform runs on free ports, so each `localhost:<port>` in a block, one of ops.topology's default
ports, is pointed at the port the test's service got; the README's `source .env` is replaced by the
platform's own settings in the environment. Nothing else in a block is changed.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.paths import PROJECT_ROOT
from ops.topology import PORTS
from tests.e2e.platform import API_KEY, Platform, sqlite_platform
from tests.fixtures.platform import BuiltPlatform
from tests.readme import marked_blocks

pytestmark = pytest.mark.slow
DONE = "readme-test block done:"
RUN_TIMEOUT_SECONDS = 300
_LOCAL_URL = re.compile(r"\blocalhost:(\d+)\b")


@pytest.fixture(scope="module")
def platform(built_platform: BuiltPlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with sqlite_platform(built_platform, tmp_path_factory.mktemp("e2e_readme")) as running:
        yield running


def on_platform(block: str, platform: Platform) -> str:
    ports = {str(default): platform.services[name].port for name, default in PORTS.items() if name in platform.services}

    def local(match: re.Match[str]) -> str:
        assert match[1] in ports, f"the README calls localhost:{match[1]}, which the platform does not run"
        return f"127.0.0.1:{ports[match[1]]}"

    return _LOCAL_URL.sub(local, block)


def walkthrough_script(blocks: list[str], platform: Platform) -> str:
    steps = [f"{on_platform(block, platform)}\necho '{DONE} {index}'\n" for index, block in enumerate(blocks)]
    return "set -euo pipefail\n" + "".join(steps)


def walkthrough_env(platform: Platform, models_dir: Path) -> dict[str, str]:
    """What `source .venv/bin/activate` and `source .env` give the README's shell, for this platform."""
    serving = platform.services["model_serving"].env
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SPAMOPS_API_KEY": API_KEY,
        "STORAGE_BACKEND": "sqlite",
        "SQLITE_PATH": serving["SQLITE_PATH"],
        "FEATURE_REPO_PATH": str(platform.repo),
        "MODELS_DIR": str(models_dir),
    }


def test_readme_walkthrough_runs_as_written(platform: Platform, models_dir: Path) -> None:
    if shutil.which("jq") is None:
        pytest.fail("jq not found: the README's walkthrough uses it (apt-get install jq)")
    blocks = marked_blocks("readme-test")
    assert len(blocks) >= 4, "the walkthrough's blocks lost their <!-- readme-test --> markers"

    result = subprocess.run(["bash", "-c", walkthrough_script(blocks, platform)], capture_output=True, text=True,
                            env=walkthrough_env(platform, models_dir), cwd=PROJECT_ROOT, timeout=RUN_TIMEOUT_SECONDS)

    done = result.stdout.count(DONE)
    failed = "" if done == len(blocks) else f"block {done} failed:\n{blocks[done]}"
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0 and done == len(blocks), f"{failed}\n{output}"
