"""End to end on the embedded profile (SQLite app tables, SQLite online store), with real processes."""

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from contract.paths import PROJECT_ROOT
from tests.e2e.checks import check_message_end_to_end, eventually, offline_ids, send, stored_messages
from tests.e2e.faults import INBOX_LEADER, check_crash_recovery
from tests.e2e.platform import API_KEY, Platform, sqlite_platform
from tests.fixtures.platform import BuiltPlatform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform(built_platform: BuiltPlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with sqlite_platform(built_platform, tmp_path_factory.mktemp("e2e_sqlite")) as running:
        yield running


def test_message_flows_end_to_end_on_sqlite(platform: Platform) -> None:
    check_message_end_to_end(platform)


def test_concurrent_messages_lose_and_duplicate_nothing(platform: Platform) -> None:
    texts = [f"concurrent message {i}: call me later?" for i in range(200)]
    with httpx.Client(limits=httpx.Limits(max_connections=20)) as client, ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda text: send(platform, text, recipient="crowd", client=client), texts))
    assert {r.status_code for r in responses} <= {201, 202}, [r.text for r in responses if r.status_code >= 300]
    ids = [r.json()["sms_id"] for r in responses]
    assert len(set(ids)) == 200

    stored = [item["sms_id"] for item in stored_messages(platform, "crowd")]
    assert sorted(stored) == sorted(ids)
    eventually(lambda: all(v is not None for v in platform.online_features(ids).values()), timeout=60,
               what="all 200 online")
    eventually(lambda: set(ids) <= set(offline_ids(platform)), timeout=30, what="all 200 offline")
    offline = offline_ids(platform)
    assert offline[offline.isin(ids)].value_counts().max() == 1, "an offline row was written twice"


@pytest.mark.parametrize("victim", ["inbox", INBOX_LEADER, "feature_server"])
def test_sigkill_during_ingest_loses_and_doubles_nothing(platform: Platform, victim: str) -> None:
    check_crash_recovery(platform, victim)


def test_inbox_metrics_report_pushes_and_batches(platform: Platform) -> None:
    text = httpx.get(platform.url("inbox") + "/metrics").text
    assert 'spamops_inbox_messages_total{outcome="pushed"}' in text
    assert "spamops_inbox_batch_size_count" in text
    assert all(f'spamops_inbox_push_size_count{{target="{target}"}}' in text for target in ("online", "offline"))
    assert Path(platform.run_dir / "inbox.log").exists()


@pytest.mark.parametrize(("endpoint", "concurrency"), [("text_to_prediction", 8), ("sms_to_prediction", 2)])
def test_serving_benchmark_has_no_errors(platform: Platform, dev_csv: Path, endpoint: str, concurrency: int) -> None:
    # The benchmark script itself, against the two-worker server `make up` runs (figures are not judged here).
    argv = [sys.executable, "scripts/bench_serving.py", "--url", platform.url("model_serving"), "--data", str(dev_csv),
            "--endpoint", endpoint, "--concurrency", str(concurrency), "--requests", "300", "--warmup", "30"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["statuses"] == {"200": 300} and summary["throughput_rps"] > 0


def test_paired_serving_benchmark_reports_both_sides(platform: Platform, dev_csv: Path) -> None:
    # --against with the same server on both sides: every request answered, on each side, and the ratios given.
    # Keyed, because the anonymous limit per version is shared with the other benchmarks of this module.
    url = platform.url("model_serving")
    argv = [sys.executable, "scripts/bench_serving.py", "--url", url, "--against", url, "--data", str(dev_csv),
            "--versions", "v3", "--requests", "150", "--warmup", "15", "--api-key", API_KEY]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines()[:2])
    assert first["statuses"] == second["statuses"] == {"200": 150}
    assert second["p50_ratio_to_url"] > 0 and second["mean_ratio_to_url"] > 0


def test_realtime_benchmark_sees_every_message_online(platform: Platform) -> None:
    argv = [sys.executable, "scripts/bench_realtime.py", "--inbox-url", platform.url("inbox"),
            "--feature-server-url", platform.url("feature_server"), "--api-key", API_KEY,
            "--requests", "40", "--warmup", "2", "--concurrency", "4", "--deadline", "20"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["never_online"] == 0 and summary["late_201"] == 0 and sum(summary["statuses"].values()) == 40
    assert set(summary["statuses"]) <= {"201", "202"}  # 202: stored, push completed by recovery
