"""The figures, each beside its floor. A measure returns rows for the report; it raises
Unavailable when the part it measures is not installed."""

import time

import psycopg
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import stages
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


def _approver(bank):
    """A branch approver whose branch has open tasks, with a token."""
    from django.contrib.auth.models import User

    ids = getattr(bank, "task_ids", None)
    if not ids:
        raise Unavailable("no approval tasks loaded")
    branch = bank.branches[1:][(ids[0] - 1) % 20]
    pk = bank.staff[(branch.pk, Role.APPROVER)][0]
    user = User.objects.get(pk=pk)
    mine = [t for t in ids if (t - 1) % 20 == (ids[0] - 1) % 20]
    return user, bank.tokens[user.username], mine


def approval_queue_page(bank, *, smoke, timed):
    from rest_framework.test import APIRequestFactory, force_authenticate

    from approvals.api import QueueApi

    user, token, _mine = _approver(bank)
    factory = APIRequestFactory()

    def call():
        request = factory.get("/api/v1/approvals/queue/")
        force_authenticate(request, user=user)
        response = QueueApi.as_view()(request)
        response.render()
        assert response.status_code == 200, response.status_code

    statements = capture_sql(call)
    floor = sql_floor(statements, runs=20 if smoke else 300, timed=timed)
    with gunicorn() as base:
        result = _http(wrk(base, path="/api/v1/approvals/queue/", token=token,
                           seconds=_seconds(smoke)))
    return [_row("approver's queue page: 25 rows + counts (API)", result,
                 floor="its SQL via psycopg", floor_result=floor, target="p95 < 20 ms",
                 note=f"{len(statements)} queries, {bank.timings.get('open_approval_tasks')} "
                      "open tasks")]


def approval_claim(bank, *, smoke, timed):
    user, token, mine = _approver(bank)
    claim_ids, bank.decide_ids = mine[: len(mine) // 2], mine[len(mine) // 2:]

    floor_ids = iter(claim_ids[::-1])
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        def floor_once():
            conn.execute("UPDATE approvals_approvaltask SET status = 'claimed', "
                         "claimed_by_id = %s, claimed_at = now(), last_activity_at = now() "
                         "WHERE id = %s AND status = 'open'", [user.pk, next(floor_ids)])

        floor = timed(floor_once, runs=max(3, min(50, len(claim_ids) // 4)), warmup=0)
    with gunicorn() as base:
        result = _http(wrk(base, path="/api/v1/approvals/tasks/%d/claim/", method="POST",
                           body="{}", token=token, ids=claim_ids, seconds=_seconds(smoke)))
    return [_row("claim a queue task (API)", result,
                 floor="conditional UPDATE via psycopg", floor_result=floor,
                 note=f"non-2xx {result['non2xx']} (reused ids at small scale answer 409)")]


def approval_decision(bank, *, smoke, timed):
    ids = getattr(bank, "decide_ids", None)
    if not ids:
        raise Unavailable("run approval_claim first")
    user, token, mine = _approver(bank)
    # The floor works on tasks outside the approver's branch, the API on the approver's own.
    others = [pk for pk in bank.task_ids if pk not in set(mine)]
    floor_ids = iter(others)
    http_ids = ids

    with psycopg.connect(_dsn()) as conn:
        def once():
            pk = next(floor_ids)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT id, status FROM approvals_approvaltask WHERE id = %s "
                            "FOR UPDATE", [pk])
                cur.execute("SELECT id, status FROM applications_loanapplication "
                            "WHERE id = %s FOR UPDATE", [pk])
                cur.execute("UPDATE approvals_approvaltask SET status = 'done', "
                            "decision = 'approve', decided_by_id = %s, decided_at = now() "
                            "WHERE id = %s", [user.pk, pk])
                cur.execute("UPDATE applications_loanapplication SET status = 'approved', "
                            "decided_at = now(), status_changed_at = now() "
                            "WHERE id = %s AND status = 'in_approval'", [pk])
                for action in ("step_approve", "approve"):
                    cur.execute("INSERT INTO audit_auditevent (at, kind, application_id, "
                                "actor_id, actor_role, action, from_state, to_state, comment, "
                                "data, subject_type) VALUES (now(), 'transition', %s, %s, "
                                "'approver', %s, 'in_approval', 'approved', 'ok', '{}', '')",
                                [pk, user.pk, action])
                cur.execute("UPDATE sla_deadline SET status = 'stopped', stopped_at = now(), "
                            "next_fire_at = NULL WHERE subject_type = 'approvals.task' AND "
                            "subject_id = %s AND status <> 'stopped'", [pk])

        floor = timed(once, runs=min(200, len(others)), warmup=0)
    with gunicorn() as base:
        result = _http(wrk(base, path="/api/v1/approvals/tasks/%d/decide/", method="POST",
                           body='{"decision": "approve", "comment": "ok"}', token=token,
                           ids=http_ids, seconds=_seconds(smoke)))
    return [_row("approval decision: last step approves (API)", result,
                 floor="its statements in one transaction via psycopg", floor_result=floor,
                 target=">= 400 req/s, p95 < 30 ms",
                 note=f"non-2xx {result['non2xx']} (ids reused at small scale answer 409)")]


def sla_sweep(bank, *, smoke, timed):
    from sla.services import sla_sweep as sweep

    due = bank.timings.get("deadlines_due")
    if not due:
        raise Unavailable("no deadlines loaded")
    start = time.perf_counter()
    fired = sweep()
    with_due_ms = (time.perf_counter() - start) * 1000
    nothing = timed(sweep, runs=20 if smoke else 200)
    # Floor: the same claim-and-mark in plain SQL over the same number of due rows.
    with psycopg.connect(_dsn()) as conn:
        with conn.transaction():
            conn.execute("UPDATE sla_deadline SET next_fire_at = now() - interval '1 hour', "
                         "escalation_level = 0 WHERE id IN (SELECT id FROM sla_deadline "
                         "WHERE status = 'pending' ORDER BY id LIMIT %s)", [due])
        start = time.perf_counter()
        while True:
            with conn.transaction():
                rows = conn.execute(
                    "UPDATE sla_deadline d SET escalation_level = d.escalation_level + 1, "
                    "next_fire_at = NULL FROM (SELECT id FROM sla_deadline WHERE "
                    "status = 'pending' AND next_fire_at <= now() ORDER BY next_fire_at "
                    "LIMIT 1000 FOR UPDATE SKIP LOCKED) c WHERE d.id = c.id RETURNING d.id"
                ).fetchall()
                if rows:
                    conn.execute(
                        "INSERT INTO audit_auditevent (at, kind, actor_role, action, "
                        "from_state, to_state, comment, data, subject_type, subject_id) "
                        "SELECT now(), 'sla', 'system', 'escalation', '', '', '', '{}', "
                        "'sla.deadline', unnest(%s::bigint[])", [[r[0] for r in rows]])
            if not rows:
                break
        floor_due_ms = (time.perf_counter() - start) * 1000
        nothing_floor = timed(lambda: conn.execute(
            "SELECT id FROM sla_deadline WHERE status = 'pending' AND next_fire_at <= now() "
            "ORDER BY next_fire_at LIMIT 500").fetchall(), runs=200)
    return [
        _row("SLA sweep, nothing due", nothing, floor="index probe via psycopg",
             floor_result=nothing_floor, target="< 5 ms",
             note=f"{bank.timings.get('open_deadlines')} open deadlines"),
        {"figure": f"SLA sweep, {due} due (each fired once)", "unit": "ms",
         "median_ms": round(with_due_ms, 1), "p95_ms": None, "floor": "claim-and-mark SQL",
         "floor_median_ms": round(floor_due_ms, 1),
         "ratio": round(with_due_ms / floor_due_ms, 2) if floor_due_ms else None,
         "target": "within 3x of floor", "note": f"fired {fired}"},
    ]


def postloan_daily_job(bank, *, smoke, timed):
    from postloan.daily import daily_run

    if not bank.timings.get("active_loans"):
        raise Unavailable("no loans loaded")
    start = time.perf_counter()
    statements = capture_sql(daily_run)
    first_ms = (time.perf_counter() - start) * 1000
    again = timed(daily_run, runs=1 if not smoke else 2, warmup=0)
    writes = [s for s in statements if s.lstrip().upper().startswith(
        ("UPDATE", "INSERT", "WITH", "DELETE"))]
    floor = sql_floor(writes, runs=1, timed=timed)
    return [_row(f"post-loan daily job over {bank.timings['active_loans']} loans", again,
                 floor="its set-based statements via psycopg", floor_result=floor,
                 target="< 60 s", note=f"first run {first_ms:,.0f} ms; "
                 f"{len(statements)} statements")]


def analytics_figures(bank, *, smoke, timed):
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from analytics import selectors as figures

    if not bank.timings.get("stage_visits"):
        raise Unavailable("no stage visits loaded")
    user = User.objects.get(username=bank.head_office_user)
    today = timezone.localdate()
    f = figures.analytics_filters(user=user, params={
        "date_from": (today - timedelta(days=364)).isoformat(), "date_to": today.isoformat()})
    half = today - timedelta(days=182)
    calls = {
        "stages": lambda: figures.analytics_stages(user=user, f=f),
        "sla": lambda: figures.analytics_sla(user=user, f=f),
        "end-to-end": lambda: figures.analytics_end_to_end(user=user, f=f),
        "funnel": lambda: figures.analytics_funnel(user=user, f=f),
        "staff": lambda: figures.analytics_staff(user=user, f=f),
        "portfolio": lambda: figures.analytics_portfolio(user=user, f=f),
        "control-chart": lambda: figures.analytics_control_chart(user=user, f=f,
                                                                 stage="investigation"),
        "before-after": lambda: figures.analytics_before_after(
            user=user, f=f, before=(today - timedelta(days=364), half),
            after=(half + timedelta(days=1), today)),
    }
    rows = []
    for name, call in calls.items():
        statements = capture_sql(call)
        result = timed(call, runs=2 if smoke else 5)
        reads = [sql for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        floor = sql_floor(reads, runs=2 if smoke else 5, timed=timed)
        rows.append(_row(f"analytics: {name}, whole bank, 365 days", result,
                         floor="its SQL via psycopg", floor_result=floor, target="< 2 s",
                         note=f"{bank.timings.get('stage_visits')} stage visits, "
                              f"{len(statements)} queries"))
    return rows


def credit_memo(bank, *, smoke, timed):
    import re
    from html import unescape

    from weasyprint import HTML

    from applications.models import LoanApplication
    from investigation.memo import html_to_pdf
    from investigation.models import CreditMemo
    from investigation.services import investigation_open, memo_html

    application = LoanApplication.objects.filter(status="in_approval").first()
    investigation = investigation_open(application=application)
    rows = []
    for version, language in enumerate(("en", "zh-hans"), start=1):
        memo = CreditMemo.objects.create(application=application, investigation=investigation,
                                         version=version, language=language)
        html = memo_html(memo=memo)
        result = timed(lambda html=html: html_to_pdf(html), runs=2 if smoke else 5)
        text = unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"(?s)<style.*?</style>", "", html)))
        paragraphs = "".join(f"<p>{line.strip()}</p>" for line in text.splitlines()
                             if line.strip())
        plain = ('<html><head><style>body { font-family: "WenQuanYi Micro Hei", sans-serif; '
                 'font-size: 10pt }</style></head><body>' + paragraphs + "</body></html>")
        floor = timed(lambda plain=plain: HTML(string=plain).write_pdf(),
                      runs=2 if smoke else 5)
        rows.append(_row(f"credit memo PDF ({language})", result,
                         floor="WeasyPrint alone, plain page of the same text and font",
                         floor_result=floor, target="within 1.2x of floor"))
    return rows


STAGE_LOADERS = stages.LOADERS
MEASURES = [bare_drf_endpoint, application_list_page, approval_queue_page, approval_claim,
            approval_decision, sla_sweep, postloan_daily_job, analytics_figures, credit_memo]
