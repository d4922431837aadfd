"""Build raw_data/raw_dataset.csv from a local CSV or from the two UCI archives.

    python scripts/get_data.py                      # copies ../shared/data/sms_spam_dev.csv if present
    python scripts/get_data.py --source PATH        # copies and validates PATH
    python scripts/get_data.py --download           # downloads and merges the UCI archives
"""

import argparse
import sys
from pathlib import Path

import httpx
from tqdm import tqdm

from contract.paths import PROJECT_ROOT, RAW_DATA_PATH
from training.raw_data import (
    SMS_ARCHIVE_URL,
    YOUTUBE_ARCHIVE_URL,
    RawDataError,
    merge_uci,
    read_raw_csv,
    write_raw_csv,
)

DEFAULT_SOURCE = PROJECT_ROOT.parent / "shared" / "data" / "sms_spam_dev.csv"
DEFAULT_OUTPUT = RAW_DATA_PATH


def download(url: str, timeout: float) -> bytes:
    chunks: list[bytes] = []
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
        response.raise_for_status()
        total = int(response.headers.get("content-length", 0)) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                bar.update(len(chunk))
    return b"".join(chunks)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--source", type=Path, help=f"local CSV (default: {DEFAULT_SOURCE} when it exists)")
    group.add_argument("--download", action="store_true", help="download and merge the UCI archives")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per download")
    parser.add_argument("--force", action="store_true", help="rebuild even if the output exists")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.output.exists() and not args.force and args.source is None and not args.download:
        print(f"{args.output} exists; reusing it (--force rebuilds)")
        return 0
    try:
        if args.download or (args.source is None and not DEFAULT_SOURCE.exists()):
            df = merge_uci(download(SMS_ARCHIVE_URL, args.timeout), download(YOUTUBE_ARCHIVE_URL, args.timeout))
        else:
            df = read_raw_csv(args.source or DEFAULT_SOURCE)
    except (RawDataError, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_raw_csv(df, args.output)
    print(f"wrote {len(df)} rows ({(df['label'] == 'spam').sum()} spam) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
