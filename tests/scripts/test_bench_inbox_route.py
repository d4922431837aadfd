"""`scripts/bench_inbox_route.py` drives the inbox's own app: every request is authorised, validated and
answered 201, and the CPU figure is per request."""

import json
import subprocess
import sys

from contract.paths import PROJECT_ROOT


def test_every_request_goes_through_the_app_and_is_answered_201() -> None:
    argv = [sys.executable, "scripts/bench_inbox_route.py", "--requests", "40", "--warmup", "5"]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[0])
    assert result["statuses"] == {"201": 45} and result["requests"] == 40
    assert 0 < result["cpu_us_median"] <= result["cpu_us_mean"] * 10


def test_a_negative_count_is_refused() -> None:
    argv = [sys.executable, "scripts/bench_inbox_route.py", "--requests", "-1"]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "must be >= 0" in done.stderr
