"""A worker killed in the middle of a task (kill -9, an out-of-memory kill, a lost host) loses
nothing: the task was acknowledged late, so the broker hands it to another worker once the
visibility timeout (CELERY_VISIBILITY_TIMEOUT, ten minutes in production) has passed.

Real worker processes on a Redis database of their own, the timeout shortened to 3 seconds:
measured here, an idle worker picks the task up within one 10-second restore cycle of the
timeout (with kombu's default throttle, one look in ten, it took up to 100 s more)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_SECONDS = 3


@pytest.fixture
def broker_url():
    """A Redis database next to the suite's, emptied before and after."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    parts = urlsplit(settings.REDIS_URL)
    suite_db = int(parts.path.lstrip("/") or 0)
    url = urlunsplit(parts._replace(path=f"/{(suite_db - 1) % 16}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def start_worker(broker: str, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loanflow.settings",
        "REDIS_URL": broker,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    }
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "loanflow", "worker",
            "--pool", "solo", "--queues", "celery", "--hostname", f"{name}-{uuid.uuid4().hex[:8]}@%h",
            "--include", "tests.core.killed_worker_probe",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def lines(marker: Path) -> list[list[str]]:
    return [line.split() for line in marker.read_text().splitlines()] if marker.exists() else []


def test_a_task_held_by_a_killed_worker_is_redelivered_to_another_worker_after_the_visibility_timeout(
    broker_url, tmp_path
):
    marker = tmp_path / "probe.log"
    workers = {}
    try:
        for name in ("first", "second"):
            worker = start_worker(broker_url, name)
            workers[worker.pid] = worker
        Celery("probe", broker=broker_url).send_task(
            "tests.probe.hold_until_redelivered", args=[str(marker)], queue="celery"
        )
        assert wait_for(lambda: len(lines(marker)) == 1, 60), "no worker started the task"
        holder_pid, _, first_started = lines(marker)[0]
        # Killed while it holds the task, well before the visibility timeout: the other worker,
        # up and idle, finds the task on its periodic look at unacknowledged ones.
        holder = workers[int(holder_pid)]
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert wait_for(lambda: any(row[1] == "done" for row in lines(marker)), 60), lines(marker)
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)

    rows = lines(marker)
    assert [row[1] for row in rows] == ["started", "started", "done"]
    (other_pid,) = set(workers) - {int(holder_pid)}
    assert rows[1][0] == rows[2][0] == str(other_pid)
    redelivered_after = float(rows[1][2]) - float(first_started)
    # Not before the visibility timeout (it is the broker's redelivery, not a retry), and within
    # it plus one 10-second restore cycle (kombu's default throttle made that 100 s).
    assert VISIBILITY_SECONDS <= redelivered_after < VISIBILITY_SECONDS + 10 + 2, redelivered_after
