"""A service process started ahead of need: its imports done, waiting for the word to run.

    python -m ops.warm WARM_FILE MODULE,... PROGRAM ARG...     # PROGRAM is a console script, e.g. feast

Importing Feast alone takes 5-7 s on a busy 2-core machine, longer than a restart may take. The
supervisor therefore keeps a warm spare of such a service: this process imports PROGRAM's entry point
and the MODULEs it will need, writes its pid to WARM_FILE (so the supervisor and tests can tell a warm
spare from one still importing), then waits for one line on stdin and runs PROGRAM with the given
arguments in this same process (so its pid and process group are the ones the supervisor already
watches). End of input without that line means the supervisor is gone, and the spare exits.
"""

import importlib
import os
import select
import sys
from importlib.metadata import entry_points
from pathlib import Path

from api.common.heap import freeze_start_up_heap

GO = b"go\n"


def main(argv: list[str]) -> int:
    warm_file, modules, program, *args = argv
    (entry,) = entry_points(group="console_scripts", name=program)
    run = entry.load()
    for module in filter(None, modules.split(",")):
        importlib.import_module(module)
    freeze_start_up_heap()  # the imports outlive the spare; the server's workers fork with them frozen
    # Promoted while still importing? Then it is no spare any more: the supervisor wrote GO before it
    # removed the warm file, so a check after that removal sees GO and writes nothing stale.
    if not select.select([sys.stdin], [], [], 0)[0]:
        Path(warm_file).write_text(str(os.getpid()))
    if sys.stdin.buffer.readline() != GO:
        return 0
    sys.argv = [program, *args]
    return run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
