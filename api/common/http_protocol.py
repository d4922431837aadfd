"""uvicorn's httptools protocol, with its keep-alive timer cancelled however a connection ends.

uvicorn 0.54 arms a keep-alive timer after every response (`loop.call_later` on a bound method of the
protocol) and cancels it in `connection_lost` only when the connection closed cleanly. After a reset
(a client or proxy that closes with RST, as HAProxy does to idle connections) the timer keeps the
protocol, its transport and its last request's objects alive for `timeout_keep_alive` (5 s).
Measured in model serving under 700 short requests/s closed that way: ~3,000 such graphs alive at any
moment, so every full collection walked 55-90k objects and paused the event loop for 35-66 ms. The
same bug is reported against uvicorn's master (Soju06/codex-lb#2041 traced it to a production OOM).
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class ResetSafeHttpToolsProtocol(HttpToolsProtocol):
    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._unset_keepalive_if_required()
