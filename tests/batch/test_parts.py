"""Chunk parts: what a resume keeps, what it refuses, and what a finished run leaves behind."""

from pathlib import Path

import pandas as pd
import pytest

from api.model_serving.models import SpamModel
from batch.parts import ChunkParts, parts_dir
from batch.scoring import run_manifest, score, scores_frame
from batch.sources import BadInput, FileSource
from batch.workers import chunk_probabilities


def run(model: SpamModel, source: Path, output: Path, *, chunk_size: int = 50, resume: bool = False) -> None:
    file = FileSource(source, text_column="text", id_column=None)
    score(file, model, output, chunk_size=chunk_size, resume=resume, progress=False)


def interrupted_parts(model: SpamModel, source: Path, output: Path, *, keep: int) -> Path:
    """The parts a run leaves when it dies after `keep` chunks: a whole run's parts, minus the later ones."""
    run(model, source, output)
    parts = parts_dir(output)
    assert not parts.exists()  # a finished run cleans up
    output.unlink()
    file = FileSource(source, text_column="text", id_column=None)
    chunk_parts = ChunkParts(output)
    chunk_parts.start(run_manifest(file, model, 50), resume=False)
    for index, chunk in enumerate(file.chunks(50)):
        if index == keep:
            break
        scores = scores_frame(file, model, chunk, chunk_probabilities(model, file, chunk))
        chunk_parts.write(index, scores.assign(label="planted"))
    return parts


def test_resume_keeps_finished_chunks(v3_model: SpamModel, sample_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scores.parquet"
    interrupted_parts(v3_model, sample_csv, output, keep=2)
    run(v3_model, sample_csv, output, resume=True)
    labels = pd.read_parquet(output)["label"]
    assert (labels[:100] == "planted").all() and not (labels[100:] == "planted").any()


def test_run_without_resume_starts_over(v3_model: SpamModel, sample_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scores.parquet"
    interrupted_parts(v3_model, sample_csv, output, keep=2)
    run(v3_model, sample_csv, output)
    assert not (pd.read_parquet(output)["label"] == "planted").any()


def test_resume_with_other_input_is_refused(
    v3_model: SpamModel, sample: pd.DataFrame, sample_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "scores.csv"
    parts = interrupted_parts(v3_model, sample_csv, output, keep=2)
    changed = tmp_path / "changed.csv"
    sample.assign(text=sample["text"] + "!").to_csv(changed, index=False)
    with pytest.raises(BadInput, match=r"cannot resume: .* different input_sha256; run without --resume"):
        run(v3_model, changed, output, resume=True)
    assert parts.exists() and not output.exists()  # nothing overwritten


def test_resume_with_other_chunk_size_is_refused(v3_model: SpamModel, sample_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scores.csv"
    interrupted_parts(v3_model, sample_csv, output, keep=1)
    with pytest.raises(BadInput, match="different chunk_size"):
        run(v3_model, sample_csv, output, chunk_size=60, resume=True)


def test_finished_run_leaves_only_the_output(v3_model: SpamModel, sample_csv: Path, tmp_path: Path) -> None:
    run(v3_model, sample_csv, tmp_path / "scores.csv", chunk_size=7)
    assert [path.name for path in tmp_path.iterdir()] == ["scores.csv"]
