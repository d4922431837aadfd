"""Score a file of texts, or a time slice of the offline store, with one model version, in chunks.

    python scripts/score_batch.py --version v3 --input messages.csv --output scores.parquet
    python scripts/score_batch.py --version v3 --from-offline-store --start 2020-01-01 --end 2021-12-31 \\
        --output scores.csv

Input: .csv or .parquet with a text column (--text-column, default text) and an id column (--id-column,
default sms_id when present; otherwise rows are numbered in a `row` column). Output (.csv or .parquet):
the id, label, spam_probability, version and artifact_sha256, written atomically. Finished chunks are
kept in <output>.parts/ until the end, so --resume continues an interrupted run after its last finished
chunk (and refuses if the input or the arguments changed). Bad input: one line on stderr, exit status 2.
With --workers N > 1 (the default on a multi-core machine), N spawned worker processes score the chunks,
each loading the model once; this process reads, writes and keeps the chunks in order. A worker that dies
fails the run (exit 3, no output written); --resume then continues after the last chunk written.

Reads MODELS_DIR, FEATURE_REPO_PATH and FEAST_FS_YAML_FILE from the environment (or .env).
"""

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from batch.forkserver import start_worker_server

if TYPE_CHECKING:
    from api.model_serving.models import SpamModel
    from batch.settings import BatchSettings
    from batch.sources import OfflineSource

DEFAULT_CHUNK_SIZE = 10_000


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", required=True, help="model version, e.g. v3")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="a .csv or .parquet file of texts")
    source.add_argument("--from-offline-store", action="store_true", help="score the version's offline features")
    parser.add_argument("--start", help="with --from-offline-store: first event time (ISO 8601, UTC by default)")
    parser.add_argument("--end", help="with --from-offline-store: last event time, inclusive (a date: that day)")
    parser.add_argument("--output", required=True, type=Path, help="a .csv or .parquet file")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--id-column", default=None, help="default: sms_id when the input has it")
    parser.add_argument("--chunk-size", type=positive_int, default=DEFAULT_CHUNK_SIZE, help="rows per chunk")
    parser.add_argument("--resume", action="store_true", help="continue after the last finished chunk")
    parser.add_argument("--workers", type=positive_int, default=len(os.sched_getaffinity(0)),
                        help="worker processes that score chunks; 1 scores in this process (default: usable CPUs)")
    parser.add_argument("--models-dir", type=Path, default=None, help="default: MODELS_DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.from_offline_store != (args.start is not None and args.end is not None):
        parser.error("--start and --end go with --from-offline-store, and it needs both")
    return args


def offline_source(args: argparse.Namespace, settings: "BatchSettings", model: "SpamModel") -> "OfflineSource":
    from feast import FeatureStore  # heavy import: only for this mode

    from batch.sources import OfflineSource, slice_bounds

    start, end = slice_bounds(args.start, args.end)
    store = FeatureStore(repo_path=str(settings.feature_repo_path), fs_yaml_file=settings.feast_yaml_path)
    return OfflineSource(store, model, start=start, end=end)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workers > 1:
        start_worker_server()  # it imports the scoring code while this process does: ~3 s of start-up overlap
    # Imported here, after the fork server has started: these take seconds (scikit-learn, pandas, FastAPI).
    from batch.scoring import check_output, load_model, score
    from batch.settings import BatchSettings
    from batch.sources import BadInput, ChunkSource, FileSource
    from batch.workers import WorkerDied

    settings = BatchSettings()
    try:
        check_output(args.output)
        # A file's columns are checked before the model loads, so a typo fails fast.
        source: ChunkSource | None = None
        if args.input is not None:
            source = FileSource(args.input, text_column=args.text_column, id_column=args.id_column)
        models_dir = args.models_dir or settings.models_dir
        model = load_model(args.version, models_dir)
        source = source or offline_source(args, settings, model)
        report = score(source, model, args.output, chunk_size=args.chunk_size, resume=args.resume,
                       progress=not args.no_progress, workers=args.workers, models_dir=models_dir)
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except WorkerDied as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except RuntimeError as error:  # a model that cannot be loaded (not trained, or its hash does not match)
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"scored {report.rows_scored} rows in {report.seconds:.3f} s ({report.rows_per_second:,.0f} rows/s; "
        f"{report.cpu_seconds:.3f} s of CPU with the workers', {report.rows_per_cpu_second:,.0f} rows per CPU second; "
        f"{args.workers} workers); {report.chunks} chunks, {report.chunks_resumed} resumed; wrote {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
