"""The prediction cache as the routes see it: an in-process LRU in front of the persisted store.

The persisted cache (DESIGN §5/§6) survives restarts and is shared by workers; the LRU makes a
repeated request cost a dict lookup on the event loop instead of a thread hop and a SQL query.
Both layers honour the TTL.
"""

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from api.common.metrics import CACHE_LOOKUPS
from api.common.storage import CacheKey, PredictionCache

_MEMORY_HIT = CACHE_LOOKUPS.labels("prediction", "memory", "hit")
_MEMORY_MISS = CACHE_LOOKUPS.labels("prediction", "memory", "miss")
_STORE_HIT = CACHE_LOOKUPS.labels("prediction", "store", "hit")
_STORE_MISS = CACHE_LOOKUPS.labels("prediction", "store", "miss")
_STORE_ERROR = CACHE_LOOKUPS.labels("prediction", "store", "error")
logger = logging.getLogger(__name__)


def canonical_json(payload: Any) -> str:
    """Key order, spacing and escaping fixed, so equal inputs give equal digests."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


class LayeredPredictionCache:
    def __init__(
        self,
        persisted: PredictionCache,
        *,
        ttl_seconds: int,
        memory_size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.persisted = persisted
        self.ttl_seconds = ttl_seconds
        self.memory_size = memory_size
        self.clock = clock
        self._memory: OrderedDict[CacheKey, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()  # the event loop and pool threads both touch the LRU

    @staticmethod
    def key(*, version: str, endpoint: str, model_sha256: str, input_json: str) -> CacheKey:
        digest = hashlib.sha256(input_json.encode()).hexdigest()
        return CacheKey(version=version, endpoint=endpoint, model_sha256=model_sha256, input_digest=digest)

    def get_memory(self, key: CacheKey) -> dict[str, Any] | None:
        """Non-blocking: safe on the event loop."""
        with self._lock:
            item = self._memory.get(key)
            if item is not None and item[0] > self.clock():
                self._memory.move_to_end(key)
                _MEMORY_HIT.inc()
                return item[1]
            if item is not None:
                del self._memory[key]
        _MEMORY_MISS.inc()
        return None

    def get_persisted(self, key: CacheKey) -> dict[str, Any] | None:
        """Blocking (storage I/O): call from a worker thread. A hit is promoted to the LRU.

        A failing store is a miss, not a failed request: the cache is an optimisation.
        """
        try:
            value = self.persisted.get(key)
        except Exception:
            _STORE_ERROR.inc()
            logger.exception("prediction cache read failed; treating it as a miss")
            return None
        (_STORE_MISS if value is None else _STORE_HIT).inc()
        if value is not None:
            self.remember(key, value)
        return value

    def put(self, key: CacheKey, value: dict[str, Any]) -> None:
        """Blocking: both layers."""
        self.remember(key, value)
        self.put_persisted(key, value)

    def put_persisted(self, key: CacheKey, value: dict[str, Any]) -> None:
        """Blocking (storage I/O): for the write-behind thread."""
        self.persisted.put(key, value, self.ttl_seconds)

    def remember(self, key: CacheKey, value: dict[str, Any]) -> None:
        if self.memory_size <= 0:
            return
        with self._lock:
            self._memory[key] = (self.clock() + self.ttl_seconds, value)
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_size:
                self._memory.popitem(last=False)
