"""Liveness and readiness: /healthz answers without touching anything; /readyz answers 200
only while the database, Redis, the migrations and the storage are all fine, and fails fast."""

import time

import pytest
from django.db.migrations.executor import MigrationExecutor

from loanflow import health
from tests.hung import HungServer


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


def test_liveness_answers_without_touching_the_database(client):
    # No database access is allowed in this test: a query would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_a_probe_with_any_host_header_is_answered_not_refused(client, settings):
    settings.ALLOWED_HOSTS = ["loanflow.example.com"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200


@pytest.mark.django_db
def test_readiness_reports_each_dependency_ok(client, settings):
    assert settings.REDIS_URL, "the suite runs with Redis"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "storage": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readiness_fails_while_a_migration_is_pending(client, monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "RuntimeError: 1 migration(s) not applied"


@pytest.mark.django_db
def test_readiness_fails_when_the_documents_store_cannot_be_written(client, settings, tmp_path):
    from tests.stores import use_file_stores

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    use_file_stores(settings, tmp_path / "stores", documents=blocker / "documents")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] != "ok"


@pytest.mark.django_db
def test_readiness_answers_503_within_its_timeout_while_redis_hangs(client, settings, hung):
    settings.REDIS_URL = f"redis://127.0.0.1:{hung.port}/0"
    settings.REDIS_SOCKET_TIMEOUT = 30  # the probe's own deadline must cut it short
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"] == "timeout"
    assert checks["database"] == "ok"
    assert elapsed < settings.LOANFLOW_READINESS_TIMEOUT + 0.5


@pytest.mark.django_db
def test_readiness_can_also_ask_for_a_celery_worker_and_fails_fast_without_one(client, settings):
    from loanflow.celery import app

    app.control.purge()
    started = time.monotonic()
    response = client.get("/readyz?workers=1")
    assert time.monotonic() - started < settings.LOANFLOW_READINESS_TIMEOUT + 0.5
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] in {
        "timeout",
        "RuntimeError: no Celery worker answered",
    }
