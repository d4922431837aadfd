"""A service process started ahead of need: its imports done, waiting for the word to run.

    python -m ops.warm PROGRAM ARG...     # PROGRAM is a console script, e.g. feast

Importing Feast alone takes 5-7 s on a busy 2-core machine, longer than a restart may take. The
supervisor therefore keeps a warm spare of such a service: this process imports PROGRAM's entry point,
then waits for one line on stdin and runs PROGRAM with the given arguments in this same process (so its
pid and process group are the ones the supervisor already watches). End of input without that line
means the supervisor is gone, and the spare exits.
"""

import sys
from importlib.metadata import entry_points

GO = b"go\n"


def main(argv: list[str]) -> int:
    program, *args = argv
    (entry,) = entry_points(group="console_scripts", name=program)
    run = entry.load()
    if sys.stdin.buffer.readline() != GO:
        return 0
    sys.argv = [program, *args]
    return run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
