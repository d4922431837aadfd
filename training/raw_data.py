"""The raw labelled dataset: `sms_id,text,label` rows, copied from a file or merged from the UCI archives.

The UCI path merges the SMS Spam Collection (tab-separated `label<TAB>text`) and the YouTube Spam
Collection (five CSVs with `CONTENT` and `CLASS`, 1 = spam), in that order, and numbers the rows
`sms10001`, `sms10002`, ... as the tutorial's dataset does.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

COLUMNS = ["sms_id", "text", "label"]
LABELS = {"ham", "spam"}
FIRST_ID = 10001
SMS_ARCHIVE_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
YOUTUBE_ARCHIVE_URL = "https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip"


class RawDataError(ValueError):
    """The raw data does not have the expected shape; the message says what is wrong."""


def validate(df: pd.DataFrame) -> pd.DataFrame:
    """Check columns, labels, ids and texts; return the frame with exactly COLUMNS."""
    missing = [col for col in COLUMNS if col not in df.columns]
    if missing:
        raise RawDataError(f"missing columns: {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    bad_labels = sorted(set(df["label"].astype(str)) - LABELS)
    if bad_labels:
        raise RawDataError(f"unexpected label values: {bad_labels[:5]} (expected ham or spam)")
    duplicated = df["sms_id"][df["sms_id"].duplicated()].unique().tolist()
    if duplicated:
        raise RawDataError(f"duplicate sms_id values: {duplicated[:5]}")
    if df["sms_id"].isna().any() or df["text"].isna().any():
        raise RawDataError("empty sms_id or text values")
    return df[COLUMNS].reset_index(drop=True)


def read_raw_csv(path: Path) -> pd.DataFrame:
    """Read and validate a raw CSV (texts may hold newlines, so the csv quoting rules matter)."""
    if not path.exists():
        raise RawDataError(f"no such file: {path}")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    return validate(df)


def _members(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    """Yield (name, bytes) of every file, descending into nested zip archives."""
    for name in sorted(archive.namelist()):
        if name.endswith("/") or "__MACOSX" in name:
            continue
        data = archive.read(name)
        if name.lower().endswith(".zip"):
            yield from _members(zipfile.ZipFile(io.BytesIO(data)))
        else:
            yield name, data


def parse_sms_archive(archive_bytes: bytes) -> list[tuple[str, str]]:
    """(text, label) pairs from the SMS Spam Collection archive."""
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        for name, data in _members(archive):
            if Path(name).name == "SMSSpamCollection":
                lines = data.decode("utf-8", errors="replace").splitlines()
                pairs = [line.split("\t", 1) for line in lines if line.strip()]
                return [(text, label) for label, text in pairs]
    raise RawDataError("the SMS archive has no SMSSpamCollection file")


def parse_youtube_archive(archive_bytes: bytes) -> list[tuple[str, str]]:
    """(text, label) pairs from the YouTube Spam Collection archive, files in name order."""
    rows: list[tuple[str, str]] = []
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        for name, data in _members(archive):
            if not name.lower().endswith(".csv"):
                continue
            reader = csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace")))
            rows += [(row["CONTENT"], "spam" if row["CLASS"].strip() == "1" else "ham") for row in reader]
    if not rows:
        raise RawDataError("the YouTube archive has no CSV files")
    return rows


def merge_uci(sms_archive: bytes, youtube_archive: bytes) -> pd.DataFrame:
    """Merge both archives into one validated frame with sequential sms ids."""
    pairs = parse_sms_archive(sms_archive) + parse_youtube_archive(youtube_archive)
    df = pd.DataFrame(pairs, columns=["text", "label"])
    df.insert(0, "sms_id", [f"sms{FIRST_ID + i}" for i in range(len(df))])
    return validate(df)


def write_raw_csv(df: pd.DataFrame, path: Path) -> None:
    """Write atomically so a crash never leaves a half-written dataset behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)
