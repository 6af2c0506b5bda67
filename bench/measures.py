"""The figures, each beside its floor. A measure returns rows for the report; it raises
Unavailable when the part it measures is not installed."""

import statistics
import time

import psycopg
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.http import gunicorn, wrk
from org.roles import Role


class Unavailable(Exception):
    pass


def _dsn() -> str:
    settings = connection.settings_dict
    return f"postgresql://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:" \
           f"{settings['PORT'] or 5432}/{settings['NAME']}"


def capture_sql(fn) -> list[str]:
    """The SQL statements a Django call runs, as executed (parameters interpolated)."""
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def sql_floor(statements: list[str], *, runs: int, timed) -> dict:
    """Replay statements through plain psycopg in one transaction per run."""
    with psycopg.connect(_dsn()) as conn:
        def once():
            with conn.transaction(), conn.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql.replace("%", "%%"))
                    if cursor.description:
                        cursor.fetchall()

        return timed(once, runs=runs)


def _row(figure, result, *, unit="ms", floor=None, floor_result=None, target="", note="",
         use_rps=False):
    row = {"figure": figure, "unit": unit, "median_ms": result.get("median_ms"),
           "p95_ms": result.get("p95_ms"), "rps": result.get("rps"), "target": target,
           "note": note}
    if floor_result:
        row.update(floor=floor, floor_median_ms=floor_result.get("median_ms"),
                   floor_p95_ms=floor_result.get("p95_ms"))
        if use_rps and floor_result.get("rps") and result.get("rps"):
            row["ratio"] = round(floor_result["rps"] / result["rps"], 2)
            row["note"] = (note + f" floor {floor_result['rps']:.0f} req/s").strip()
        elif floor_result.get("median_ms"):
            row["ratio"] = round(result["median_ms"] / floor_result["median_ms"], 2)
    return row


def _http(result) -> dict:
    return {"median_ms": round(result["p50_ms"], 3), "p95_ms": round(result["p95_ms"], 3),
            "rps": round(result["rps"], 1), "non2xx": result["non2xx"]}


def _seconds(smoke: bool) -> int:
    return 2 if smoke else 10


def _user_with_role(bank, role: str):
    from django.contrib.auth.models import User

    for (_branch_id, r), ids in bank.staff.items():
        if r == role:
            user = User.objects.get(pk=ids[0])
            return user, bank.tokens[user.username]
    raise Unavailable(f"no {role}")


# --- Figures --------------------------------------------------------------------------------

def bare_drf_endpoint(bank, *, smoke, timed):
    with gunicorn() as base:
        result = _http(wrk(base, path="/api/v1/health/", seconds=_seconds(smoke)))
    bank.timings["bare_drf_rps"] = result["rps"]
    bank.bare_drf = result
    return [_row("bare DRF endpoint (floor of every HTTP figure)", result,
                 note="gunicorn 4 sync workers, wrk c=8")]


def application_list_page(bank, *, smoke, timed):
    from rest_framework.test import APIRequestFactory, force_authenticate

    from applications.api import ApplicationListApi

    user, token = _user_with_role(bank, Role.RELATIONSHIP_MANAGER)
    factory = APIRequestFactory()

    def call():
        request = factory.get("/api/v1/applications/")
        force_authenticate(request, user=user)
        response = ApplicationListApi.as_view()(request)
        response.render()
        assert response.status_code == 200, response.status_code

    statements = capture_sql(call)
    floor = sql_floor(statements, runs=20 if smoke else 200, timed=timed)
    with gunicorn() as base:
        result = _http(wrk(base, path="/api/v1/applications/", token=token,
                           seconds=_seconds(smoke)))
    return [_row("staff application list, 25 rows (API)", result, floor="its SQL via psycopg",
                 floor_result=floor, note=f"{len(statements)} queries")]


STAGE_LOADERS: list = []
MEASURES = [bare_drf_endpoint, application_list_page]

__all__ = ["MEASURES", "STAGE_LOADERS", "Unavailable", "statistics", "time"]
