"""The layered prediction cache: LRU in front of the store, both honouring the TTL."""

from api.common.storage import CacheKey
from api.model_serving.cache import LayeredPredictionCache, canonical_json


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


def _key(digest: str = "d") -> CacheKey:
    return CacheKey("v1", "text_to_prediction", "sha", digest)


def test_canonical_json_ignores_key_order_and_spacing() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == canonical_json({"a": [1.0, "é"], "b": 1})


def test_key_digest_depends_on_input_and_model() -> None:
    make = LayeredPredictionCache.key
    base = make(version="v1", endpoint="e", model_sha256="s", input_json='{"text":"a"}')
    assert base == make(version="v1", endpoint="e", model_sha256="s", input_json='{"text":"a"}')
    assert base != make(version="v1", endpoint="e", model_sha256="s", input_json='{"text":"b"}')
    assert base != make(version="v1", endpoint="e", model_sha256="t", input_json='{"text":"a"}')
    assert len(base.input_digest) == 64


def test_put_writes_both_layers_with_ttl() -> None:
    store = DictStore()
    cache = LayeredPredictionCache(store, ttl_seconds=30, memory_size=10)
    cache.put(_key(), {"spam": 0.5})
    assert cache.get_memory(_key()) == {"spam": 0.5}
    assert store.rows[_key()] == {"spam": 0.5} and store.ttls == [30]


def test_memory_entries_expire_after_ttl() -> None:
    clock = Clock()
    cache = LayeredPredictionCache(DictStore(), ttl_seconds=30, memory_size=10, clock=clock)
    cache.remember(_key(), {"spam": 0.5})
    clock.now = 29.9
    assert cache.get_memory(_key()) is not None
    clock.now = 30.1
    assert cache.get_memory(_key()) is None


def test_memory_is_bounded_lru() -> None:
    cache = LayeredPredictionCache(DictStore(), ttl_seconds=30, memory_size=2)
    cache.remember(_key("a"), {"n": 1})
    cache.remember(_key("b"), {"n": 2})
    cache.get_memory(_key("a"))  # a is now most recent
    cache.remember(_key("c"), {"n": 3})
    assert cache.get_memory(_key("b")) is None
    assert cache.get_memory(_key("a")) == {"n": 1} and cache.get_memory(_key("c")) == {"n": 3}


def test_persisted_hit_is_promoted_to_memory() -> None:
    store = DictStore()
    store.rows[_key()] = {"spam": 0.9}
    cache = LayeredPredictionCache(store, ttl_seconds=30, memory_size=10)
    assert cache.get_memory(_key()) is None
    assert cache.get_persisted(_key()) == {"spam": 0.9}
    assert cache.get_memory(_key()) == {"spam": 0.9}


def test_zero_memory_size_disables_lru() -> None:
    cache = LayeredPredictionCache(DictStore(), ttl_seconds=30, memory_size=0)
    cache.remember(_key(), {"spam": 0.5})
    assert cache.get_memory(_key()) is None
