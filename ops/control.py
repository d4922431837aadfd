"""`up`, `down` and `status` for a topology run by one detached supervisor (ops.supervisor).

`up` writes the topology to RUN_DIR/topology.json, starts the supervisor in its own session and waits
until every service answers its health route; `down` sends the supervisor SIGTERM, waits for it, stops
any group it left (a supervisor killed outright leaves its services running) and reports a port that
is still held. `scripts/launch.py` is the command line over these.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

from contract.paths import PROJECT_ROOT
from ops import processes, topology
from ops.supervisor import PID_FILE, TOPOLOGY_FILE
from ops.topology import Service

UP_TIMEOUT = 180.0  # model loading and feast start-up on a busy 2-core machine
DOWN_TIMEOUT = 60.0  # the supervisor's own stop timeout, plus margin
LOG_TAIL_CHARS = 3000


def process_alive(pid: int) -> bool:
    """Running, and not a zombie (an exited process nobody reaped yet still answers signal 0)."""
    processes.reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def supervisor_pid(run_dir: Path) -> int | None:
    pid = processes.read_pid(run_dir / PID_FILE)
    return pid if pid is not None and process_alive(pid) else None


def up(services: list[Service], run_dir: Path, timeout: float = UP_TIMEOUT) -> None:
    if supervisor_pid(run_dir) is not None:
        print(f"already running (supervisor pid {supervisor_pid(run_dir)})")
        return
    busy = [f"{s.name} :{s.port}" for s in services if not processes.port_free(s.port)]
    if busy:
        raise SystemExit(f"ports already in use: {', '.join(busy)}; stop whatever holds them first")
    run_dir.mkdir(parents=True, exist_ok=True)
    topology.dump(services, run_dir / TOPOLOGY_FILE)
    supervisor = _start_supervisor(run_dir)
    for service in services:
        _wait_healthy(service, supervisor, run_dir, timeout)
        print(f"{service.name}: up on {service.url} (log: {run_dir / service.name}.log)")


def _start_supervisor(run_dir: Path) -> subprocess.Popen[bytes]:
    with (run_dir / "supervisor.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "ops.supervisor", str(run_dir)], stdout=log,
                                stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, start_new_session=True)


def _wait_healthy(service: Service, supervisor: subprocess.Popen[bytes], run_dir: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not processes.is_healthy(service):
        if supervisor.poll() is not None or time.monotonic() > deadline:
            log = (run_dir / f"{service.name}.log").read_text(errors="replace")[-LOG_TAIL_CHARS:]
            raise SystemExit(f"{service.name} did not become healthy on {service.url}\n--- its log ---\n{log}")
        time.sleep(0.2)


def down(run_dir: Path) -> list[str]:
    """Stop everything; returns what still holds a port (empty when all is clean)."""
    pid = supervisor_pid(run_dir)
    if pid is not None:
        processes.signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + DOWN_TIMEOUT
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        processes.stop_group(pid, timeout=0.0)
    services = _recorded(run_dir)
    for pid_file in (run_dir / f"{s.name}{kind}.pid" for s in services for kind in ("", ".spare")):
        pgid = processes.read_pid(pid_file)
        if pgid is not None:  # left by a supervisor that did not stop them itself
            processes.stop_group(pgid)
            pid_file.unlink(missing_ok=True)
    return [f"{s.name} :{s.port}" for s in services if not processes.port_free(s.port)]


def _recorded(run_dir: Path) -> list[Service]:
    path = run_dir / TOPOLOGY_FILE
    return topology.load(path) if path.exists() else []


def _spare(service: Service, run_dir: Path) -> str:
    spare = processes.read_pid(run_dir / f"{service.name}.spare.pid")
    if spare is None:
        return ""
    warm = processes.read_pid(processes.warm_file(service, run_dir)) == spare
    return f", spare pid {spare} {'warm' if warm else 'importing'}"


def status(run_dir: Path) -> dict[str, str]:
    """One line per service: its pid and whether it answers its health route."""
    lines = {"supervisor": f"running (pid {pid})" if (pid := supervisor_pid(run_dir)) else "stopped"}
    for service in _recorded(run_dir):
        pgid = processes.read_pid(run_dir / f"{service.name}.pid")
        state = "healthy" if processes.is_healthy(service) else "not answering"
        pid = f" (pid {pgid})" if pgid else ""
        lines[service.name] = f"{state} on {service.url}{pid}{_spare(service, run_dir)}"
    return lines
