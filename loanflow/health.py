"""Health endpoints for load balancers, compose and the image's HEALTHCHECK.

- `/healthz` (liveness): the process answers; touches nothing. A failure means restart it.
- `/readyz` (readiness): PostgreSQL answers, no migration is pending, Redis (broker and cache,
  when configured) answers, the storage folders are writable. A failure means send no traffic
  here for now; restarting would not help. `?workers=1` also asks the Celery workers to answer
  (optional: a busy worker must not take the web out of the load balancer).
- `/api/v1/health/` (the API's liveness, kept for clients and the benchmark's bare endpoint).

Both probes are answered by a middleware placed first, before host validation, the HTTPS
redirect and the session: a probe sends whatever Host header it likes over plain HTTP.
Readiness runs its checks in threads and answers after LOANFLOW_READINESS_TIMEOUT seconds at
most, whichever dependency hangs: a check still running then counts as failed.
"""

import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


class HealthApi(APIView):
    """Liveness: answers without touching the database (load balancers, compose health
    checks, and the benchmark's floor for a bare DRF endpoint)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("Health", {"status": serializers.CharField()}))
    def get(self, request):
        return Response({"status": "ok"})


# Once no migration is pending, none will be until the code changes (a new process).
_migrations_applied = False


def check_database() -> None:
    global _migrations_applied
    from django.db.migrations.executor import MigrationExecutor

    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_applied:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if plan:
                raise RuntimeError(f"{len(plan)} migration(s) not applied")
            _migrations_applied = True
    finally:
        # This thread's own connection: never left open for the next probe to find hung.
        connection.close()


def _redis_ping(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()


def check_redis() -> None:
    for url in {settings.REDIS_URL, settings.CACHE_URL} - {""}:
        _redis_ping(url)


def check_storage() -> None:
    """Both file stores take a file (through the storage API: a local folder or S3)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    for alias in ("default", "documents"):
        store = storages[alias]
        name = store.save(f"readyz/{uuid.uuid4().hex}", ContentFile(b"ok"))
        store.delete(name)


def check_workers() -> None:
    from loanflow.celery import app

    if not app.control.ping(timeout=min(1.0, settings.LOANFLOW_READINESS_TIMEOUT)):
        raise RuntimeError("no Celery worker answered")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "redis": check_redis,
    "storage": check_storage,
}


def run_checks(checks: dict[str, Callable[[], None]], timeout: float) -> dict[str, str]:
    """Each check in a daemon thread of its own; "ok", the error, or "timeout" after
    `timeout` seconds (the thread is left to finish on its own)."""
    results: dict[str, str] = {}

    def run(name: str, check: Callable[[], None]) -> None:
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {exc}"[:200]

    threads = [
        threading.Thread(target=run, args=(name, check), daemon=True, name=f"readyz-{name}")
        for name, check in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, "timeout") for name in checks}


def readiness(request) -> JsonResponse:
    checks = dict(CHECKS)
    if request.GET.get("workers"):
        checks["workers"] = check_workers
    results = run_checks(checks, settings.LOANFLOW_READINESS_TIMEOUT)
    ready = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


def liveness(request) -> JsonResponse:
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == LIVENESS_PATH:
            return liveness(request)
        if request.path_info == READINESS_PATH:
            return readiness(request)
        return self.get_response(request)
