"""Timeouts that bound a hung dependency come from the environment; the statement timeout
applies to the web process (gunicorn.conf.py) only, never to migrations, beat or workers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
import runpy, sys
if sys.argv[1] == "web":
    runpy.run_path("gunicorn.conf.py")
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    print(cursor.fetchone()[0])
"""


def in_fresh_process(code: str, *args: str, **environ: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loanflow.settings"}
    env.pop("DATABASE_STATEMENT_TIMEOUT", None)
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def setting(expression: str, **environ: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return in_fresh_process(code, **environ)


def test_the_database_connect_timeout_is_read_from_the_environment_and_defaults_to_3_seconds():
    expression = "settings.DATABASES['default']['OPTIONS']['connect_timeout']"
    assert setting(expression) == "3"
    assert setting(expression, DATABASE_CONNECT_TIMEOUT="5") == "5"


def test_the_broker_and_the_cache_give_up_on_a_silent_redis_after_the_configured_seconds():
    broker = "settings.CELERY_BROKER_TRANSPORT_OPTIONS"
    cache = "settings.CACHES['default']['OPTIONS']"
    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "CACHE_URL": "redis://127.0.0.1:6379/12",
        "REDIS_CONNECT_TIMEOUT": "4",
        "REDIS_SOCKET_TIMEOUT": "7",
    }
    for expression in (broker, cache):
        value = setting(
            f"({expression}['socket_connect_timeout'], {expression}['socket_timeout'])", **env
        )
        assert value == "(4, 7)"


@pytest.mark.django_db
def test_only_the_web_process_runs_with_a_statement_timeout():
    database = {"DATABASE_URL": _database_url()}
    assert in_fresh_process(SHOW, "web", **database) == "25s"
    assert in_fresh_process(SHOW, "web", GUNICORN_TIMEOUT="60", **database) == "55s"
    # manage.py, the Celery workers and beat: no statement timeout.
    assert in_fresh_process(SHOW, "other", **database) == "0"
    # An explicit value wins, for any process.
    assert (
        in_fresh_process(SHOW, "other", DATABASE_STATEMENT_TIMEOUT="1500", **database) == "1500ms"
    )


def _database_url() -> str:
    conf = connection.settings_dict
    return f"postgres://{conf['USER']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"
