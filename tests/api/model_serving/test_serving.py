"""The one prediction path: LRU → persisted cache → batched compute, the feature cache in front of the
online read, and freshness. Concurrent requests share one thread hop and, per model, one predict call;
each still gets its own answer, its own cache behaviour and its own failure."""

import asyncio
import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest

from api.common.storage import CacheKey
from api.common.write_behind import WriteBehind
from api.model_serving.serving import (
    Outcome,
    Query,
    Serving,
    SmsQuery,
    StaleFeatures,
    cache_key,
    canonical_json,
)
from api.model_serving.settings import ModelServingSettings
from contract.routes import FEATURES_TO_PREDICTION, TEXT_TO_FEATURES, TEXT_TO_PREDICTION
from tests.api.model_serving.conftest import ONLINE_ROWS, FakeModel, FakeReader


class DictStore:
    def __init__(self) -> None:
        self.rows: dict[CacheKey, dict] = {}
        self.ttls: list[int] = []

    def get(self, key: CacheKey) -> dict | None:
        return self.rows.get(key)

    def put(self, key: CacheKey, value: dict, ttl_seconds: int) -> None:
        self.rows[key] = value
        self.ttls.append(ttl_seconds)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def writer() -> Iterator[WriteBehind]:
    writer = WriteBehind("test")
    yield writer
    writer.close()


def make_serving(writer: WriteBehind, *models: FakeModel, reader: FakeReader | None = None,
                 clock: Clock | None = None, **settings: object) -> Serving:
    options = {"spam_model_versions": "v1", "_env_file": None, **settings}
    return Serving(ModelServingSettings(**options), models or [FakeModel()], persisted=DictStore(),
                   reader=reader or FakeReader(dict(ONLINE_ROWS)), writer=writer, clock=clock or Clock())


def query(i: int, row: list[float]) -> Query:
    return Query(canonical_json({"n": i}), lambda: row)


def resolve_all(serving: Serving, model: FakeModel, rows: Sequence[list[float]], *, skip: bool = True,
                ) -> list[Outcome | BaseException]:
    async def main() -> list[Outcome | BaseException]:
        calls = [serving.resolve(model, TEXT_TO_PREDICTION, [query(i, row)], skip_cache=skip)
                 for i, row in enumerate(rows)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        return [r if isinstance(r, BaseException) else r[0] for r in results]

    return asyncio.run(main())


# --- keys -----------------------------------------------------------------------------------------


def test_canonical_json_ignores_key_order_and_spacing() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == canonical_json({"a": [1.0, "é"], "b": 1})


def test_key_digest_depends_on_input_and_model() -> None:
    model, other = FakeModel(), FakeModel()
    other.artifact_sha256 = "e" * 64
    base = cache_key(model, "e", '{"text":"a"}')
    assert base == cache_key(model, "e", '{"text":"a"}')
    assert base != cache_key(model, "e", '{"text":"b"}')
    assert base != cache_key(other, "e", '{"text":"a"}')
    assert len(base.input_digest) == 64


# --- the prediction caches ------------------------------------------------------------------------


def test_computed_results_go_to_both_layers_with_the_ttl(writer: WriteBehind) -> None:
    serving = make_serving(writer, cache_ttl_seconds=30)
    [outcome] = resolve_all(serving, serving.models["v1"], [[1.0, 0.0, 0.0]], skip=False)
    writer.flush()
    assert serving.memory.get(outcome.key) == outcome.value
    assert serving.persisted.rows == {outcome.key: outcome.value} and serving.persisted.ttls == [30]


def test_features_stay_in_memory_and_never_touch_the_persisted_cache(writer: WriteBehind) -> None:
    serving = make_serving(writer)
    model = serving.models["v1"]
    stored = cache_key(model, TEXT_TO_FEATURES, query(1, []).input_json)
    serving.persisted.put(stored, {"features": [9.0]}, 60)  # a hit, were the layer read

    async def main() -> list[Outcome | None]:
        return await serving.resolve(model, TEXT_TO_FEATURES, [query(0, [1.0, 0.0]), query(1, [0.0, 1.0])])

    first, second = asyncio.run(main())
    writer.flush()
    assert first and second and not first.from_cache and second.value == {"features": [0.0, 1.0]}
    assert serving.memory.get(first.key) == {"features": [1.0, 0.0]}
    assert list(serving.persisted.rows) == [stored]  # nothing written either
    again, _ = asyncio.run(main())
    assert again and again.from_cache  # the memory layer still answers a repeated text


def test_memory_layer_expires_after_the_ttl(writer: WriteBehind) -> None:
    clock = Clock()
    serving = make_serving(writer, clock=clock, cache_ttl_seconds=30)
    serving.memory.put("k", {"v": 1})
    clock.now = 29.0
    assert serving.memory.get("k") == {"v": 1}
    clock.now = 30.0
    assert serving.memory.get("k") is None


def test_memory_layer_evicts_least_recently_used(writer: WriteBehind) -> None:
    serving = make_serving(writer, memory_cache_size=2)
    serving.memory.put("a", {"v": 1})
    serving.memory.put("b", {"v": 2})
    serving.memory.get("a")
    serving.memory.put("c", {"v": 3})
    assert serving.memory.get("b") is None and serving.memory.get("a") == {"v": 1}


def test_memory_size_zero_disables_the_lru(writer: WriteBehind) -> None:
    serving = make_serving(writer, memory_cache_size=0)
    serving.memory.put("a", {"v": 1})
    assert serving.memory.get("a") is None


def test_cache_hits_skip_the_batch_unless_skip_cache(writer: WriteBehind) -> None:
    serving = make_serving(writer)
    model = serving.models["v1"]
    serving.memory.put(cache_key(model, TEXT_TO_PREDICTION, query(0, []).input_json), {"ham": 1.0, "spam": 0.0})
    serving.persisted.put(cache_key(model, TEXT_TO_PREDICTION, query(1, []).input_json), {"ham": 0.0, "spam": 1.0}, 60)
    outcomes = resolve_all(serving, model, [[1.0, 0.0, 0.0]] * 3, skip=False)
    assert [o.from_cache for o in outcomes] == [True, True, False]
    assert outcomes[1].value == {"ham": 0.0, "spam": 1.0}
    assert sum(model.predict_calls) == 1
    assert not any(o.from_cache for o in resolve_all(serving, model, [[1.0, 0.0, 0.0]] * 3, skip=True))


# --- batching -------------------------------------------------------------------------------------


def test_concurrent_requests_share_predict_calls_and_keep_their_own_answers(writer: WriteBehind) -> None:
    serving = make_serving(writer)
    model = serving.models["v1"]
    rows = [[1.0, float(i % 4), 0.0] for i in range(20)]
    outcomes = resolve_all(serving, model, rows)
    assert [o.value for o in outcomes] == FakeModel().features_to_predictions(rows)  # each its own answer
    assert model.predict_calls == [20]  # all twenty queued before the batch task first ran


def test_a_lone_request_is_answered_at_once(writer: WriteBehind) -> None:
    serving = make_serving(writer)
    [outcome] = resolve_all(serving, serving.models["v1"], [[1.0, 2.0, 0.0]])
    assert not outcome.from_cache
    assert serving.models["v1"].predict_calls == [1]


def test_batches_never_exceed_max_batch(writer: WriteBehind) -> None:
    serving = make_serving(writer, predict_batch_max=4)
    resolve_all(serving, serving.models["v1"], [[1.0, 0.0, 0.0]] * 11)
    assert serving.models["v1"].predict_calls == [4, 4, 3]


class PoisonRow(FakeModel):
    """Raises for any call that includes a row starting with -1."""

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        self.predict_calls.append(len(rows))
        if any(row[0] == -1.0 for row in rows):
            raise RuntimeError("model exploded")
        return FakeModel().features_to_predictions(rows)


def test_a_failing_row_fails_its_own_request_only(writer: WriteBehind) -> None:
    model = PoisonRow()
    serving = make_serving(writer, model)
    results = resolve_all(serving, model, [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[0], Outcome) and isinstance(results[2], Outcome)
    assert model.predict_calls == [3, 1, 1, 1]  # the batch, then each request alone


class Blocking(FakeModel):
    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        self.entered.set()
        self.release.wait(5)
        return super().features_to_predictions(rows)


def test_cancelling_the_batch_task_fails_its_requests_instead_of_hanging(writer: WriteBehind) -> None:
    model = Blocking()
    serving = make_serving(writer, model, predict_batch_max=2)

    async def main() -> None:
        waiting = [asyncio.ensure_future(serving.resolve(model, TEXT_TO_PREDICTION, [query(i, [1.0, 0.0, 0.0])],
                                                         skip_cache=True)) for i in range(3)]
        await asyncio.to_thread(model.entered.wait, 5)  # first batch (2 rows) is in predict; 1 queued
        assert serving._drainer is not None
        serving._drainer.cancel()
        done, pending = await asyncio.wait(waiting, timeout=5)
        model.release.set()
        assert not pending
        assert all(task.cancelled() for task in done)

    asyncio.run(main())


class OtherModel(FakeModel):
    version = "v2"


def test_models_share_a_hop_but_not_a_predict_call(writer: WriteBehind) -> None:
    first, second = FakeModel(), OtherModel()
    serving = make_serving(writer, first, second, spam_model_versions="v1,v2")

    async def main() -> list[list[Outcome | None]]:
        models = [first, second] * 3
        return await asyncio.gather(*(serving.resolve(m, TEXT_TO_PREDICTION, [query(i, [1.0, 2.0, 0.0])],
                                                      skip_cache=True) for i, m in enumerate(models)))

    results = asyncio.run(main())
    assert first.predict_calls == [3] and second.predict_calls == [3]
    assert [r[0].key.version for r in results] == ["v1", "v2"] * 3  # type: ignore[union-attr]


# --- online features: one read per batch, the feature cache, freshness ----------------------------


def sms(serving: Serving, *ids: str) -> list[Outcome | None]:
    async def main() -> list[list[Outcome | None]]:
        return await asyncio.gather(*(serving.resolve(serving.models["v1"], "sms_to_prediction", [SmsQuery(i)])
                                      for i in ids))

    return [outcomes[0] for outcomes in asyncio.run(main())]


def test_concurrent_sms_requests_share_one_online_read(writer: WriteBehind) -> None:
    reader = FakeReader(dict(ONLINE_ROWS))
    serving = make_serving(writer, reader=reader, feature_cache_ttl_seconds=0)
    outcomes = sms(serving, "sms1", "nope", "sms2")
    assert reader.reads == [["sms1", "nope", "sms2"]]
    assert outcomes[1] is None and outcomes[0] and outcomes[2]
    assert outcomes[0].key.endpoint == FEATURES_TO_PREDICTION  # keyed on the features, not the id


def test_feature_cache_hit_skips_the_online_read(writer: WriteBehind) -> None:
    reader = FakeReader(dict(ONLINE_ROWS))
    serving = make_serving(writer, reader=reader, feature_cache_ttl_seconds=10)
    sms(serving, "sms1")
    sms(serving, "sms1")
    assert reader.reads == [["sms1"]]


def test_feature_cache_expires_after_its_ttl(writer: WriteBehind) -> None:
    clock, reader = Clock(), FakeReader(dict(ONLINE_ROWS))
    serving = make_serving(writer, reader=reader, clock=clock, feature_cache_ttl_seconds=10)
    [before] = sms(serving, "sms2")
    reader.rows["sms2"] = {"a": 1.0, "b": 9.0, "c": 0.0}  # a push
    clock.now = 9.9
    [cached] = sms(serving, "sms2")
    clock.now = 10.0
    [after] = sms(serving, "sms2")
    assert reader.reads == [["sms2"], ["sms2"]]
    assert cached.value == before.value and after.value["spam"] > before.value["spam"]  # type: ignore[union-attr]


def test_feature_cache_ttl_zero_reads_every_time(writer: WriteBehind) -> None:
    reader = FakeReader(dict(ONLINE_ROWS))
    serving = make_serving(writer, reader=reader, feature_cache_ttl_seconds=0)
    sms(serving, "sms1")
    sms(serving, "sms1")
    assert reader.reads == [["sms1"], ["sms1"]]


def test_missing_rows_are_not_cached(writer: WriteBehind) -> None:
    reader = FakeReader({})
    serving = make_serving(writer, reader=reader, feature_cache_ttl_seconds=10)
    assert sms(serving, "late") == [None]
    reader.rows["late"] = ONLINE_ROWS["sms1"]  # pushed afterwards
    assert sms(serving, "late")[0] is not None


def test_outcome_carries_the_rows_event_time_and_age(writer: WriteBehind) -> None:
    reader = FakeReader(dict(ONLINE_ROWS), age=timedelta(seconds=120))
    [outcome] = sms(make_serving(writer, reader=reader), "sms1")
    assert outcome is not None and outcome.features_at == reader.event_time
    assert 120 <= outcome.features_age_seconds < 125  # type: ignore[operator]


def test_features_older_than_the_limit_are_refused(writer: WriteBehind) -> None:
    reader = FakeReader(dict(ONLINE_ROWS), age=timedelta(seconds=700))
    serving = make_serving(writer, reader=reader, max_feature_age_seconds="v1=600")
    with pytest.raises(StaleFeatures) as refused:
        sms(serving, "sms1")
    assert refused.value.status_code == 409
    assert refused.value.detail["max_feature_age_seconds"] == 600  # type: ignore[index]
    assert 700 <= refused.value.detail["features_age_seconds"] < 705  # type: ignore[index]
    fresh = make_serving(writer, reader=FakeReader(dict(ONLINE_ROWS)), max_feature_age_seconds="600")
    assert sms(fresh, "sms1")[0] is not None


def test_a_limit_for_a_version_not_served_stops_start_up(writer: WriteBehind) -> None:
    with pytest.raises(ValueError, match="MAX_FEATURE_AGE_SECONDS names v7"):
        make_serving(writer, max_feature_age_seconds="v1=60,v7=60")

