"""What the benchmark scripts share: the dev data's location, latency percentiles, services' CPU use."""

import math
import os
import statistics
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_CSV = PROJECT_ROOT.parent / "shared" / "data" / "sms_spam_dev.csv"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation), so p99 is a latency some request really had."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else float("nan")


def latency_ms(seconds: list[float]) -> dict[str, float | None]:
    """p50, p99 and mean in milliseconds of latencies given in seconds."""
    if not seconds:
        return {"p50_ms": None, "p99_ms": None, "mean_ms": None}
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3),
    }


def group_cpu_seconds(run_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each service's process group, from a run directory's
    `NAME.pid` files (ops.processes: each service is its own process group). Linux /proc only."""
    groups = {int(path.read_text()): path.stem for path in run_dir.glob("*.pid") if "." not in path.stem}
    used = dict.fromkeys(groups.values(), 0.0)
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process exited meanwhile
            continue
        name = groups.get(int(fields[2]))
        if name is not None:
            used[name] += (int(fields[11]) + int(fields[12])) / ticks
    return used
