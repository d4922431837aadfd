"""The fork server that batch scoring's worker processes are forked from (multiprocessing "forkserver").

It is a clean, single-threaded process that imports the scoring code once (batch.workers: numpy,
pandas, scikit-learn and the model code, ~3 s of CPU), so N workers cost one import instead of N as
with "spawn". `start_worker_server()` starts it early: called before the caller's own heavy imports, the
two imports run side by side on two cores. This module imports nothing heavy, for that reason.
"""

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver

PRELOAD = ["batch.workers"]


def worker_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_worker_server() -> None:
    worker_context()
    multiprocessing.forkserver.ensure_running()
