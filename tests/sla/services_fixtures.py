"""Real services for fault tests: a private redis-server and a Celery worker process, each on
its own spare port / against the pytest database, so stopping them disturbs nothing else."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def test_database_url() -> str:
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


class WorkerProcess:
    def __init__(self, *, redis_url: str, var_dir: Path, extra_env: dict | None = None):
        self.redis_url, self.var_dir = redis_url, var_dir
        self.extra_env = extra_env or {}
        self.log = var_dir / f"worker-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": self.redis_url,
            "LOANFLOW_VAR_DIR": str(self.var_dir),
            "DATABASE_CONN_MAX_AGE": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "loanflow",
                "worker",
                "-P",
                "solo",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-n",
                f"fault-{self.log.stem}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("worker did not start:\n" + self.log.read_text(errors="replace"))

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def app_using_broker(url: str):
    """Point this process's Celery app at `url` (and back afterwards)."""
    from loanflow.celery import app

    def reset():
        from kombu import pools

        # Close and forget every cached connection/producer pool (a dead broker's pool may
        # not close cleanly).
        with contextlib.suppress(Exception):
            pools.reset()
        app._pool = None
        if hasattr(app._local, "backend"):
            del app._local.backend
        app.amqp._producer_pool = None

    old = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    app.conf.broker_url = url
    app.conf.broker_transport_options = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "max_retries": 1,
        "visibility_timeout": 3600,
    }
    app.conf.task_always_eager = False
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = old
        reset()


def wait_for(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
