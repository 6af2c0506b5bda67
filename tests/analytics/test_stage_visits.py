"""Stage durations are recorded when each stage ends, in the transition's transaction."""

from datetime import timedelta

import pytest

from analytics.models import StageVisit
from analytics.services import (
    is_rework,
    stage_visit_record_transition,
    stage_visits_rebuild,
    stage_visits_recompute_business_time,
)
from applications.services import application_transition
from audit.services import audit_record
from tests import lifecycle
from tests.analytics.conftest import at

pytestmark = pytest.mark.django_db


def test_it_closes_the_open_visit_and_opens_the_next(make_app, staff):
    app = make_app("submitted", route_recommendation="standard")
    friday_4pm, monday_10am = at(20, 16), at(23, 10)
    stage_visit_record_transition(
        application=app,
        transition="submit",
        from_state="draft",
        to_state="submitted",
        actor=staff["rm"],
        at=friday_4pm,
    )
    closed = stage_visit_record_transition(
        application=app,
        transition="start_investigation",
        from_state="submitted",
        to_state="investigation",
        actor=staff["rm"],
        actor_role="relationship_manager",
        at=monday_10am,
    )
    assert closed.stage == "submitted"
    assert closed.calendar_seconds == 66 * 3600
    # 16:00-17:00 on Friday and 09:00-10:00 on Monday (default hours 09:00-17:00).
    assert (closed.business_seconds, closed.business_time_exact) == (2 * 3600, True)
    assert (closed.actor, closed.actor_role, closed.outcome) == (
        staff["rm"],
        "relationship_manager",
        "investigation",
    )
    assert (closed.route, closed.branch_id, closed.is_rework) == ("standard", app.branch_id, False)
    assert closed.relationship_manager_id == app.relationship_manager_id is not None
    open_visits = StageVisit.objects.filter(application=app, left_at__isnull=True)
    assert [(v.stage, v.entered_at) for v in open_visits] == [("investigation", monday_10am)]


def test_a_visit_keeps_the_relationship_manager_who_held_the_case_when_its_stage_ended(
    make_app, staff
):
    from tests.factories import make_staff

    app = make_app("submitted")
    first_rm = app.relationship_manager
    stage_visit_record_transition(
        application=app, transition="submit", from_state="draft", to_state="submitted", at=at(20)
    )
    app.relationship_manager = make_staff("relationship_manager", app.branch)
    app.save(update_fields=["relationship_manager"])
    stage_visit_record_transition(
        application=app,
        transition="start_investigation",
        from_state="submitted",
        to_state="investigation",
        at=at(23),
    )
    visits = StageVisit.objects.filter(application=app)
    assert first_rm != app.relationship_manager
    # The draft ended under the first RM; the submitted stage ended after the case moved.
    assert dict(visits.values_list("stage", "relationship_manager_id")) == {
        "draft": first_rm.pk,
        "submitted": app.relationship_manager_id,
        "investigation": app.relationship_manager_id,
    }


def test_business_time_from_a_cached_calendar_costs_no_round_trip(django_assert_num_queries):
    from analytics.services import business_seconds
    from sla.calendar import calendar_changed, get_calendar

    calendar_changed()
    # The first stage to end loads the calendar; once it is cached, a stage's business time
    # reads nothing.
    with django_assert_num_queries(2):  # hours, days
        assert business_seconds(at(20, 16), at(23, 10)) == 2 * 3600
    assert get_calendar("CN") is not None
    with django_assert_num_queries(0):
        assert business_seconds(at(20, 16), at(23, 10)) == 2 * 3600


def test_returns_and_information_requests_are_rework():
    assert is_rework("investigation", "info_requested")
    assert is_rework("in_approval", "investigation")
    assert not is_rework("investigation", "in_approval")
    assert not is_rework("info_requested", "investigation")  # resuming is not rework
    assert not is_rework("in_approval", "approved")


def test_final_states_and_disbursement_open_no_visit(make_app, staff):
    app = make_app("in_approval")
    stage_visit_record_transition(
        application=app,
        transition="send_to_approval",
        from_state="investigation",
        to_state="in_approval",
        at=at(3),
    )
    stage_visit_record_transition(
        application=app,
        transition="decline",
        from_state="in_approval",
        to_state="declined",
        at=at(4),
    )
    assert not StageVisit.objects.filter(application=app, left_at__isnull=True).exists()
    declined = StageVisit.objects.get(application=app, stage="in_approval")
    assert (declined.outcome, declined.is_rework) == ("declined", False)


def test_a_stage_without_an_open_visit_starts_at_the_previous_transition(make_app, staff):
    app = make_app("investigation")
    event = audit_record(
        action="start_investigation",
        actor=staff["rm"],
        application=app,
        from_state="submitted",
        to_state="investigation",
    )
    closed = stage_visit_record_transition(
        application=app,
        transition="send_to_approval",
        from_state="investigation",
        to_state="in_approval",
        at=event.at + timedelta(hours=3),
    )
    assert closed.entered_at == event.at
    assert closed.calendar_seconds == 3 * 3600


def test_walking_an_application_records_each_stage(api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    application_transition(
        application_id=pk,
        transition="request_information",
        actor=staff["rm"],
        comment="Need the 2025 tax return",
    )
    application_transition(application_id=pk, transition="resume", actor=staff["rm"])
    visits = list(
        StageVisit.objects.filter(application_id=pk)
        .order_by("entered_at", "id")
        .values_list("stage", "outcome", "is_rework", "left_at")
    )
    assert [v[:3] for v in visits] == [
        ("draft", "submitted", False),
        ("submitted", "investigation", False),
        ("investigation", "info_requested", True),
        ("info_requested", "investigation", False),
        ("investigation", "", False),
    ]
    assert visits[-1][3] is None
    assert all(v[3] is not None for v in visits[:-1])


def test_a_transition_rolled_back_after_the_visit_was_recorded_leaves_no_visit(
    api, staff, company, product, monkeypatch
):
    from applications import effects
    from common.errors import Conflict

    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    before = list(StageVisit.objects.filter(application_id=pk).values_list("stage", "left_at"))
    record = effects.stage_visit_record_transition

    def record_then_fail(**kwargs):
        record(**kwargs)
        raise Conflict("something after the visit refuses")

    monkeypatch.setattr(effects, "stage_visit_record_transition", record_then_fail)
    with pytest.raises(Conflict):
        application_transition(
            application_id=pk, transition="start_investigation", actor=staff["rm"]
        )
    after = list(StageVisit.objects.filter(application_id=pk).values_list("stage", "left_at"))
    assert after == before
    assert StageVisit.objects.get(application_id=pk, left_at__isnull=True).stage == "submitted"


_TO_APPROVAL = [
    ("submit", "draft", "submitted", at(2, 10)),
    ("start_investigation", "submitted", "investigation", at(2, 12)),
    ("request_information", "investigation", "info_requested", at(2, 15)),
    ("resume", "info_requested", "investigation", at(3, 10)),
    ("send_to_approval", "investigation", "in_approval", at(4, 10)),
]


def _back_dated_trail(app, actor, moves) -> None:
    """Back-dated audit rows of the application's transitions, as seed_demo writes them (as
    the database's owner, which may keep their dates)."""
    from audit.models import AuditEvent
    from audit.services import audit_history_import

    with audit_history_import():
        for action, src, dst, when in moves:
            AuditEvent.objects.create(
                at=when,
                action=action,
                actor=actor,
                actor_role="relationship_manager",
                application=app,
                from_state=src,
                to_state=dst,
            )


def test_visits_can_be_rebuilt_from_the_audit_trail(make_app, staff):
    app = make_app("in_approval")
    _back_dated_trail(app, staff["rm"], _TO_APPROVAL)
    written = stage_visits_rebuild(application_ids=[app.pk])
    visits = list(StageVisit.objects.filter(application=app).order_by("entered_at", "id"))
    assert written == len(visits) == 6
    assert [v.stage for v in visits] == [
        "draft",
        "submitted",
        "investigation",
        "info_requested",
        "investigation",
        "in_approval",
    ]
    assert visits[2].is_rework and not visits[1].is_rework
    assert visits[-1].left_at is None
    assert {v.relationship_manager_id for v in visits} == {app.relationship_manager_id}
    # Idempotent: a second rebuild replaces, never duplicates.
    stage_visits_rebuild(application_ids=[app.pk])
    assert StageVisit.objects.filter(application=app).count() == 6


def _visit_without_business_time(app) -> StageVisit:
    """Friday 16:00 to Monday 10:00, recorded while no business calendar was available."""
    return StageVisit.objects.create(
        application=app,
        stage="submitted",
        entered_at=at(20, 16),
        left_at=at(23, 10),
        calendar_seconds=66 * 3600,
        business_seconds=66 * 3600,
        business_time_exact=False,
        branch_id=app.branch_id,
        product_id=app.product_id,
    )


def test_business_time_is_recomputed_for_visits_recorded_without_a_calendar(make_app):
    visit = _visit_without_business_time(make_app("investigation"))
    assert stage_visits_recompute_business_time() == 1
    visit.refresh_from_db()
    assert (visit.business_seconds, visit.business_time_exact) == (2 * 3600, True)


def test_the_backfill_command_rebuilds_visits_from_the_audit_trail(make_app, staff):
    from django.core.management import call_command

    app = make_app("investigation")
    _back_dated_trail(
        app,
        staff["rm"],
        [
            ("submit", "draft", "submitted", at(2, 10)),
            ("start_investigation", "submitted", "investigation", at(2, 15)),
        ],
    )
    call_command("analytics_backfill", "--rebuild")
    stages = list(
        StageVisit.objects.filter(application=app)
        .order_by("entered_at", "id")
        .values_list("stage", "calendar_seconds")
    )
    assert stages[1:] == [("submitted", 5 * 3600), ("investigation", None)]


def test_closing_a_visit_records_when_the_application_last_left_that_stage(make_app, staff):
    app = make_app("investigation")
    moves = [
        ("start_investigation", "submitted", "investigation", at(2, 10)),
        ("request_information", "investigation", "info_requested", at(2, 15)),
        ("resume", "info_requested", "investigation", at(3, 10)),
        ("send_to_approval", "investigation", "in_approval", at(3, 16)),
        ("return_to_investigation", "in_approval", "investigation", at(4, 10)),
        ("send_to_approval", "investigation", "in_approval", at(5, 10)),
    ]
    closed = [
        stage_visit_record_transition(
            application=app, transition=t, from_state=src, to_state=dst, actor=staff["rm"], at=when
        )
        for t, src, dst, when in moves
    ]
    first, second, third = (v for v in closed if v.stage == "investigation")
    assert (first.previous_left_at, first.previous_rework_left_at) == (None, None)
    # The first investigation visit ended in rework (information requested).
    assert (second.previous_left_at, second.previous_rework_left_at) == (at(2, 15), at(2, 15))
    assert (third.previous_left_at, third.previous_rework_left_at) == (at(3, 16), at(2, 15))
    assert StageVisit.objects.get(pk=third.pk).previous_left_at == at(3, 16)
    # Over all its stages: the visit that ended just before, and the last rework visit.
    assert [
        (v.application_previous_left_at, v.application_previous_rework_left_at) for v in closed
    ] == _independent_previous(closed)
    stored = StageVisit.objects.get(pk=third.pk)
    # Before the third investigation visit, approval sent the application back (rework).
    assert (stored.application_previous_left_at, stored.application_previous_rework_left_at) == (
        at(4, 10),
        at(4, 10),
    )


def _independent_previous(visits) -> list[tuple]:
    """Each visit's application-wide previous left and rework left, walked in order of
    ending."""
    out, last, last_rework = [], None, None
    for visit in sorted(visits, key=lambda v: v.left_at):
        out.append((last, last_rework))
        last = visit.left_at
        if visit.is_rework:
            last_rework = visit.left_at
    return out


def test_rebuilt_visits_know_their_previous_visit_of_the_stage(make_app, staff):
    app = make_app("in_approval")
    _back_dated_trail(
        app,
        staff["rm"],
        _TO_APPROVAL
        + [
            ("return_to_investigation", "in_approval", "investigation", at(5, 10)),
            ("send_to_approval", "investigation", "in_approval", at(6, 10)),
        ],
    )
    stage_visits_rebuild(application_ids=[app.pk])
    investigation = list(
        StageVisit.objects.filter(application=app, stage="investigation")
        .order_by("entered_at")
        .values_list("previous_left_at", "previous_rework_left_at")
    )
    assert investigation == [(None, None), (at(2, 15), at(2, 15)), (at(4, 10), at(2, 15))]
    approval = list(
        StageVisit.objects.filter(
            application=app, stage="in_approval", left_at__isnull=False
        ).values_list("previous_left_at", "previous_rework_left_at", "is_rework")
    )
    assert approval == [(None, None, True)]
    rebuilt = list(
        StageVisit.objects.filter(application=app, left_at__isnull=False).order_by("left_at")
    )
    assert [
        (v.application_previous_left_at, v.application_previous_rework_left_at) for v in rebuilt
    ] == _independent_previous(rebuilt)
    assert any(v.application_previous_rework_left_at for v in rebuilt)


def test_the_migration_fills_in_each_visits_previous_visit_of_any_stage(make_app):
    from importlib import import_module

    from django.db import connection

    backfill = import_module("analytics.migrations.0008_visit_application_previous").BACKFILL
    app = make_app("in_approval")
    common = {"application": app, "branch_id": app.branch_id, "product_id": app.product_id}
    for stage, hours, rework in [
        ("submitted", 1, False),
        ("investigation", 3, True),
        ("info_requested", 6, False),
        ("investigation", 9, False),
    ]:
        StageVisit.objects.create(
            stage=stage,
            entered_at=at(2),
            is_rework=rework,
            left_at=at(2) + timedelta(hours=hours),
            **common,
        )
    StageVisit.objects.create(stage="in_approval", entered_at=at(3), **common)
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    ended = list(StageVisit.objects.filter(application=app, left_at__isnull=False))
    assert [
        (v.application_previous_left_at, v.application_previous_rework_left_at)
        for v in sorted(ended, key=lambda v: v.left_at)
    ] == _independent_previous(ended)
    h = [at(2) + timedelta(hours=n) for n in (1, 3, 6)]
    assert _independent_previous(ended) == [(None, None), (h[0], None), (h[1], h[1]), (h[2], h[1])]
    open_visit = StageVisit.objects.get(application=app, left_at__isnull=True)
    assert (open_visit.application_previous_left_at, open_visit.previous_left_at) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_recorded_visit_its_applications_relationship_manager(make_app):
    from tests.migrating import migrate, migrate_to_latest

    apps = [make_app("in_approval"), make_app("submitted")]
    old = migrate([("analytics", "0009_visit_left_by_actor")])
    try:
        OldVisit = old.get_model("analytics", "StageVisit")
        for app in apps:
            for stage, left in (("submitted", at(2)), ("investigation", None)):
                OldVisit.objects.create(
                    application_id=app.pk,
                    stage=stage,
                    entered_at=at(1),
                    left_at=left,
                    branch_id=app.branch_id,
                    product_id=app.product_id,
                )
    finally:
        migrate_to_latest()
    assert sorted(
        StageVisit.objects.values_list("application_id", "stage", "relationship_manager_id")
    ) == sorted(
        (app.pk, stage, app.relationship_manager_id)
        for app in apps
        for stage in ("submitted", "investigation")
    )


def test_the_migration_fills_in_previous_visits_of_existing_rows(make_app):
    from importlib import import_module

    from django.db import connection

    backfill = import_module("analytics.migrations.0002_visit_figure_columns").BACKFILL
    app = make_app("in_approval")
    common = {"application": app, "branch_id": app.branch_id, "product_id": app.product_id}
    for hours, rework in [(2, True), (5, False), (9, True), (12, False)]:
        StageVisit.objects.create(
            stage="investigation",
            entered_at=at(2),
            is_rework=rework,
            left_at=at(2) + timedelta(hours=hours),
            **common,
        )
    StageVisit.objects.create(stage="in_approval", entered_at=at(3), **common)
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    rows = list(
        StageVisit.objects.filter(application=app)
        .order_by("stage", "left_at")
        .values_list("stage", "previous_left_at", "previous_rework_left_at")
    )
    h = [at(2) + timedelta(hours=n) for n in (2, 5, 9)]
    assert rows == [
        ("in_approval", None, None),
        ("investigation", None, None),
        ("investigation", h[0], h[0]),
        ("investigation", h[1], h[0]),
        ("investigation", h[2], h[2]),
    ]


def test_the_database_keeps_each_visits_duration_buckets_as_the_histogram_computes_them(make_app):
    from analytics.stats import bucket_of

    app = make_app("investigation")
    durations = [0, 1, 2, 3, 59, 3600, 3601, 86_399, 7 * 86_400, 400 * 86_400]
    StageVisit.objects.bulk_create(
        [
            StageVisit(
                application=app,
                stage="submitted",
                entered_at=at(20, 9),
                left_at=at(20, 9) + timedelta(seconds=seconds),
                calendar_seconds=seconds,
                business_seconds=seconds // 3,
                business_time_exact=True,
                branch_id=app.branch_id,
                product_id=app.product_id,
            )
            for seconds in durations
        ]
    )
    rows = (
        StageVisit.objects.filter(application=app, left_at__isnull=False)
        .order_by("calendar_seconds")
        .values_list("calendar_seconds", "calendar_bucket", "business_seconds", "business_bucket")
    )
    assert [tuple(row) for row in rows] == [
        (s, bucket_of(s), s // 3, bucket_of(s // 3)) for s in durations
    ]


def test_a_recomputed_business_time_moves_the_visit_to_its_new_bucket(make_app):
    from analytics.stats import bucket_of

    visit = _visit_without_business_time(make_app("investigation"))
    stage_visits_recompute_business_time()
    visit.refresh_from_db()
    assert visit.business_bucket == bucket_of(2 * 3600) != bucket_of(66 * 3600)


def test_the_figures_read_durations_and_buckets_from_the_covering_index_alone(make_app, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import selectors as figures

    make_app("investigation")
    f = figures.analytics_filters(user=staff["risk"], params={})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be read whole
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # The scorecard's narrower index lacks the buckets; on a table this small, with no
        # page known to be all-visible, the planner may read it and the heap, as it would
        # never do over a real table (dropped in this test's transaction only).
        cursor.execute("DROP INDEX visit_left_by_actor")
    with CaptureQueriesContext(connection) as captured:
        figures.analytics_stages(user=staff["risk"], f=f)
    sql = max((q["sql"] for q in captured.captured_queries), key=len)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Read from the index (its condition holds the measured stages, so no entry is tested for
    # its stage), and no logarithm computed per visit.
    assert "Index Only Scan using visit_left_cover" in plan, plan
    assert "Filter" not in plan and "ln(" not in plan, plan


def test_closing_a_visit_reads_it_locked_in_one_statement_and_writes_only_what_closing_sets(
    make_app, staff, django_assert_max_num_queries
):
    import re

    from analytics.services import _CLOSED_FIELDS

    app = make_app("submitted")
    stage_visit_record_transition(
        application=app,
        transition="submit",
        from_state="draft",
        to_state="submitted",
        actor=staff["rm"],
        at=at(20, 16),
    )
    with django_assert_max_num_queries(3) as ctx:  # read, close, open the next
        stage_visit_record_transition(
            application=app,
            transition="start_investigation",
            from_state="submitted",
            to_state="investigation",
            actor=staff["rm"],
            at=at(23, 10),
        )
    read, update, insert = (q["sql"] for q in ctx.captured_queries)
    assert read.startswith("SELECT") and update.startswith("UPDATE")
    assert insert.startswith("INSERT")
    assert read.endswith("FOR UPDATE")
    written = set(re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0]))
    assert written == {StageVisit._meta.get_field(name).column for name in _CLOSED_FIELDS}


def test_the_scorecards_visits_by_stage_and_actor_read_the_narrow_index_alone(make_app, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import selectors as figures

    make_app("investigation")
    f = figures.analytics_filters(user=staff["risk"], params={})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # Without the wide covering index (this test's transaction rolls the drop back): on
        # a nearly empty table the planner may take either, and the point is that the narrow
        # one alone holds every column the grouping reads.
        cursor.execute("DROP INDEX visit_left_cover")
    with CaptureQueriesContext(connection) as captured:
        figures.visits_by_stage_and_actor(user=staff["risk"], f=f, computed={})
    (sql,) = (q["sql"] for q in captured.captured_queries if "analytics_stagevisit" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using visit_left_by_actor" in plan, plan
