import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from training.raw_data import RawDataError, merge_uci, read_raw_csv, validate, write_raw_csv


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _sms_archive() -> bytes:
    lines = "ham\tOk lar... Joking wif u oni...\nspam\tFREE entry! Text WIN to 87121\nham\tSee you\tlater\n"
    return _zip({"SMSSpamCollection": lines.encode(), "readme": b"about"})


def _youtube_archive() -> bytes:
    header = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
    psy = header + 'a1,x,2014,"Check out my channel, subscribe!",1\na2,y,2014,"Love this song\nso much",0\n'
    katy = header + "b1,z,2015,nice video,0\n"
    inner = _zip({"Youtube02-KatyPerry.csv": katy.encode()})
    return _zip({"Youtube01-Psy.csv": psy.encode(), "nested/more.zip": inner, "__MACOSX/._x": b"junk"})


def test_merge_uci_assigns_sequential_ids_sms_first() -> None:
    df = merge_uci(_sms_archive(), _youtube_archive())
    assert df["sms_id"].tolist() == [f"sms{n}" for n in range(10001, 10007)]
    assert df["label"].tolist() == ["ham", "spam", "ham", "spam", "ham", "ham"]
    assert df.loc[2, "text"] == "See you\tlater"
    assert df.loc[4, "text"] == "Love this song\nso much"


def test_merge_uci_without_sms_file_raises() -> None:
    with pytest.raises(RawDataError, match="SMSSpamCollection"):
        merge_uci(_zip({"other.txt": b"x"}), _youtube_archive())


def test_write_then_read_round_trips_newlines(tmp_path: Path) -> None:
    df = merge_uci(_sms_archive(), _youtube_archive())
    write_raw_csv(df, tmp_path / "raw.csv")
    pd.testing.assert_frame_equal(read_raw_csv(tmp_path / "raw.csv"), df)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"sms_id": ["a"], "text": ["t"]}), "missing columns: label"),
        (pd.DataFrame({"sms_id": ["a"], "text": ["t"], "label": ["junk"]}), "unexpected label values"),
        (pd.DataFrame({"sms_id": ["a", "a"], "text": ["t", "u"], "label": ["ham", "spam"]}), "duplicate sms_id"),
    ],
)
def test_validate_bad_frame_names_the_problem(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(RawDataError, match=message):
        validate(frame)


def test_read_raw_csv_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(RawDataError, match="no such file"):
        read_raw_csv(tmp_path / "nope.csv")


def test_read_raw_csv_reads_dev_data(raw_dev: pd.DataFrame) -> None:
    assert len(raw_dev) == 6008
    assert set(raw_dev["label"]) == {"ham", "spam"}
