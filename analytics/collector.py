"""Pausing Python's cyclic garbage collector around work that allocates a great many objects
while keeping them alive: a PDF render (common.pdf), an analytics figure reading tens of
thousands of grouped rows (analytics.selectors). Left running, the collector walks those live
objects again at every collection, and now and then the whole process's heap; paused, reference
counting still frees what the work drops, and collections resume after it."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (or, as a decorator, the function),
    and resume it after, even when the block fails. Left alone if something else had paused
    it (that caller resumes it). The switch is process-wide: another thread working at the
    same time may find it resumed before its own work ends, which costs it only the
    collections it would have run."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
