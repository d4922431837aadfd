"""What the benchmark scripts share: the dev data's location and latency percentiles."""

import math
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
