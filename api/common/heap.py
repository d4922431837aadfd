"""A long-running process's start-up objects, kept out of the garbage collector's way.

What a service builds before it serves (modules, models, clients, Feast's registry) lives as long as the
process, yet each full collection walks all of it. Under load CPython runs one every few seconds, and on
the inbox each stopped the event loop for 31-82 ms: whole batches of messages late at once, the 16-client
p99's bursts (docs/benchmarks.md). `gc.freeze()` moves every object alive at that moment to a generation the
collector never walks; what is created afterwards is collected as before.
"""

import gc


def freeze_start_up_heap() -> None:
    """Call once start-up is done, just before serving. Collecting first keeps start-up garbage out of it."""
    gc.collect()
    gc.freeze()
