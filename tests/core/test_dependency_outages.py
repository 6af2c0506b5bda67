"""When PostgreSQL or Redis hangs (accepts connections and never answers, the worst case: a
stopped server at least refuses at once), requests fail fast with 503: JSON from the API, a
plain page from the UI, never an HTML 500 and never gunicorn's 30-second kill."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import api_for
from tests.hung import HungServer

ROOT = Path(__file__).resolve().parents[2]
CONNECT_TIMEOUT = 2  # libpq's floor


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes, float]:
    request = urllib.request.Request(url, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            status, head, body = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, dict(error.headers), error.read()
    return status, head, body, time.monotonic() - started


@pytest.fixture
def web_on_a_hung_database(hung, tmp_path, settings):
    """gunicorn (gunicorn.conf.py, one worker) whose DATABASE_URL points at a hung server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://loanflow@127.0.0.1:{hung.port}/loanflow",
        "DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_DEBUG": "false",
        "LOANFLOW_VAR_DIR": str(tmp_path),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py"], cwd=ROOT, env=env, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                fetch(f"{base}/healthz")
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def test_readiness_answers_503_within_two_seconds_while_postgresql_hangs(web_on_a_hung_database):
    status, _, body, elapsed = fetch(f"{web_on_a_hung_database}/readyz")
    assert status == 503
    assert json.loads(body)["checks"]["database"] == "timeout"
    assert elapsed < 2.5


def test_an_api_request_answers_a_json_503_soon_after_the_connect_timeout_while_postgresql_hangs(
    web_on_a_hung_database,
):
    status, head, body, elapsed = fetch(
        f"{web_on_a_hung_database}/api/v1/applications/",
        {"Authorization": "Token 0123456789abcdef", "Accept-Language": "zh-hans"},
    )
    assert status == 503
    assert head["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "detail": "服务暂时不可用，请稍后重试。",
        "code": "service_unavailable",
    }
    assert head["Retry-After"] == "30"
    assert elapsed < CONNECT_TIMEOUT + 1.5


def test_a_page_answers_a_plain_503_page_while_postgresql_hangs(web_on_a_hung_database):
    status, head, body, elapsed = fetch(
        f"{web_on_a_hung_database}/", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
    )
    assert status == 503
    assert head["Content-Type"].startswith("text/html")
    assert b"Service temporarily unavailable" in body
    assert elapsed < CONNECT_TIMEOUT + 1.5


@pytest.mark.django_db
def test_an_api_request_answers_503_when_the_redis_cache_hangs(staff, settings, hung):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{hung.port}/1",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    started = time.monotonic()
    # Head office's queue counts come from the shared cache.
    response = api_for(staff["risk"]).get(reverse("api-approvals-queue"))
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert time.monotonic() - started < 3
