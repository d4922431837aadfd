"""Batch scoring: a whole file, or a slice of the offline store, through the model serving loads.

Models come from `api.model_serving.registry.load_builtin` (the same classes, artifact-hash check and
feature code as the API), so a row's label and spam probability equal the API's for the same input.
Work goes chunk by chunk: each finished chunk is kept as a part beside the output (batch.parts), and
the output is assembled from the parts at the end, atomically.
"""

import itertools
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from api.model_serving.models import SpamModel
from api.model_serving.registry import load_builtin
from batch.parts import ChunkParts
from batch.sources import BadInput, ChunkSource, table_format
from batch.workers import LABELS, InProcess, Scorer, worker_pool

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
    cpu_seconds: float  # this process's CPU time and its workers' on chunks: on a shared machine, what the run cost

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


def scores_frame(source: ChunkSource, model: SpamModel, chunk: pd.DataFrame, proba: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        source.id_column: chunk[source.id_column].to_numpy(),
        # The API's `top`: the label with the highest probability (the first one on a tie).
        LABEL: np.asarray(LABELS, dtype=object)[proba.argmax(axis=1)],
        SPAM_PROBABILITY: proba[:, LABELS.index("spam")],
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
    progress: bool = True, workers: int = 1, models_dir: Path | None = None,
) -> ScoringReport:
    """Score `source` into `output` (.csv or .parquet); with `resume`, keep the chunks an earlier run finished.

    `workers` > 1 scores chunks in that many worker processes, which load the model from `models_dir`.
    """
    output_format = check_output(output)
    parts = ChunkParts(output)
    resumed = parts.start(run_manifest(source, model, chunk_size), resume=resume)
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = n_chunks = 0
    chunks = enumerate(source.chunks(chunk_size))
    with (
        tqdm(total=source.total_rows(), unit="row", disable=not progress, file=sys.stderr) as bar,
        scorer(source, model, workers, models_dir) as chunk_scorer,
    ):
        for _, chunk in itertools.islice(chunks, resumed):  # finished by an earlier run: read past
            n_chunks += 1
            bar.update(len(chunk))
        for index, chunk, proba in chunk_scorer.score(chunks):
            parts.write(index, scores_frame(source, model, chunk, proba))
            rows += len(chunk)
            n_chunks = index + 1
            bar.update(len(chunk))
    parts.assemble(output, output_format, n_chunks=n_chunks, empty=empty_scores(source))
    return ScoringReport(rows_scored=rows, chunks=n_chunks, chunks_resumed=min(resumed, n_chunks),
                         seconds=time.perf_counter() - started,
                         cpu_seconds=time.process_time() - cpu_started + chunk_scorer.other_cpu_seconds)


@contextmanager
def scorer(source: ChunkSource, model: SpamModel, workers: int, models_dir: Path | None) -> Iterator[Scorer]:
    if workers == 1:
        yield InProcess(model, source)
        return
    if models_dir is None:
        raise ValueError("scoring in worker processes needs the models directory")
    with worker_pool(model, models_dir, source, workers) as pool:
        yield pool
