"""ops.supervisor through ops.control: real services under a real detached supervisor, killed for real.

The topology is a small one of this test's own, one service of each kind the platform runs: `feast
serve` (gunicorn: a master and a worker), a single-process uvicorn app and a multi-worker one under
api.common.serve. The uvicorn ones serve tests/api/common/pid_app.py, which answers every request.
"""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops import control, processes
from ops.supervisor import BACKOFF_MAX, backoff
from ops.topology import Service, feature_server, uvicorn_service
from tests.fixtures.processes import free_port

PID_APP = "tests.api.common.pid_app:app"
RESTART_DEADLINE = 5.0  # seconds from the kill until the service answers /health again


def small_topology(feast_repo: Path) -> list[Service]:
    return [
        feature_server(port=free_port(), repo=feast_repo),
        uvicorn_service("single", PID_APP, free_port()),
        uvicorn_service("multi", PID_APP, free_port(), workers=2),
    ]


def group_members(pgid: int) -> set[int]:
    """Live processes whose process group is `pgid` (zombies excluded)."""
    members = set()
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.add(int(stat_path.parent.name))
    return members


@pytest.fixture(scope="module")
def supervised(feast_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Service], Path]]:
    run_dir = tmp_path_factory.mktemp("supervised")
    services = small_topology(feast_repo)
    control.up(services, run_dir, timeout=120)
    try:
        yield {service.name: service for service in services}, run_dir
    finally:
        control.down(run_dir)


def _pgid(run_dir: Path, name: str) -> int:
    pgid = processes.read_pid(run_dir / f"{name}.pid")
    assert pgid is not None, f"no pid file for {name}"
    return pgid


def wait_for_warm_spare(service: Service, run_dir: Path) -> None:
    """A spare promoted by the previous kill is replaced by one that must first import Feast."""
    deadline = time.monotonic() + 60
    spare_file, warm_file = run_dir / f"{service.name}.spare.pid", processes.warm_file(service, run_dir)
    while (spare := processes.read_pid(spare_file)) is None or spare != processes.read_pid(warm_file):
        assert time.monotonic() < deadline, f"{service.name} has no warm spare"
        time.sleep(0.1)


def _seconds_until_restarted(service: Service, run_dir: Path, killed: int) -> float:
    """From now until a new process group of `service` answers its health route."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        current = processes.read_pid(run_dir / f"{service.name}.pid")
        if current not in (None, killed) and processes.is_healthy(service):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{service.name} was not restarted within 30 s")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["feature_server", "single", "multi"])
def test_a_service_whose_group_is_killed_answers_again_within_5_s(
    supervised: tuple[dict[str, Service], Path], name: str
) -> None:
    services, run_dir = supervised
    if services[name].warm_spare:
        wait_for_warm_spare(services[name], run_dir)
    pgid = _pgid(run_dir, name)
    assert len(group_members(pgid)) >= (2 if name != "single" else 1)
    os.killpg(pgid, signal.SIGKILL)
    elapsed = _seconds_until_restarted(services[name], run_dir, pgid)
    assert elapsed < RESTART_DEADLINE, f"{name} took {elapsed:.1f} s"
    assert not group_members(pgid)


@pytest.mark.slow
def test_feast_serve_whose_master_alone_is_killed_is_restarted_despite_its_orphan(
    supervised: tuple[dict[str, Service], Path],
) -> None:
    """gunicorn's worker outlives a SIGKILLed master and keeps the port; the restart must not trip on it."""
    services, run_dir = supervised
    wait_for_warm_spare(services["feature_server"], run_dir)
    pgid = _pgid(run_dir, "feature_server")
    assert len(group_members(pgid)) >= 2, "no gunicorn worker to orphan"
    os.kill(pgid, signal.SIGKILL)
    elapsed = _seconds_until_restarted(services["feature_server"], run_dir, pgid)
    assert elapsed < RESTART_DEADLINE, f"feature_server took {elapsed:.1f} s"
    assert not group_members(pgid)


@pytest.mark.slow
def test_down_leaves_no_process_and_no_bound_port(feast_repo: Path, tmp_path: Path) -> None:
    services = small_topology(feast_repo)
    control.up(services, tmp_path, timeout=120)
    groups = [_pgid(tmp_path, service.name) for service in services]
    supervisor = control.supervisor_pid(tmp_path)
    assert supervisor is not None and all(group_members(pgid) for pgid in groups)
    assert control.down(tmp_path) == []
    assert not control.process_alive(supervisor)
    assert not any(group_members(pgid) for pgid in groups)
    assert all(processes.port_free(service.port) for service in services)
    assert control.status(tmp_path)["supervisor"] == "stopped"


def test_backoff_restarts_at_once_then_doubles_up_to_its_cap() -> None:
    assert [backoff(n) for n in range(5)] == [0.0, 0.0, 0.5, 1.0, 2.0]
    assert backoff(100) == BACKOFF_MAX
