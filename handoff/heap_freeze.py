"""Keeps Python's full garbage collections short in long-running servers with a big start-up heap.

A Rasa server holds millions of objects once its model is loaded (TensorFlow, the NLU pipeline,
the domain). CPython walks all of them in every full (generation 2) collection, and under load
those came every few seconds and stopped the event loop for hundreds of milliseconds (figures in
docs/benchmarks.md): every message in flight waited, so a relay's tail latency hinged on whether a
collection fell into the run.
Frozen objects (`gc.freeze`) are never walked again; objects made later still are, so cycles
created while serving are collected as before. Start-up objects live for the whole process
anyway, so freezing them costs nothing but the memory they already use.
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)

_frozen = False


def freeze_startup_heap() -> None:
    """Collects once, then freezes what is left; later calls in the same process do nothing."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info("froze %d start-up objects out of garbage collection (took %.0f ms)",
                gc.get_freeze_count(), (time.perf_counter() - started) * 1000)
