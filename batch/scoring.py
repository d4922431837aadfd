"""Batch scoring: a whole file, or a slice of the offline store, through the model serving loads.

Models come from `api.model_serving.registry.load_builtin` (the same classes, artifact-hash check and
feature code as the API), so a row's label and spam probability equal the API's for the same input.
Work goes chunk by chunk: each finished chunk is kept as a part beside the output (batch.parts), and
the output is assembled from the parts at the end, atomically.
"""

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from api.model_serving.models import SpamModel
from api.model_serving.registry import load_builtin
from batch.parts import ChunkParts
from batch.sources import BadInput, ChunkSource, table_format

LABEL = "label"
SPAM_PROBABILITY = "spam_probability"
VERSION = "version"
ARTIFACT_SHA256 = "artifact_sha256"


@dataclass(frozen=True)
class ScoringReport:
    rows_scored: int  # in this run; a resumed run does not count the chunks it kept
    chunks: int
    chunks_resumed: int
    seconds: float
    cpu_seconds: float  # this process's CPU time: on a shared machine, what the run itself cost

    @property
    def rows_per_second(self) -> float:
        return self.rows_scored / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_per_cpu_second(self) -> float:
        return self.rows_scored / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def load_model(version: str, models_dir: Path) -> SpamModel:
    try:
        return load_builtin(version, models_dir)
    except ValueError as exc:  # an unknown version; a broken artifact is a RuntimeError
        raise BadInput(str(exc)) from None


def check_output(output: Path) -> str:
    """The output's format, refusing an unknown extension or a directory that does not exist."""
    output_format = table_format(output, "output")
    if not output.parent.is_dir():
        raise BadInput(f"output {output}: directory {output.parent} does not exist")
    return output_format


def score_chunk(model: SpamModel, source: ChunkSource, chunk: pd.DataFrame) -> pd.DataFrame:
    predictions = model.features_to_predictions(source.feature_rows(model, chunk))
    return pd.DataFrame({
        source.id_column: chunk[source.id_column].to_numpy(),
        # The API's `top`: the label with the highest probability (the first one on a tie).
        LABEL: [max(prediction, key=prediction.__getitem__) for prediction in predictions],
        SPAM_PROBABILITY: [prediction["spam"] for prediction in predictions],
        VERSION: model.version,
        ARTIFACT_SHA256: model.artifact_sha256,
    })


def empty_scores(source: ChunkSource) -> pd.DataFrame:
    return pd.DataFrame({
        source.id_column: pd.Series(dtype=str),
        LABEL: pd.Series(dtype=str),
        SPAM_PROBABILITY: pd.Series(dtype="float64"),
        VERSION: pd.Series(dtype=str),
        ARTIFACT_SHA256: pd.Series(dtype=str),
    })


def run_manifest(source: ChunkSource, model: SpamModel, chunk_size: int) -> dict[str, object]:
    """Everything that shapes the output: a resume must match it exactly."""
    return {
        **source.fingerprint(),
        "version": model.version,
        "artifact_sha256": model.artifact_sha256,
        "chunk_size": chunk_size,
    }


def score(
    source: ChunkSource, model: SpamModel, output: Path, *, chunk_size: int, resume: bool = False,
    progress: bool = True,
) -> ScoringReport:
    """Score `source` into `output` (.csv or .parquet); with `resume`, keep the chunks an earlier run finished."""
    output_format = check_output(output)
    parts = ChunkParts(output)
    resumed = parts.start(run_manifest(source, model, chunk_size), resume=resume)
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = chunks = 0
    with tqdm(total=source.total_rows(), unit="row", disable=not progress, file=sys.stderr) as bar:
        for index, chunk in enumerate(source.chunks(chunk_size)):
            if index >= resumed:
                parts.write(index, score_chunk(model, source, chunk))
                rows += len(chunk)
            chunks = index + 1
            bar.update(len(chunk))
    parts.assemble(output, output_format, n_chunks=chunks, empty=empty_scores(source))
    return ScoringReport(rows_scored=rows, chunks=chunks, chunks_resumed=min(resumed, chunks),
                         seconds=time.perf_counter() - started, cpu_seconds=time.process_time() - cpu_started)
