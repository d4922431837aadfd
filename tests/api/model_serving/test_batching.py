"""Dynamic batching: concurrent single-row predictions share one thread hop and, per model, one
predict call; each request still gets its own answer, its own cache behaviour and its own failure."""

import asyncio
import threading
from collections.abc import Sequence

from api.model_serving.batching import PredictionBatcher
from api.model_serving.cache import LayeredPredictionCache
from api.model_serving.service import Outcome
from tests.api.model_serving.conftest import FakeModel
from tests.api.model_serving.test_cache import DictStore, _key


def _batcher(*, max_batch: int = 32) -> tuple[PredictionBatcher, LayeredPredictionCache]:
    cache = LayeredPredictionCache(DictStore(), ttl_seconds=60, memory_size=100)
    return PredictionBatcher(cache, max_batch=max_batch), cache


def _resolve_all(
    batcher: PredictionBatcher, model: FakeModel, rows: Sequence[list[float]], *, skip: bool = True
) -> list[Outcome]:
    async def main() -> list[Outcome]:
        return await asyncio.gather(
            *(batcher.resolve(model, _key(str(i)), skip, lambda row=row: row) for i, row in enumerate(rows))
        )

    return asyncio.run(main())


def test_concurrent_requests_share_predict_calls_and_keep_their_own_answers() -> None:
    model = FakeModel()
    batcher, _ = _batcher()
    rows = [[1.0, float(i % 4), 0.0] for i in range(20)]
    outcomes = _resolve_all(batcher, model, rows)
    assert [o.value for o in outcomes] == FakeModel().features_to_predictions(rows)  # each its own answer
    assert [o.key for o in outcomes] == [_key(str(i)) for i in range(20)]
    assert model.predict_calls == [20]  # all twenty queued before the batch task first ran


def test_a_lone_request_is_answered_at_once() -> None:
    model = FakeModel()
    batcher, _ = _batcher()
    [outcome] = _resolve_all(batcher, model, [[1.0, 2.0, 0.0]])
    assert not outcome.from_cache
    assert model.predict_calls == [1]


def test_batches_never_exceed_max_batch() -> None:
    model = FakeModel()
    batcher, _ = _batcher(max_batch=4)
    _resolve_all(batcher, model, [[1.0, 0.0, 0.0]] * 11)
    assert model.predict_calls == [4, 4, 3]


def test_cache_hits_skip_the_batch_unless_skip_cache() -> None:
    model = FakeModel()
    batcher, cache = _batcher()
    cache.remember(_key("0"), {"ham": 1.0, "spam": 0.0})  # LRU: answered on the loop
    cache.persisted.put(_key("1"), {"ham": 0.0, "spam": 1.0}, 60)  # persisted: looked up in the batch
    outcomes = _resolve_all(batcher, model, [[1.0, 0.0, 0.0]] * 3, skip=False)
    assert [o.from_cache for o in outcomes] == [True, True, False]
    assert outcomes[1].value == {"ham": 0.0, "spam": 1.0}
    assert sum(model.predict_calls) == 1
    assert not any(o.from_cache for o in _resolve_all(batcher, model, [[1.0, 0.0, 0.0]] * 3, skip=True))


class PoisonRow(FakeModel):
    """Raises for any call that includes a row starting with -1."""

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        self.predict_calls.append(len(rows))
        if any(row[0] == -1.0 for row in rows):
            raise RuntimeError("model exploded")
        return FakeModel().features_to_predictions(rows)


def test_a_failing_row_fails_its_own_request_only() -> None:
    model = PoisonRow()
    batcher, _ = _batcher()

    async def main() -> list[Outcome | BaseException]:
        rows = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
        resolve = [batcher.resolve(model, _key(str(i)), True, lambda row=row: row) for i, row in enumerate(rows)]
        return await asyncio.gather(*resolve, return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[0], Outcome) and isinstance(results[2], Outcome)
    assert model.predict_calls == [3, 1, 1, 1]  # the batch, then each row alone


class Blocking(FakeModel):
    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        self.entered.set()
        self.release.wait(5)
        return super().features_to_predictions(rows)


def test_cancelling_the_batch_task_fails_its_requests_instead_of_hanging() -> None:
    model = Blocking()
    batcher, _ = _batcher(max_batch=2)

    async def main() -> None:
        row = [1.0, 0.0, 0.0]
        waiting = [asyncio.ensure_future(batcher.resolve(model, _key(str(i)), True, lambda: row)) for i in range(3)]
        await asyncio.to_thread(model.entered.wait, 5)  # first batch (2 rows) is in predict; 1 queued
        assert batcher._drainer is not None
        batcher._drainer.cancel()
        done, pending = await asyncio.wait(waiting, timeout=5)
        model.release.set()
        assert not pending
        assert all(task.cancelled() for task in done)

    asyncio.run(main())


class OtherModel(FakeModel):
    version = "v2"


def test_models_share_a_hop_but_not_a_predict_call() -> None:
    first, second = FakeModel(), OtherModel()
    batcher, _ = _batcher()

    async def main() -> list[Outcome]:
        row = [1.0, 2.0, 0.0]
        models = [first, second] * 3
        return await asyncio.gather(
            *(batcher.resolve(m, _key(f"{m.version}{i}"), True, lambda: row) for i, m in enumerate(models))
        )

    results = asyncio.run(main())
    assert first.predict_calls == [3] and second.predict_calls == [3]
    assert [r.key for r in results] == [_key(f"{m}{i}") for i, m in enumerate(["v1", "v2"] * 3)]
