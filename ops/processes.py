"""Start, watch and stop one service as its own process group.

Each process runs in its own session, so its pid is its process-group id, and everything it forks
(gunicorn's worker under `feast serve`, api.common.serve's workers) is signalled with it: killing only
a master would leave a worker holding the port. Logs go to `<run_dir>/NAME.log`, the pid to NAME.pid.
"""

import contextlib
import functools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from contract.paths import PROJECT_ROOT
from ops.topology import Service
from ops.warm import GO

POLL_SECONDS = 0.1
HEALTH_TIMEOUT = 1.0  # per probe


def start(service: Service, run_dir: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = _popen(service, service.argv(), run_dir, env)
    (run_dir / f"{service.name}.pid").write_text(str(process.pid))
    return process


def start_spare(service: Service, run_dir: Path) -> subprocess.Popen[bytes]:
    """A warm spare (ops.warm): imports done, it waits on its stdin; `promote` makes it the service."""
    warm_file(service, run_dir).unlink(missing_ok=True)
    process = _popen(service, service.spare_argv(warm_file(service, run_dir)), run_dir, None, stdin=subprocess.PIPE)
    (run_dir / f"{service.name}.spare.pid").write_text(str(process.pid))
    return process


def warm_file(service: Service, run_dir: Path) -> Path:
    """Holds the spare's pid once its imports are done."""
    return run_dir / f"{service.name}.spare.warm"


def promote(spare: subprocess.Popen[bytes], service: Service, run_dir: Path) -> None:
    assert spare.stdin is not None
    spare.stdin.write(GO)
    spare.stdin.close()
    (run_dir / f"{service.name}.spare.pid").unlink(missing_ok=True)
    warm_file(service, run_dir).unlink(missing_ok=True)
    (run_dir / f"{service.name}.pid").write_text(str(spare.pid))


def _popen(service: Service, argv: list[str], run_dir: Path, env: Mapping[str, str] | None,
           stdin: int | None = None) -> subprocess.Popen[bytes]:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / f"{service.name}.log").open("ab") as log:
        return subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **service.env, **(env or {})},
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )


@functools.cache
def _health_client() -> httpx.Client:
    """One per process: building a client (its TLS context) costs ~45 ms of CPU, as much as a starting
    service got in a 0.1 s poll interval. No keep-alive: each probe asks whoever listens now."""
    return httpx.Client(timeout=HEALTH_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=0))


def is_healthy(service: Service) -> bool:
    try:
        return _health_client().get(service.health_url).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(service: Service, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll the health route until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {process.returncode}; see its log")
        if is_healthy(service):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{service.name} did not become healthy on port {service.port} within {timeout:.0f} s")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def reap(pid: int) -> None:
    """Collect our own exited child, so that it stops answering signal 0 as a zombie."""
    with contextlib.suppress(ChildProcessError):  # not our child: its own parent reaps it
        os.waitpid(pid, os.WNOHANG)


def stop_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout`; return once it is empty."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        signal_group(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            reap(pgid)
            if not group_alive(pgid):
                return
            time.sleep(POLL_SECONDS)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens there (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None
