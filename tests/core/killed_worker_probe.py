"""A task for tests/core/test_killed_worker.py, loaded only by the worker processes that test
starts (celery --include): it is never registered in the product's workers or in the suite.

Each run appends "<pid> started" to its file; the first run then holds the task (as a worker
stuck in an SMTP call or a render would), a redelivered run finishes at once."""

import os
import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.probe.hold_until_redelivered", acks_late=True, ignore_result=True)
def hold_until_redelivered(path: str) -> None:
    marker = Path(path)
    first_run = not marker.exists()
    with marker.open("a") as f:
        f.write(f"{os.getpid()} started {time.time()}\n")
    if first_run:
        time.sleep(120)
    with marker.open("a") as f:
        f.write(f"{os.getpid()} done {time.time()}\n")
