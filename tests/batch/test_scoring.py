"""Batch scoring end to end in-process: formats in and out, chunking, ids, the offline store, and the API."""

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.model_serving.main import create_app
from api.model_serving.models import SpamModel
from api.model_serving.settings import ModelServingSettings
from batch.scoring import load_model, score
from batch.sources import FileSource, OfflineSource, slice_bounds
from training.data import open_store
from training.versions import get_version

COLUMNS = ["sms_id", "label", "spam_probability", "version", "artifact_sha256"]
API_BATCH = 100


def read_scores(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"sms_id": str, "row": "int64"}, keep_default_na=False)
    return pd.read_parquet(path)


def score_file(
    model: SpamModel, source: Path, output: Path, *, chunk_size: int = 64, text_column: str = "text",
    id_column: str | None = None, workers: int = 1, models_dir: Path | None = None,
) -> pd.DataFrame:
    file = FileSource(source, text_column=text_column, id_column=id_column)
    score(file, model, output, chunk_size=chunk_size, progress=False, workers=workers, models_dir=models_dir)
    return read_scores(output)


@pytest.fixture(scope="module")
def api(models_dir: Path, feast_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ModelServingSettings(
        spam_model_versions="v1, v2, v3", models_dir=models_dir, feature_repo_path=feast_repo,
        sqlite_path=tmp_path_factory.mktemp("serving") / "app.db", _env_file=None,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def api_predictions(api: TestClient, version: str, texts: list[str]) -> list[dict]:
    results = []
    for offset in range(0, len(texts), API_BATCH):
        body = {"texts": texts[offset : offset + API_BATCH], "skip_cache": True}
        response = api.post(f"/model/{version}/text_to_prediction_batch", json=body)
        assert response.status_code == 200, response.text
        results.extend(response.json()["predictions"])
    return results


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_scores_equal_the_api_for_the_same_texts(
    api: TestClient, models_dir: Path, sample: pd.DataFrame, sample_parquet: Path, tmp_path: Path, version: str,
    workers: int,
) -> None:
    scores = score_file(load_model(version, models_dir), sample_parquet, tmp_path / "scores.parquet",
                        workers=workers, models_dir=models_dir)
    assert scores["sms_id"].tolist() == sample["sms_id"].tolist()
    accepted = sample["text"].str.strip() != ""  # the API refuses blank texts (422); batch scores every row
    scores = scores[accepted.to_numpy()]
    expected = api_predictions(api, version, sample.loc[accepted, "text"].tolist())
    assert scores["label"].tolist() == [item["top"]["label"] for item in expected]
    assert scores["spam_probability"].tolist() == [item["prediction"]["spam"] for item in expected]
    assert set(scores["label"]) == {"ham", "spam"}


@pytest.mark.parametrize("output_name", ["scores.csv", "scores.parquet"])
@pytest.mark.parametrize("input_name", ["sample_csv", "sample_parquet"])
def test_every_format_pair_gives_the_same_scores(
    request: pytest.FixtureRequest, v3_model: SpamModel, models_dir: Path, tmp_path: Path, input_name: str,
    output_name: str,
) -> None:
    scores = score_file(v3_model, request.getfixturevalue(input_name), tmp_path / output_name)
    reference = score_file(v3_model, request.getfixturevalue("sample_parquet"), tmp_path / "reference.parquet")
    assert list(scores.columns) == COLUMNS
    pd.testing.assert_frame_equal(scores, reference)
    metadata = json.loads((get_version("v3").model_dir(models_dir) / "metadata.json").read_text())
    assert set(scores["version"]) == {"v3"} and set(scores["artifact_sha256"]) == {metadata["artifact_sha256"]}


def test_chunk_size_does_not_change_scores(v3_model: SpamModel, sample_csv: Path, tmp_path: Path) -> None:
    small = score_file(v3_model, sample_csv, tmp_path / "small.parquet", chunk_size=7)
    whole = score_file(v3_model, sample_csv, tmp_path / "whole.parquet", chunk_size=10_000)
    pd.testing.assert_frame_equal(small, whole)


def test_input_without_id_column_numbers_the_rows(
    v3_model: SpamModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "texts.csv"
    sample[["text"]].rename(columns={"text": "body"}).to_csv(source, index=False)
    scores = score_file(v3_model, source, tmp_path / "scores.csv", chunk_size=50, text_column="body")
    assert scores.columns[0] == "row" and scores["row"].tolist() == list(range(len(sample)))


def test_named_id_column_is_kept(v3_model: SpamModel, sample: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "messages.parquet"
    sample.rename(columns={"sms_id": "message_key"}).to_parquet(source, index=False)
    scores = score_file(v3_model, source, tmp_path / "scores.parquet", id_column="message_key")
    assert scores["message_key"].tolist() == sample["sms_id"].tolist()


def test_empty_input_writes_the_header_only(v3_model: SpamModel, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_text("sms_id,text\n")
    assert list(score_file(v3_model, source, tmp_path / "scores.csv").columns) == COLUMNS


SLICES = [("v3", "2020-01-01", "2021-12-31"), ("v1", "2019-01-01", "2019-12-31")]


@pytest.mark.parametrize(("version", "start", "end"), SLICES)
def test_offline_slice_scores_equal_text_scores(
    feast_repo: Path, models_dir: Path, raw_dev: pd.DataFrame, tmp_path: Path, version: str, start: str, end: str
) -> None:
    model = load_model(version, models_dir)
    first, last = slice_bounds(start, end)
    offline = OfflineSource(open_store(feast_repo), model, start=first, end=last)
    # Two workers here and one for the texts: the offline features, too, are computed alike in a worker.
    score(offline, model, tmp_path / "offline.parquet", chunk_size=1000, progress=False, workers=2,
          models_dir=models_dir)
    from_store = read_scores(tmp_path / "offline.parquet").set_index("sms_id")
    dev_csv = tmp_path / "dev.csv"
    raw_dev.to_csv(dev_csv, index=False)
    from_text = score_file(model, dev_csv, tmp_path / "text.parquet", chunk_size=1000).set_index("sms_id")
    assert from_store.index.is_unique and set(raw_dev["sms_id"]) <= set(from_store.index)
    pd.testing.assert_frame_equal(from_store.loc[from_text.index], from_text)


def test_offline_slice_before_any_row_is_empty(feast_repo: Path, v3_model: SpamModel, tmp_path: Path) -> None:
    first, last = slice_bounds("2021-01-01", "2021-12-31")  # v2 rows carry a 2020 date
    offline = OfflineSource(open_store(feast_repo), v3_model, start=first, end=last)
    report = score(offline, v3_model, tmp_path / "scores.csv", chunk_size=100, progress=False)
    assert report.rows_scored == 0 and list(read_scores(tmp_path / "scores.csv").columns) == COLUMNS
