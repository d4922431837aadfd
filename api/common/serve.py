"""Run an ASGI app in N uvicorn worker processes, each on its own SO_REUSEPORT socket.

    python -m api.common.serve api.model_serving.main:app --host 127.0.0.1 --port 8000 --workers 2

`uvicorn --workers N` shares one listening socket, and the worker that wakes first accepts every
connection queued at that moment: sixteen keep-alive clients that connect together all land on one
worker, and the other idles (measured: 1,524 against 31 CPU ticks). With a socket per worker the
kernel spreads new connections over the workers by a hash of their addresses.

A worker binds its socket at once (so a busy port fails fast) but listens only once its app is
ready: uvicorn runs the lifespan start-up first and then calls listen() on the socket it was given.
A SO_REUSEPORT socket takes its share of new connections from the moment it listens, so a replacement
that listened before loading its models would hold connections for seconds without answering them.

Metrics: the supervisor points PROMETHEUS_MULTIPROC_DIR at a fresh temporary directory before the
workers start (removed at exit), and marks a dead worker's files dead, so `/metrics` sums all workers
and survives restarts (api.common.metrics).

`X-Forwarded-For` counts only from the proxies in FORWARDED_ALLOW_IPS (uvicorn's own proxy-header
handling); by default none is trusted, not even loopback. With `--workers 1` the one worker runs in
this process, without a supervisor, so every service starts the same way.

A replacement for a worker that died starts at the lowest CPU priority (nice 19) and returns to the
supervisor's priority just before it listens: while it imports and loads, it would otherwise take
half of a 2-core machine from the workers still serving, whose requests then waited up to 0.5 s.
Lowering a nice value again needs CAP_SYS_NICE or an RLIMIT_NICE that allows it (docker-compose.yml
adds SYS_NICE); without either the replacement starts at the usual priority and logs why.

The supervisor restarts a worker that dies after start-up, stops everything if one fails to start,
and passes SIGTERM/SIGINT on so that each worker shuts down gracefully (lifespan included); a worker
whose supervisor is killed outright stops too.
"""

import argparse
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from multiprocessing.process import BaseProcess
from pathlib import Path

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.config import STARTUP_FAILURE  # a worker's exit code when its app cannot start

from api.common.heap import freeze_start_up_heap
from api.common.http import SERVER_KEEPALIVE_SECONDS
from api.common.http_protocol import ResetSafeHttpToolsProtocol
from api.common.metrics import MULTIPROC_ENV
from api.common.settings import ServerSettings, split_csv

WORKERS_ENV = "SPAMOPS_WORKERS"

logger = logging.getLogger(__name__)
STOP_TIMEOUT = 30.0  # seconds a worker gets to drain before it is killed
BACKLOG = 2048
START_NICENESS = 19  # the most: a replacement takes only what the serving workers leave
CAP_SYS_NICE = 23  # linux/capability.h


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", help="import string, e.g. api.model_serving.main:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--forwarded-allow-ips", default=None,
                        help="proxies trusted for X-Forwarded-For, comma-separated (default: FORWARDED_ALLOW_IPS)")
    args = parser.parse_args(argv)
    if args.forwarded_allow_ips is None:
        args.forwarded_allow_ips = ServerSettings().forwarded_allow_ips
    else:
        args.forwarded_allow_ips = split_csv(args.forwarded_allow_ips)
    return args


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """A plain bind fails if anything listens there, including an older group of SO_REUSEPORT
    workers, which the workers' own binds would otherwise silently join."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine
        probe.bind((host, port))


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """Bound, not listening: the kernel hands connections only to listening sockets of the group."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def exit_with_parent() -> None:
    """SIGTERM this worker when the supervisor dies, even by SIGKILL: an orphaned worker would keep its
    share of the port and answer connections no supervisor looks after any more."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def prepare_metrics_dir() -> Path:
    """A fresh directory for this supervisor's workers' metric files (removed when it stops).

    Never one the environment names: an inherited PROMETHEUS_MULTIPROC_DIR belongs to another process
    (Feast sets one in every process that imports it), and emptying it would erase that process's counts.
    """
    return Path(tempfile.mkdtemp(prefix="spamops-metrics-"))


def may_lower_niceness() -> bool:
    """Whether this process may return to its nice value after raising it."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)
    if soft == resource.RLIM_INFINITY or soft >= 20 - os.getpriority(os.PRIO_PROCESS, 0):
        return True
    status = Path("/proc/self/status").read_text().splitlines()
    effective = int(next(line.split()[1] for line in status if line.startswith("CapEff:")), 16)
    return bool(effective >> CAP_SYS_NICE & 1)


def niced_replacement_priority() -> int | None:
    """The priority a replacement worker returns to once ready, or None if it must start at that priority."""
    if not may_lower_niceness():
        logger.warning("a replacement worker starts at the usual priority: returning to it needs CAP_SYS_NICE")
        return None
    return os.getpriority(os.PRIO_PROCESS, 0)


def restore_priority(usual: int) -> None:
    """Every thread back to `usual`: Linux keeps a nice value per thread."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), usual)
        except ProcessLookupError:  # the thread ended meanwhile
            continue


class ReadyHookServer(uvicorn.Server):
    """A uvicorn server that calls `on_ready` once the app's start-up is done, just before it listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        app_startup = self.lifespan.startup

        async def started() -> None:
            await app_startup()
            if not self.lifespan.should_exit:
                self.on_ready()

        self.lifespan.startup = started  # type: ignore[method-assign]
        await super().startup(sockets)


def run_worker(app: str, host: str, port: int, log_level: str, forwarded_allow_ips: list[str],
               restore_to: int | None = None) -> None:
    """The body of one worker process; one started niced returns to `restore_to` just before it listens."""
    exit_with_parent()
    try:
        sock = reuse_port_socket(host, port)
    except OSError as exc:
        logger.error("cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from None
    # Server.startup awaits the lifespan start-up, then create_server(sock=...) listens with this backlog.
    # Without trusted proxies the headers are not looked at; uvicorn would otherwise trust loopback.
    config = uvicorn.Config(app, http=ResetSafeHttpToolsProtocol, log_level=log_level, access_log=False,
                            backlog=BACKLOG, timeout_keep_alive=SERVER_KEEPALIVE_SECONDS,
                            proxy_headers=bool(forwarded_allow_ips), forwarded_allow_ips=forwarded_allow_ips)
    server = ReadyHookServer(config, partial(worker_ready, restore_to))
    server.run(sockets=[sock])


def worker_ready(restore_to: int | None) -> None:
    """Start-up is done: freeze what it built, and a replacement started niced returns to `restore_to`."""
    freeze_start_up_heap()
    if restore_to is not None:
        restore_priority(restore_to)


class Supervisor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[BaseProcess] = []
        self.stopping = threading.Event()
        self.metrics_dir = prepare_metrics_dir()
        os.environ[MULTIPROC_ENV] = str(self.metrics_dir)  # spawned workers inherit it
        os.environ[WORKERS_ENV] = str(args.workers)  # how many share a rate limit (api.model_serving.rate_limit)

    def spawn(self, replacement: bool = False) -> BaseProcess:
        a = self.args
        restore_to = niced_replacement_priority() if replacement else None
        process = self.context.Process(target=run_worker, daemon=False,
                                       args=(a.app, a.host, a.port, a.log_level, a.forwarded_allow_ips, restore_to))
        if restore_to is None:
            process.start()
            return process
        # Niced from its first instruction: the child inherits this thread's nice value, and its interpreter
        # start and first imports (about a second) come before any code of ours runs in it.
        os.setpriority(os.PRIO_PROCESS, 0, min(restore_to + START_NICENESS, 19))
        try:
            process.start()
        finally:
            os.setpriority(os.PRIO_PROCESS, 0, restore_to)
        return process

    def run(self) -> int:
        try:
            check_port_free(self.args.host, self.args.port)
        except OSError as exc:
            logger.error("cannot listen on %s:%s: %s", self.args.host, self.args.port, exc)
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.workers = [self.spawn() for _ in range(self.args.workers)]
        failed = False
        while not self.stopping.wait(0.5):
            failed = self.replace_dead()
            if failed:
                break
        self.stop()
        return 1 if failed else 0

    def replace_dead(self) -> bool:
        """Restart workers that died; True if one failed to start, which a restart cannot fix."""
        for i, process in enumerate(self.workers):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                logger.error("worker %s failed to start; stopping", process.pid)
                return True
            logger.warning("worker %s exited with %s; restarting it", process.pid, process.exitcode)
            mark_process_dead(process.pid, str(self.metrics_dir))
            self.workers[i] = self.spawn(replacement=True)
        return False

    def stop(self) -> None:
        for process in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests and runs the lifespan shutdown
        for process in self.workers:
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.workers == 1:
        run_worker(args.app, args.host, args.port, args.log_level, args.forwarded_allow_ips)
        return 0
    return Supervisor(args).run()


if __name__ == "__main__":
    raise SystemExit(main())
