"""Where a batch run's chunks are scored: in this process, or in a pool of worker processes.

Either way a scorer takes the chunks in input order and hands back (index, chunk, probabilities) in that
same order. Probabilities are an (n, len(LABELS)) float64 array, the compact form a worker returns.
Workers are forked from the fork server (batch.forkserver), which has imported this module once, so a
worker starts in milliseconds with no copy of the parent's threads, file handles or Feast state. Each
loads the model once in its initializer and then only turns a chunk's model input (`ChunkSource.
model_input`: texts, or offline feature values) into probabilities; reading, writing and ordering stay
in the parent. A chunk finished early waits in the window until every chunk before it is handed back,
so the parent writes parts strictly in order and `--resume` never counts a chunk past a gap.
"""

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from api.model_serving.models import Features, SpamModel
from api.model_serving.registry import load_builtin
from batch.forkserver import worker_context
from batch.sources import ChunkSource
from contract.feature_store import LABEL_LEGEND

# In class-code order, the order of the models' classes_: argmax's first-on-a-tie is then the API's `top`.
LABELS: tuple[str, ...] = tuple(LABEL_LEGEND[code] for code in sorted(LABEL_LEGEND))
IN_FLIGHT_PER_WORKER = 2  # one chunk computing, one queued: a worker never waits for the parent's write

Scored = tuple[int, pd.DataFrame, np.ndarray]  # chunk index, the chunk, its probabilities
Chunks = Iterator[tuple[int, pd.DataFrame]]  # (index, chunk), in input order
Featurize = Callable[[SpamModel, Any], Sequence[Features] | np.ndarray]


class WorkerDied(RuntimeError):
    """A worker process ended mid-run (killed, or out of memory); the finished chunks are kept."""


class Scorer(Protocol):
    # CPU seconds spent outside this process (worker processes' time on chunks): this process's own
    # time.process_time() does not see it, nor does RUSAGE_CHILDREN (the fork server reaps the workers).
    other_cpu_seconds: float

    def score(self, chunks: Chunks) -> Iterator[Scored]: ...


def probabilities(model: SpamModel, rows: Sequence[Features] | np.ndarray) -> np.ndarray:
    predictions = model.features_to_predictions(rows)
    values = (prediction[label] for prediction in predictions for label in LABELS)
    flat = np.fromiter(values, dtype=np.float64, count=len(predictions) * len(LABELS))
    return flat.reshape(len(predictions), len(LABELS))


def chunk_probabilities(model: SpamModel, source: ChunkSource, chunk: pd.DataFrame) -> np.ndarray:
    return probabilities(model, source.feature_rows(model, source.model_input(chunk)))


class InProcess:
    other_cpu_seconds = 0.0

    def __init__(self, model: SpamModel, source: ChunkSource) -> None:
        self.model, self.source = model, source

    def score(self, chunks: Chunks) -> Iterator[Scored]:
        for index, chunk in chunks:
            yield index, chunk, chunk_probabilities(self.model, self.source, chunk)


_worker: dict[str, Any] = {}  # a worker process's model and featurize function, set once by _start_worker


def _start_worker(version: str, models_dir: Path, artifact_sha256: str, featurize: Featurize) -> None:
    model = load_builtin(version, models_dir)
    if model.artifact_sha256 != artifact_sha256:  # the artifact changed on disk since the parent loaded it
        raise RuntimeError(f"model {version}'s artifact changed during the run")
    _worker.update(model=model, featurize=featurize)


def _score_in_worker(model_input: Any) -> tuple[np.ndarray, float]:
    started = time.process_time()
    model = _worker["model"]
    proba = probabilities(model, _worker["featurize"](model, model_input))
    return proba, time.process_time() - started


class WorkerPool:
    def __init__(self, executor: ProcessPoolExecutor, source: ChunkSource, workers: int) -> None:
        self.executor, self.source = executor, source
        self.in_flight = IN_FLIGHT_PER_WORKER * workers
        self.other_cpu_seconds = 0.0

    def score(self, chunks: Chunks) -> Iterator[Scored]:
        window: deque[tuple[int, pd.DataFrame, Future[tuple[np.ndarray, float]]]] = deque()
        try:
            for index, chunk in chunks:
                window.append((index, chunk, self.executor.submit(_score_in_worker, self.source.model_input(chunk))))
                if len(window) >= self.in_flight:
                    yield self._result(*window.popleft())
            while window:
                yield self._result(*window.popleft())
        except BrokenProcessPool:
            raise WorkerDied(
                "a scoring worker process died (killed, out of memory, or failed to start); the chunks finished "
                "before it are kept: run again with --resume to continue"
            ) from None

    def _result(self, index: int, chunk: pd.DataFrame, future: "Future[tuple[np.ndarray, float]]") -> Scored:
        proba, cpu_seconds = future.result()
        self.other_cpu_seconds += cpu_seconds
        return index, chunk, proba


@contextmanager
def worker_pool(model: SpamModel, models_dir: Path, source: ChunkSource, workers: int) -> Iterator[WorkerPool]:
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=worker_context(), initializer=_start_worker,
        initargs=(model.version, models_dir, model.artifact_sha256, type(source).feature_rows),
    )
    try:
        yield WorkerPool(executor, source, workers)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
