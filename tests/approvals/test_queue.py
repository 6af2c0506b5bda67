"""The approver's queues: ordered by due time, counts, filters, search, fixed queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalTask
from org.roles import Role
from tests.approvals.locking import psycopg_dsn, status_while_application_locked
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def _fill(in_approval, n, **kwargs):
    return [in_approval(**kwargs) for _ in range(n)]


def test_the_queue_lists_my_roles_tasks_oldest_due_first_with_counts(
    matrix, in_approval, staff, api
):
    apps = _fill(in_approval, 3)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    ApprovalTask.objects.filter(pk=tasks[2].pk).update(due_at=timezone.now() - timedelta(hours=1))
    api(staff["reviewer"]).post(f"/api/v1/approvals/tasks/{tasks[1].pk}/claim/")
    data = api(staff["reviewer"]).get(reverse("api-approvals-queue")).data
    assert [row["id"] for row in data["results"]][0] == tasks[2].pk
    assert data["results"][0]["is_overdue"] is True
    assert data["counts"] == [{"role": "credit_reviewer", "total": 3, "open": 2, "claimed": 1,
                               "mine": 1, "overdue": 1}]
    # An approver has nothing yet (all tasks are at credit review).
    assert api(staff["approver"]).get(reverse("api-approvals-queue")).data["count"] == 0


def test_filters_and_search_narrow_the_queue(matrix, in_approval, staff, api):
    small = in_approval(amount="400000", grade="A")
    big = in_approval(amount="4000000", grade="C")
    client = api(staff["reviewer"])

    def ids(**params):
        return [r["application"] for r in
                client.get(reverse("api-approvals-queue"), params).data["results"]]

    assert ids(amount_min="1000000") == [big.pk]
    assert ids(amount_max="500000") == [small.pk]
    assert ids(grade="a") == [small.pk]
    assert ids(q=big.reference) == [big.pk]
    assert ids(q=small.company.name) == [small.pk]
    assert sorted(ids(product=small.product_id)) == sorted([small.pk, big.pk])
    assert ids(product=999999) == []
    assert ids(overdue="1") == []
    assert ids(branch=small.branch_id) and ids(branch=999999) == []


def test_staff_of_another_branch_do_not_see_the_tasks(matrix, in_approval, other_branch, api):
    in_approval()
    outsider = make_staff(Role.CREDIT_REVIEWER, other_branch, username="sam_shanghai")
    assert api(outsider).get(reverse("api-approvals-queue")).data["count"] == 0


def test_the_queue_page_costs_the_same_queries_for_1_or_25_rows(
    matrix, in_approval, staff, client, django_assert_num_queries,
    django_assert_max_num_queries
):
    client.force_login(staff["reviewer"])
    in_approval()
    client.get(reverse("approvals-queue"))  # warm caches (content types, session)
    with django_assert_max_num_queries(1000) as one:
        response = client.get(reverse("approvals-queue"))
    assert response.status_code == 200
    _fill(in_approval, 26)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("approvals-queue"))
    assert response.status_code == 200
    assert response.content.decode().count('data-task="') == 25


def test_the_queue_api_costs_the_same_queries_whatever_the_page_size(
    matrix, in_approval, staff, api, django_assert_num_queries, django_assert_max_num_queries
):
    _fill(in_approval, 6)
    client = api(staff["reviewer"])
    client.get(reverse("api-approvals-queue"))
    with django_assert_max_num_queries(1000) as small:
        assert len(client.get(reverse("api-approvals-queue"), {"page_size": 2})
                   .data["results"]) == 2
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(reverse("api-approvals-queue"), {"page_size": 6})
                   .data["results"]) == 6


def test_a_token_request_for_the_queue_runs_three_queries(
    matrix, in_approval, staff, django_assert_num_queries
):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    _fill(in_approval, 3)
    token = Token.objects.create(user=staff["reviewer"])
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    # The token with its user, profile, branch, roles and branch scope; the queue counts;
    # the page.
    with django_assert_num_queries(3):
        response = client.get(reverse("api-approvals-queue"))
    assert response.status_code == 200
    assert response.json()["count"] == 3 == len(response.json()["results"])


def _kept_counts():
    from django.db.models import Sum

    from approvals.models import QueueCount

    return {(row["role"], row["branch"], row["status"]): row["n"] for row in
            QueueCount.objects.values("role", "branch", "status").annotate(n=Sum("n"))
            if row["n"]}


def _live_counts():
    from django.db.models import Count

    return {(row["role"], row["branch"], row["status"]): row["n"] for row in
            ApprovalTask.objects.filter(status__in=ApprovalTask.OPEN_STATES)
            .values("role", "branch", "status").annotate(n=Count("id"))}


def test_the_kept_queue_counts_follow_every_change_of_a_task(
    matrix, in_approval, staff, api, other_branch
):
    apps = _fill(in_approval, 4)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    assert _kept_counts() == _live_counts() != {}
    client = api(staff["reviewer"])
    client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/")
    client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/claim/")
    client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/release/", {"comment": "later"})
    decided = client.post(f"/api/v1/approvals/tasks/{tasks[2].pk}/decide/",
                          {"decision": "approve", "comment": "ok"})
    assert decided.status_code == 200, decided.content
    assert _kept_counts() == _live_counts()
    # Bulk writes, a move to another branch and a delete are counted too (database triggers).
    ApprovalTask.objects.filter(pk=tasks[3].pk).update(branch=other_branch)
    ApprovalTask.objects.filter(pk__in=[tasks[0].pk, tasks[1].pk]).update(status="waiting")
    assert _kept_counts() == _live_counts()
    ApprovalTask.objects.filter(pk=tasks[1].pk).update(status="open")
    ApprovalTask.objects.filter(pk=tasks[3].pk).delete()
    assert _kept_counts() == _live_counts()
    reviewer_open = ApprovalTask.objects.filter(role="credit_reviewer", status="open").count()
    assert _kept_counts()[("credit_reviewer", tasks[1].branch_id, "open")] == reviewer_open


def test_the_whole_queue_is_sized_from_the_kept_counts_not_by_counting_its_rows(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    _fill(in_approval, 3)
    client = api(staff["reviewer"])
    with django_assert_max_num_queries(1000) as captured:
        data = client.get(reverse("api-approvals-queue")).data
    assert data["count"] == 3 == data["counts"][0]["total"]
    counting = [q["sql"] for q in captured.captured_queries
                if "COUNT(" in q["sql"].upper() and "due_at" not in q["sql"]
                and "claimed_by_id" not in q["sql"]]
    assert counting == []
    # A filtered page counts what the filter keeps.
    with django_assert_max_num_queries(1000) as captured:
        assert client.get(reverse("api-approvals-queue"), {"grade": "Z"}).data["count"] == 0
    assert any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def test_a_queue_row_is_what_the_generic_serializer_would_give(matrix, in_approval, staff, api):
    from rest_framework import serializers

    from approvals.api import TaskOutputSerializer
    from approvals.selectors import task_queue

    apps = _fill(in_approval, 3)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    api(staff["reviewer"]).post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/")
    api(staff["reviewer"]).post(f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/",
                                {"decision": "approve", "comment": "fine"})
    ApprovalTask.objects.filter(pk=tasks[2].pk).update(due_at=timezone.now() - timedelta(hours=2))
    now = timezone.now()
    rows = list(task_queue(user=staff["reviewer"])) + [
        ApprovalTask.objects.get(pk=tasks[1].pk)]
    assert {row.status for row in rows} >= {"open", "claimed", "done"}
    generic_rows = {}
    for task in rows:
        serializer = TaskOutputSerializer(task, context={"now": now})
        generic = serializers.ModelSerializer.to_representation(serializer, task)
        assert serializer.data == generic
        assert list(serializer.data) == TaskOutputSerializer.Meta.fields
        generic_rows[task.pk] = generic
    # The queue page builds its rows from plain values, not tasks: the same rows.
    page = api(staff["reviewer"]).get("/api/v1/approvals/queue/").json()["results"]
    assert len(page) == 2
    for row in page:
        assert row == generic_rows[row["id"]]
        assert list(row) == TaskOutputSerializer.Meta.fields


def test_a_queue_action_answers_with_the_tasks_row_as_it_is_now(
    matrix, in_approval, staff, api
):
    from django.utils import timezone as tz
    from rest_framework import serializers

    from approvals.api import TaskOutputSerializer

    apps = _fill(in_approval, 2)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    client = api(staff["reviewer"])

    def generic(pk):
        task = ApprovalTask.objects.get(pk=pk)
        serializer = TaskOutputSerializer(task, context={"now": tz.now()})
        return serializers.ModelSerializer.to_representation(serializer, task)

    claimed = client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/").json()
    assert claimed["status"] == "claimed" and claimed["claimed_by_username"] == "carol_reviewer"
    assert claimed == generic(tasks[0].pk)
    released = client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/release/",
                           {"comment": "later"}).json()
    assert released["status"] == "open" and released["claimed_by"] is None
    assert released == generic(tasks[0].pk)
    decided = client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/",
                          {"decision": "approve", "comment": "fine"}).json()
    assert decided["status"] == "done" and decided["decision"] == "approve"
    assert decided["decided_at"] and decided == generic(tasks[1].pk)


def test_a_claim_and_a_step_decision_run_a_bounded_number_of_queries(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    # The task is read once with what the checks and the next step need: nothing is loaded
    # lazily afterwards (a branch or a company read per action would show here).
    apps = [in_approval() for _ in range(2)]
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    client = api(staff["reviewer"])
    with django_assert_max_num_queries(8):
        assert client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/").status_code == 200
    with django_assert_max_num_queries(22):
        response = client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/",
                               {"decision": "approve", "comment": "ok"})
    assert response.status_code == 200, response.content
    assert ApprovalTask.objects.get(pk=tasks[1].pk).status == "done"


def test_the_queue_apis_generic_plan_reads_the_queue_index(matrix, in_approval, staff):
    """The open states are written into the page's SQL, so that the generic plan of the
    prepared statement can use the queue's partial indexes, and PostgreSQL keeps it; bound as
    parameters, they kept it off those indexes, and PostgreSQL planned the six-table join
    again on every request (about 1 ms, four times the query's run time, at 100,000 open
    tasks). The queue page's ORM query does the same (loanflow.lookups.InLiteral)."""
    import re

    from django.db import connection
    from psycopg.sql import Literal

    from approvals.api import TASK_ROW_PATHS
    from approvals.selectors import task_queue, task_queue_counts, task_queue_rows

    _fill(in_approval, 3)
    user = staff["reviewer"]
    rows = task_queue_rows(user=user, filters={}, now=timezone.now(),
                           counts=task_queue_counts(user=user), paths=TASK_ROW_PATHS)
    orm_sql, orm_params = task_queue(user=user).values(*TASK_ROW_PATHS)[:25].query.sql_with_params()
    for sql, params in ((rows.page_sql(0, 25), rows.params), (orm_sql, orm_params)):
        assert "IN ('open', 'claimed')" in sql
        numbers = iter(range(1, len(params) + 1))
        numbered = re.sub("%s", lambda _, numbers=numbers: f"${next(numbers)}", sql)
        with connection.cursor() as cursor:
            cursor.execute("PREPARE queue_page AS " + numbered)
            # The plan for any parameters, as for a large table (where only an index will do).
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute("SET LOCAL enable_seqscan = off")
            values = ", ".join(Literal(value).as_string(connection.connection)
                               for value in params)
            cursor.execute(f"EXPLAIN EXECUTE queue_page({values})")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("DEALLOCATE queue_page")
        assert "using appr_task_queue" in plan.lower(), plan


@pytest.mark.parametrize("params", [
    {}, {"role": "credit_reviewer"}, {"role": "approver"}, {"amount_min": "1000000"},
    {"amount_max": "500000"}, {"amount_min": "x"}, {"grade": "a"}, {"overdue": "1"},
    {"overdue": "0"}, {"mine": "yes"}, {"q": "Acme"}, {"q": "ACME%"}, {"q": "ref"},
    {"product": "own"}, {"product": "999999"}, {"branch": "own"}, {"branch": "999999"},
    {"grade": "c", "amount_min": "1000000", "mine": "1"},
])
def test_the_queue_api_and_the_queue_page_keep_the_same_tasks(
    matrix, in_approval, staff, api, params
):
    from approvals.selectors import task_queue

    small = in_approval(amount="400000", grade="A")
    big = in_approval(amount="4000000", grade="C")
    in_approval(amount="900000", grade="C")
    user = staff["reviewer"]
    tasks = list(ApprovalTask.objects.filter(status="open").order_by("id"))
    api(user).post(f"/api/v1/approvals/tasks/{tasks[1].pk}/claim/")
    ApprovalTask.objects.filter(pk=tasks[2].pk).update(due_at=timezone.now() - timedelta(hours=1))
    params = {name: {"own": small.product_id if name == "product" else small.branch_id,
                     "ref": big.reference.lower()}.get(value, value)
              for name, value in params.items()}
    expected = [task.pk for task in task_queue(user=user, filters=params)]
    data = api(user).get(reverse("api-approvals-queue"), params).json()
    assert [row["id"] for row in data["results"]] == expected
    assert data["count"] == len(expected)


def test_a_queue_action_reads_its_task_as_the_orm_would_in_one_locking_query(
    matrix, in_approval, staff, owner, other_branch, django_assert_num_queries
):
    from django.db import connection, transaction

    from applications.selectors import application_scope_q
    from approvals.selectors import _TASK_ACTION_RELATED, task_get
    from loanflow.errors import NotFound
    from org.selectors import branch_scope_ids

    def fields(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    task = ApprovalTask.objects.get(application=in_approval())
    expected = ApprovalTask.objects.select_related(*_TASK_ACTION_RELATED).get(pk=task.pk)
    outsider = make_staff([Role.CREDIT_REVIEWER], other_branch, username="olga_outsider")
    seen = {}
    for name, user in (("reviewer", staff["reviewer"]), ("head office", staff["risk"]),
                       ("other branch", outsider), ("applicant", owner)):
        branch_scope_ids(user)  # the user's scope, as authentication loads it
        orm = ApprovalTask.objects.filter(application_scope_q(user, prefix="application__"),
                                          pk=task.pk).exists()
        with transaction.atomic(), django_assert_num_queries(1) as ctx:
            try:
                got = task_get(user=user, pk=task.pk, for_action=True, for_update=True)
            except NotFound:
                got = None
        seen[name] = got is not None
        assert seen[name] == orm, name
        if got is None:
            continue
        assert fields(got) == fields(expected)
        for related in ("application", "record", "branch"):
            assert fields(getattr(got, related)) == fields(getattr(expected, related))
        assert fields(got.application.branch) == fields(expected.application.branch)
        if connection.features.has_select_for_update_of:
            assert ctx.captured_queries[0]["sql"].endswith("FOR UPDATE OF a, t, r")
    assert seen["reviewer"] and seen["head office"] and not seen["other branch"]
    for pk in ("x", 10**9):
        with pytest.raises(NotFound):
            task_get(user=staff["reviewer"], pk=pk, for_action=True)


@pytest.mark.django_db(transaction=True)
def test_two_transactions_moving_tasks_of_one_queue_do_not_wait_on_its_count_rows(
    matrix, in_approval
):
    """The trigger holds each count row it updates until its transaction commits. Two tasks of
    one queue whose ids share a slot residue (a branch's tasks in a regular stride) are moved
    by two open transactions at once: the second must not wait for the first."""
    import psycopg
    from django.db import connection

    from approvals.models import QueueCount

    if connection.vendor != "postgresql":
        pytest.fail("row locking is tested on PostgreSQL")
    apps = _fill(in_approval, QueueCount.SLOTS + 1)
    ids = list(ApprovalTask.objects.filter(application__in=apps).values_list("id", flat=True))
    by_residue: dict[int, list[int]] = {}
    for pk in ids:
        by_residue.setdefault(pk % QueueCount.SLOTS, []).append(pk)
    first, second = next(pks for pks in by_residue.values() if len(pks) > 1)[:2]
    dsn = psycopg_dsn()
    move = "UPDATE approvals_approvaltask SET status = 'claimed' WHERE id = %s"
    slot = f"SELECT mod(txid_current(), {QueueCount.SLOTS})"
    with psycopg.connect(**dsn) as one, psycopg.connect(**dsn) as two:
        one.execute(move, [first])  # holds its count rows: the transaction stays open
        taken = one.execute(slot).fetchone()[0]
        # Concurrent transactions hold consecutive ids; should another writer have taken
        # exactly a multiple of SLOTS ids in between, the next transaction stands for it.
        while two.execute(slot).fetchone()[0] == taken:
            two.rollback()
        two.execute("SET lock_timeout = '2s'")
        two.execute(move, [second])  # raises LockNotAvailable if it waits on one's rows
        one.commit()
        two.commit()
    assert set(ApprovalTask.objects.filter(pk__in=[first, second])
               .values_list("status", flat=True)) == {"claimed"}
    assert _kept_counts() == _live_counts()


@pytest.mark.django_db(transaction=True)
def test_a_transaction_holding_the_count_trigger_back_leaves_the_count_rows_free_until_its_end(
    matrix, in_approval
):
    """What a decision does (queue_counts_last): its task moves early, its counts at the end.
    Meanwhile another transaction moves a task of the same queue through the very same count
    row (same slot) without waiting; both counts are right once both commit."""
    import psycopg
    from django.db import connection

    from approvals.models import QueueCount

    if connection.vendor != "postgresql":
        pytest.fail("row locking is tested on PostgreSQL")
    apps = _fill(in_approval, 2)
    first, second = ApprovalTask.objects.filter(application__in=apps).values_list("id", flat=True)
    dsn = psycopg_dsn()
    move = "UPDATE approvals_approvaltask SET status = 'claimed' WHERE id = %s"
    slot = f"SELECT mod(txid_current(), {QueueCount.SLOTS})"
    with psycopg.connect(**dsn) as one, psycopg.connect(**dsn) as two:
        one.execute("SET CONSTRAINTS approvals_queue_count DEFERRED")
        one.execute(move, [first])
        taken = one.execute(slot).fetchone()[0]
        while two.execute(slot).fetchone()[0] != taken:  # the same count row, on purpose
            two.rollback()
        two.execute("SET lock_timeout = '2s'")
        two.execute(move, [second])  # raises LockNotAvailable if it waits on one's rows
        two.commit()
        one.execute("SET CONSTRAINTS approvals_queue_count IMMEDIATE")  # one's counts now
        one.commit()
    assert _kept_counts() == _live_counts()
    assert _kept_counts()[("credit_reviewer", apps[0].branch_id, "claimed")] == 2


@pytest.mark.django_db(transaction=True)
def test_a_decision_in_its_own_transaction_leaves_its_held_counts_to_the_commit(
    matrix, in_approval, staff, api
):
    """Outside any other transaction (as under gunicorn), the decision sends no statement to
    run the held count triggers: its commit runs them, and the counts are right after it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.fail("the deferred count trigger is PostgreSQL's")
    apps = _fill(in_approval, 2)
    task = ApprovalTask.objects.filter(application=apps[0]).get()
    client = api(staff["reviewer"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/api/v1/approvals/tasks/{task.pk}/decide/",
                               {"decision": "approve", "comment": "ok"})
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in ctx.captured_queries]
    assert "SET CONSTRAINTS approvals_queue_count DEFERRED" in sql
    assert "SET CONSTRAINTS approvals_queue_count IMMEDIATE" not in sql
    assert _kept_counts() == _live_counts()
    assert _kept_counts()[("credit_reviewer", apps[0].branch_id, "open")] == 1


@pytest.mark.django_db(transaction=True)
def test_a_decision_waits_for_a_transition_of_its_application_without_holding_its_task(
    matrix, in_approval, staff, api
):
    """A transition of the application (a withdrawal, say) locks the application, then its
    open tasks. A decision locks them in the same order: while it waits for the application
    it holds no task, so the two queue up instead of deadlocking."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("row locking is tested on PostgreSQL")
    application = in_approval()
    task = ApprovalTask.objects.get(application=application)
    client = api(staff["reviewer"])
    status = status_while_application_locked(
        application_id=application.pk, task_id=task.pk,
        request=lambda: client.post(f"/api/v1/approvals/tasks/{task.pk}/decide/",
                                    {"decision": "approve", "comment": "ok"}).status_code)
    assert status == 200
    task.refresh_from_db()
    assert task.status == "done"


def test_a_decision_moves_its_queue_counts_after_the_rest_of_its_work(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    from django.db import connection

    apps = _fill(in_approval, 2)
    task = ApprovalTask.objects.filter(application=apps[0]).get()
    with django_assert_max_num_queries(30) as ctx:
        response = api(staff["reviewer"]).post(f"/api/v1/approvals/tasks/{task.pk}/decide/",
                                               {"decision": "approve", "comment": "ok"})
    assert response.status_code == 200, response.content
    assert _kept_counts() == _live_counts()
    if connection.vendor != "postgresql":
        return
    sql = [q["sql"] for q in ctx.captured_queries]
    deferred = sql.index("SET CONSTRAINTS approvals_queue_count DEFERRED")
    immediate = sql.index("SET CONSTRAINTS approvals_queue_count IMMEDIATE")
    task_update = next(i for i, q in enumerate(sql)
                       if q.startswith('UPDATE "approvals_approvaltask"'))
    next_task = next(i for i, q in enumerate(sql)
                     if q.startswith('INSERT INTO "approvals_approvaltask"'))
    writes = [i for i, q in enumerate(sql) if q.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert deferred < task_update < next_task < immediate
    assert max(writes) < immediate


def test_the_mine_count_reads_its_own_index_while_the_statistics_know_of_no_claimed_task(
    matrix, in_approval, staff
):
    """Statistics gathered while every task was open (a bulk load, a quiet morning), then
    claims: the planner expects no claimed task, and once took the stale-claim sweep's index
    (every claimed task, oldest activity first) for the queue's "mine" count, reading every
    claimed task of the bank (5 ms at 6,000 claims). The sweep's index now says what it is
    for, and the count has an index of its own, read without the table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.models import ApprovalTask
    from approvals.selectors import task_queue_counts

    _fill(in_approval, 6)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE approvals_approvaltask")
    ApprovalTask.objects.filter(status="open").update(
        status="claimed", claimed_by=staff["approver"], claimed_at=timezone.now(),
        last_activity_at=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        task_queue_counts(user=staff["reviewer"])
    (sql,) = [q["sql"] for q in captured.captured_queries if "'mine'" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    mine = plan[plan.rindex("GroupAggregate"):]
    assert "Index Only Scan using appr_task_mine" in mine, plan
    # The sweep's own question still finds its index.
    stale = ApprovalTask.objects.filter(
        status="claimed", last_activity_at__lt=timezone.now()).order_by("last_activity_at")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "appr_task_stale" in stale.explain()
