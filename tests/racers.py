"""Two racing calls on real threads, each with its own database connection (the race tests of
facilities and of changes to a live loan)."""

import threading
import time

from django.contrib.auth import get_user_model
from django.db import connection


class Racers:
    """Two worker threads, each with its own database connection kept across rounds, started
    together on a barrier for each round. Each call's outcome is kept, ("ok", its value) or
    ("error", the exception: the test's to judge), with its start and end, to show that the
    two overlapped."""

    def __init__(self):
        self._start = threading.Barrier(3)
        self._done = threading.Barrier(3)
        self._jobs = [None, None]
        self._results = [None, None]
        self._times = [None, None]
        self._local = threading.local()
        self._threads = [threading.Thread(target=self._work, args=(i,)) for i in (0, 1)]
        for thread in self._threads:
            thread.start()

    def _work(self, i):
        try:
            while True:
                self._start.wait(timeout=60)
                job = self._jobs[i]
                if job is None:
                    return
                started = time.monotonic()
                try:
                    self._results[i] = ("ok", job())
                except Exception as exc:  # the outcome is the test's to judge
                    self._results[i] = ("error", exc)
                self._times[i] = (started, time.monotonic())
                self._done.wait(timeout=60)
        finally:
            connection.close()

    def actor(self, pk):
        """The user, read once per thread (its permissions cached with it)."""
        if getattr(self._local, "actor", None) is None:
            self._local.actor = get_user_model().objects.get(pk=pk)
        return self._local.actor

    def start(self, first, second) -> None:
        """Both calls start; `results` waits for them."""
        self._jobs = [first, second]
        self._results = [None, None]
        self._times = [None, None]
        self._start.wait(timeout=60)

    def results(self) -> list[tuple]:
        """Each call's (kind, value, started, ended), once both have ended."""
        self._done.wait(timeout=120)
        return [(*result, *times) for result, times in zip(self._results, self._times, strict=True)]

    def race(self, first, second) -> list[tuple]:
        """Both calls, started together: each one's (kind, value)."""
        self.start(first, second)
        return [(kind, value) for kind, value, _started, _ended in self.results()]

    def stop(self):
        self._jobs = [None, None]
        self._start.wait(timeout=60)
        for thread in self._threads:
            thread.join(timeout=60)
