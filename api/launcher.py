"""Start and stop the platform's processes: `feast serve` and the FastAPI services.

`scripts/launch.py up|down|status` and the end-to-end test fixtures both use this module, so the
demo and the tests start the services the same way. Each process writes its log to `<run_dir>/NAME.log`
and its pid to `<run_dir>/NAME.pid`; it runs in its own session so `down` can stop its children too.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN_DIR = Path(sys.executable).parent


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    argv: tuple[str, ...]
    health_path: str = "/health"
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# Feast validates types at run time with typeguard on every registry lookup, a push's largest cost
# (about 20 ms of 24 ms, measured); typeguard's checks are off in optimised mode.
FEAST_SERVE_ENV = {"PYTHONOPTIMIZE": "1"}


def feature_server(repo: Path, port: int = 6566, fs_yaml: Path | None = None) -> Service:
    config = ("-f", str(fs_yaml)) if fs_yaml else ()
    argv = (str(BIN_DIR / "feast"), "-c", str(repo), *config, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--registry_ttl_sec", "5")
    return Service("feature_server", port, argv, env=FEAST_SERVE_ENV)


# Measured on 2 cores: with a socket each, two workers serve 16 clients at 1,100-1,300 req/s, against
# about 700 for one; 1-client p99 stays within target (docs/benchmarks.md).
MODEL_SERVING_WORKERS = 2


def uvicorn_service(name: str, app: str, port: int, workers: int = 1) -> Service:
    """Several workers run under api.common.serve, which gives each its own socket (see there)."""
    if workers > 1:
        argv = (sys.executable, "-m", "api.common.serve", app, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--log-level", "warning")
    else:
        argv = (sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                "--no-access-log", "--log-level", "warning")
    return Service(name, port, argv)


def start(service: Service, run_dir: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    run_dir.mkdir(parents=True, exist_ok=True)
    log = (run_dir / f"{service.name}.log").open("ab")
    process = subprocess.Popen(
        service.argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **service.env, **(env or {})},
        start_new_session=True,
    )
    (run_dir / f"{service.name}.pid").write_text(str(process.pid))
    return process


def wait_healthy(service: Service, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll the health route until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {process.returncode}; see its log")
        try:
            if httpx.get(service.url + service.health_path, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{service.name} did not become healthy on port {service.port} within {timeout:.0f} s")


def _reap(pid: int) -> None:
    """Collect our own exited child, so that it stops answering signal 0 as a zombie."""
    # Not our child (started by an earlier `launch.py up`)? Then its own parent reaps it.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout`."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop(name: str, run_dir: Path) -> bool:
    pid_file = run_dir / f"{name}.pid"
    if not pid_file.exists():
        return False
    stop_pid(int(pid_file.read_text()))
    pid_file.unlink()
    return True


def is_running(name: str, run_dir: Path) -> bool:
    pid_file = run_dir / f"{name}.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        return False
    return True
