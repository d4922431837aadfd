"""ops.warm: a spare imports ahead of need, then runs its program in the same process."""

import subprocess
import sys
from pathlib import Path


def test_a_spare_freezes_its_imports_while_it_waits(tmp_path: Path) -> None:
    """A server the spare runs (gunicorn under `feast serve`) forks its workers with the imports frozen,
    so the collector never walks Feast, pandas and pyarrow again. End of input: the spare exits unpromoted."""
    warm_file = tmp_path / "spare.warm"
    script = (
        "import gc, sys\n"
        "from ops import warm\n"
        f"rc = warm.main([{str(warm_file)!r}, 'json,email.parser', 'pip', '--version'])\n"
        "print('frozen', gc.get_freeze_count())\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], input=b"", capture_output=True, timeout=60, check=True)
    frozen = int(result.stdout.decode().split("frozen ")[-1])
    assert frozen > 10_000, result.stdout
