"""Keep every service of a topology running: restart any that exits, stop them all on SIGTERM.

    python -m ops.supervisor RUN_DIR      # runs the services listed in RUN_DIR/topology.json

`scripts/launch.py up` starts this as a detached process (its own session) and `down` sends it SIGTERM.
Each service runs as its own process group. When a service's leader exits, for whatever reason
(a crash, SIGKILL of the leader or of the whole group), the rest of its group is killed, the
supervisor waits until nothing listens on the service's port, and starts it again: at once the first
time and after one quick death, then with exponential backoff while it keeps dying within
STABLE_SECONDS of its start. A
service marked `warm_spare` (feast serve: importing Feast alone outlasts a 5 s restart) always has a
pre-imported spare (ops.warm) waiting, which a restart promotes; a new spare is then started. The
supervisor is a child subreaper, so a service's orphaned processes become its children and are reaped
here rather than lingering as zombies that still answer signal 0.
"""

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ops import processes, topology
from ops.topology import Service

logger = logging.getLogger("ops.supervisor")
TOPOLOGY_FILE = "topology.json"
PID_FILE = "supervisor.pid"
POLL_SECONDS = 0.1
STABLE_SECONDS = 10.0  # a service that ran this long before dying is restarted without delay
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STOP_TIMEOUT = 15.0  # seconds a service gets to shut down gracefully before SIGKILL
PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Supervised:
    service: Service
    process: subprocess.Popen[bytes] | None = None
    spare: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0  # consecutive exits within STABLE_SECONDS of a start
    start_after: float = 0.0  # monotonic time before which no restart is attempted
    waiting_for_port: bool = False


def backoff(quick_deaths: int) -> float:
    """0, 0, then 0.5 s doubling up to BACKOFF_MAX: one quick death after another is a crash loop."""
    return 0.0 if quick_deaths <= 1 else min(BACKOFF_FIRST * 2 ** (quick_deaths - 2), BACKOFF_MAX)


class Supervisor:
    def __init__(self, services: list[Service], run_dir: Path) -> None:
        self.run_dir = run_dir
        self.entries = [Supervised(service) for service in services]
        self.stopping = threading.Event()

    def run(self) -> int:
        become_subreaper()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        logger.info("supervising %s", ", ".join(entry.service.name for entry in self.entries))
        while not self.stopping.wait(POLL_SECONDS):
            self.reap_children()
            for entry in self.entries:
                self.start_if_due(entry)
        self.stop_all()
        return 0

    def reap_children(self) -> None:
        """Collect every exited child (services and adopted orphans); a leader's exit schedules a restart."""
        leaders = {entry.process.pid: entry for entry in self.entries if entry.process is not None}
        spares = {entry.spare.pid: entry for entry in self.entries if entry.spare is not None}
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in leaders:
                self.on_exit(leaders[pid], os.waitstatus_to_exitcode(status))
            elif pid in spares:
                logger.warning("%s: the spare (pid %s) exited; starting another", spares[pid].service.name, pid)
                spares[pid].spare = None

    def on_exit(self, entry: Supervised, code: int) -> None:
        assert entry.process is not None
        entry.process.returncode = code  # reaped here, not by Popen
        processes.signal_group(entry.process.pid, signal.SIGKILL)  # what the leader left behind
        if self.stopping.is_set():
            logger.info("%s (pid %s) stopped with %s", entry.service.name, entry.process.pid, code)
            entry.process = None
            return
        lived = time.monotonic() - entry.started_at
        entry.quick_deaths = entry.quick_deaths + 1 if lived < STABLE_SECONDS else 0
        delay = backoff(entry.quick_deaths)
        logger.warning("%s (pid %s) exited with %s after %.1f s; restarting in %.1f s",
                       entry.service.name, entry.process.pid, code, lived, delay)
        entry.process, entry.start_after = None, time.monotonic() + delay

    def start_if_due(self, entry: Supervised) -> None:
        if entry.service.warm_spare and entry.spare is None and not self.stopping.is_set():
            entry.spare = processes.start_spare(entry.service, self.run_dir)
        if entry.process is not None or time.monotonic() < entry.start_after:
            return
        if not processes.port_free(entry.service.port):
            if not entry.waiting_for_port:
                logger.warning("%s: port %s is still held; waiting", entry.service.name, entry.service.port)
            entry.waiting_for_port = True
            return
        entry.waiting_for_port = False
        entry.started_at = time.monotonic()
        if entry.spare is not None:
            spare, entry.spare = entry.spare, None
            try:
                processes.promote(spare, entry.service, self.run_dir)
            except BrokenPipeError:  # it died since the last reap; start cold instead
                logger.warning("%s: the spare (pid %s) is gone", entry.service.name, spare.pid)
            else:
                entry.process = spare
                logger.info("%s: promoted its warm spare (pid %s)", entry.service.name, spare.pid)
                return
        entry.process = processes.start(entry.service, self.run_dir)
        logger.info("%s started (pid %s)", entry.service.name, entry.process.pid)

    def stop_all(self) -> None:
        """SIGTERM every group at once, SIGKILL what is left after STOP_TIMEOUT, wait until all are gone."""
        groups = [child.pid for entry in self.entries for child in (entry.process, entry.spare) if child is not None]
        for pgid in groups:
            processes.signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(map(processes.group_alive, groups)) and time.monotonic() < deadline:
            self.reap_children()
            time.sleep(POLL_SECONDS)
        for pgid in groups:
            processes.stop_group(pgid, timeout=0.0)
        for entry in self.entries:
            (self.run_dir / f"{entry.service.name}.pid").unlink(missing_ok=True)
            (self.run_dir / f"{entry.service.name}.spare.pid").unlink(missing_ok=True)
            processes.warm_file(entry.service, self.run_dir).unlink(missing_ok=True)
        logger.info("stopped")


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        logger.warning("cannot become a child subreaper: %s", os.strerror(ctypes.get_errno()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help=f"holds {TOPOLOGY_FILE}; gets the logs and pid files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    (args.run_dir / PID_FILE).write_text(str(os.getpid()))
    try:
        return Supervisor(topology.load(args.run_dir / TOPOLOGY_FILE), args.run_dir).run()
    finally:
        (args.run_dir / PID_FILE).unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
