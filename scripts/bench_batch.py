"""Batch-scoring throughput per version, in-process (--workers 1) against worker processes, in one run.

    PYTHONOPTIMIZE=1 python scripts/bench_batch.py --rows 204272 --versions v3 v2 v1 --workers 1 2

Builds a Parquet input of at least --rows rows from the dev file's texts (copies with distinct ids) and
times `batch.scoring.score` on it per version and worker count: wall rows/s, rows per CPU second (this
process plus the workers' CPU on chunks) and the load average, since on a shared machine the wall rate
swings with the other tenants. Each figure spans the scoring call: reading, worker start (a fork of the
fork server and a model load), scoring, and the atomic output write; not the interpreter's imports.
"""

import argparse
import os
import tempfile
from pathlib import Path

from benchlib import DEV_CSV

from batch.forkserver import start_worker_server


def build_input(rows: int, path: Path) -> int:
    import pandas as pd

    from training.raw_data import read_raw_csv

    raw = read_raw_csv(DEV_CSV)[["sms_id", "text"]]
    copies = -(-rows // len(raw))
    frame = pd.concat([raw.assign(sms_id=raw["sms_id"] + f"-{copy}") for copy in range(copies)], ignore_index=True)
    frame.to_parquet(path, index=False)
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--versions", nargs="+", default=["v3"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--models-dir", type=Path, default=Path(os.environ.get("MODELS_DIR", "models")))
    args = parser.parse_args()
    start_worker_server()  # its imports overlap this process's
    from batch.scoring import load_model, score
    from batch.sources import FileSource

    print(f"CPUs usable: {len(os.sched_getaffinity(0))}; PYTHONOPTIMIZE={os.environ.get('PYTHONOPTIMIZE', '')}")
    print("| version | workers | rows | wall s | rows/s | CPU s | rows per CPU s | load before → after |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        source_path = Path(scratch) / "input.parquet"
        rows = build_input(args.rows, source_path)
        for _ in range(args.rounds):
            for version in args.versions:
                model = load_model(version, args.models_dir)
                for workers in args.workers:
                    source = FileSource(source_path, text_column="text", id_column=None)
                    load_before = os.getloadavg()[0]
                    report = score(source, model, Path(scratch) / "scores.parquet", chunk_size=args.chunk_size,
                                   progress=False, workers=workers, models_dir=args.models_dir)
                    assert report.rows_scored == rows
                    print(f"| {version} | {workers} | {rows:,} | {report.seconds:.2f} | {report.rows_per_second:,.0f} "
                          f"| {report.cpu_seconds:.2f} | {report.rows_per_cpu_second:,.0f} "
                          f"| {load_before:.1f} → {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
