"""Execute training notebooks headless (outputs are not written back: notebooks stay clean in git)."""

import argparse
import sys
import time
from pathlib import Path

from training.notebooks import run_notebook
from training.settings import get_training_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    timeout = get_training_settings().notebook_timeout_seconds
    for path in args.notebooks:
        started = time.perf_counter()
        print(f"running {path} ...", flush=True)
        run_notebook(path, timeout_seconds=timeout)
        print(f"finished {path} in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
