"""The approver's queues: ordered by due time, counts, filters, search, fixed queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from approvals.models import ApprovalTask
from org.roles import Role
from tests.approvals.locking import status_while_application_locked
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
    assert data["counts"] == [
        {"role": "credit_reviewer", "total": 3, "open": 2, "claimed": 1, "mine": 1, "overdue": 1}
    ]
    # An approver has nothing yet (all tasks are at credit review).
    assert api(staff["approver"]).get(reverse("api-approvals-queue")).data["count"] == 0


def test_filters_and_search_narrow_the_queue(matrix, in_approval, staff, api):
    small = in_approval(amount="400000", grade="A")
    big = in_approval(amount="4000000", grade="C")
    client = api(staff["reviewer"])

    def ids(**params):
        return [
            r["application"]
            for r in client.get(reverse("api-approvals-queue"), params).data["results"]
        ]

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
    matrix, in_approval, staff, client, django_assert_num_queries, django_assert_max_num_queries
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
        assert (
            len(client.get(reverse("api-approvals-queue"), {"page_size": 2}).data["results"]) == 2
        )
    with django_assert_num_queries(len(small.captured_queries)):
        assert (
            len(client.get(reverse("api-approvals-queue"), {"page_size": 6}).data["results"]) == 6
        )


def test_a_token_request_for_the_queue_runs_three_queries(
    matrix, in_approval, staff, django_assert_num_queries
):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    _fill(in_approval, 3)
    token = Token.objects.create(user=staff["reviewer"])
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    # The token with its user, profile, branch, roles and branch subtree; the queue counts
    # (which size the whole queue: it is not counted again); the page.
    with django_assert_num_queries(3):
        response = client.get(reverse("api-approvals-queue"))
    assert response.status_code == 200
    assert response.json()["count"] == 3 == len(response.json()["results"])


def test_the_queue_counts_follow_every_change_of_a_task(
    matrix, in_approval, staff, api, other_branch
):
    apps = _fill(in_approval, 4)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    client = api(staff["reviewer"])

    def counts():
        return client.get(reverse("api-approvals-queue")).data["counts"]

    assert counts() == [
        {"role": "credit_reviewer", "total": 4, "open": 4, "claimed": 0, "mine": 0, "overdue": 0}
    ]
    client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/")
    client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/claim/")
    client.post(f"/api/v1/approvals/tasks/{tasks[1].pk}/release/", {"comment": "later"})
    decided = client.post(
        f"/api/v1/approvals/tasks/{tasks[2].pk}/decide/", {"decision": "approve", "comment": "ok"}
    )
    assert decided.status_code == 200, decided.content
    assert counts() == [
        {"role": "credit_reviewer", "total": 3, "open": 2, "claimed": 1, "mine": 1, "overdue": 0}
    ]
    # Someone else's claim is claimed but not mine; a task moved out of my branch leaves.
    colleague = make_staff(Role.CREDIT_REVIEWER, tasks[1].branch, username="carl_reviewer")
    reassigned = api(staff["head"]).post(
        f"/api/v1/approvals/tasks/{tasks[1].pk}/reassign/",
        {"assignee": colleague.pk},
        format="json",
    )
    assert reassigned.status_code == 200, reassigned.content
    ApprovalTask.objects.filter(pk=tasks[3].pk).update(branch=other_branch)
    assert counts() == [
        {"role": "credit_reviewer", "total": 2, "open": 0, "claimed": 2, "mine": 1, "overdue": 0}
    ]


def test_a_queue_row_is_what_the_generic_serializer_would_give(matrix, in_approval, staff, api):
    from rest_framework import serializers

    from approvals.api import TaskOutputSerializer
    from approvals.selectors import task_queue

    apps = _fill(in_approval, 3)
    tasks = list(ApprovalTask.objects.filter(application__in=apps).order_by("id"))
    api(staff["reviewer"]).post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/")
    api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/", {"decision": "approve", "comment": "fine"}
    )
    ApprovalTask.objects.filter(pk=tasks[2].pk).update(due_at=timezone.now() - timedelta(hours=2))
    now = timezone.now()
    rows = list(task_queue(user=staff["reviewer"])) + [ApprovalTask.objects.get(pk=tasks[1].pk)]
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


def test_a_queue_action_answers_with_the_tasks_row_as_it_is_now(matrix, in_approval, staff, api):
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
    released = client.post(
        f"/api/v1/approvals/tasks/{tasks[0].pk}/release/", {"comment": "later"}
    ).json()
    assert released["status"] == "open" and released["claimed_by"] is None
    assert released == generic(tasks[0].pk)
    decided = client.post(
        f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/", {"decision": "approve", "comment": "fine"}
    ).json()
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
    with django_assert_max_num_queries(9):
        assert client.post(f"/api/v1/approvals/tasks/{tasks[0].pk}/claim/").status_code == 200
    with django_assert_max_num_queries(22):
        response = client.post(
            f"/api/v1/approvals/tasks/{tasks[1].pk}/decide/",
            {"decision": "approve", "comment": "ok"},
        )
    assert response.status_code == 200, response.content
    assert ApprovalTask.objects.get(pk=tasks[1].pk).status == "done"


def test_the_queue_page_reads_the_queue_index(matrix, in_approval, staff):
    """The page's open tasks come from the queue's partial index (status in open, claimed),
    planned as for a large table, where only an index will do."""
    from django.db import connection

    from approvals.selectors import task_queue

    _fill(in_approval, 3)
    queryset = task_queue(user=staff["reviewer"])[:25]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "using appr_task_queue" in plan.lower(), plan


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["small", "big", "other"]),
        ({"role": "credit_reviewer"}, ["small", "big", "other"]),
        ({"role": "approver"}, []),
        ({"amount_min": "1000000"}, ["big"]),
        ({"amount_max": "500000"}, ["small"]),
        ({"grade": "a"}, ["small"]),
        ({"overdue": "1"}, ["other"]),
        ({"overdue": "0"}, ["small", "big", "other"]),
        ({"mine": "yes"}, ["big"]),
        ({"q": "acme trading"}, ["small", "big", "other"]),
        ({"q": "ACME%"}, []),
        ({"q": "ref"}, ["big"]),
        ({"product": "own"}, ["small", "big", "other"]),
        ({"product": "999999"}, []),
        ({"branch": "own"}, ["small", "big", "other"]),
        ({"branch": "999999"}, []),
        ({"grade": "c", "amount_min": "1000000", "mine": "1"}, ["big"]),
    ],
)
def test_the_queue_api_and_the_queue_page_keep_the_same_tasks(
    matrix, in_approval, staff, api, client, params, expected
):
    small = in_approval(amount="400000", grade="A")
    big = in_approval(amount="4000000", grade="C")
    other = in_approval(amount="900000", grade="C")
    by_name = {
        name: ApprovalTask.objects.get(application=application).pk
        for name, application in (("small", small), ("big", big), ("other", other))
    }
    user = staff["reviewer"]
    api(user).post(f"/api/v1/approvals/tasks/{by_name['big']}/claim/")
    ApprovalTask.objects.filter(pk=by_name["other"]).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    params = {
        name: {
            "own": small.product_id if name == "product" else small.branch_id,
            "ref": big.reference.lower(),
        }.get(value, value)
        for name, value in params.items()
    }
    wanted = sorted(by_name[name] for name in expected)
    data = api(user).get(reverse("api-approvals-queue"), params).json()
    assert sorted(row["id"] for row in data["results"]) == wanted
    assert data["count"] == len(wanted)
    client.force_login(user)
    page = client.get(reverse("approvals-queue"), params).content.decode()
    assert sorted(int(pk) for pk in re.findall(r'data-task="(\d+)"', page)) == wanted


def test_a_queue_filter_that_does_not_parse_is_refused_by_the_api_and_ignored_by_the_page(
    matrix, in_approval, staff, api, client
):
    in_approval()
    response = api(staff["reviewer"]).get(reverse("api-approvals-queue"), {"amount_min": "x"})
    assert response.status_code == 400 and "amount_min" in response.json()
    client.force_login(staff["reviewer"])
    page = client.get(reverse("approvals-queue"), {"amount_min": "x"}).content.decode()
    assert page.count('data-task="') == 1


def test_a_queue_action_reads_and_locks_its_task_in_one_query_application_first(
    matrix, in_approval, staff, owner, other_branch, django_assert_num_queries
):
    from django.db import transaction

    from applications.selectors import application_scope_q
    from approvals.selectors import task_get
    from common.errors import NotFound
    from org.selectors import branch_scope_ids

    task = ApprovalTask.objects.get(application=in_approval())
    outsider = make_staff([Role.CREDIT_REVIEWER], other_branch, username="olga_outsider")
    seen = {}
    for name, user in (
        ("reviewer", staff["reviewer"]),
        ("head office", staff["risk"]),
        ("other branch", outsider),
        ("applicant", owner),
    ):
        branch_scope_ids(user)  # the user's scope, as authentication loads it
        orm = ApprovalTask.objects.filter(
            application_scope_q(user, prefix="application__"), pk=task.pk
        ).exists()
        with transaction.atomic(), django_assert_num_queries(1) as ctx:
            try:
                got = task_get(user=user, pk=task.pk, for_action=True, for_update=True)
            except NotFound:
                got = None
            else:  # what the checks and the next step read, already loaded
                assert got.application.branch.pk and got.record.pk and got.branch.pk
        seen[name] = got is not None
        assert seen[name] == orm, name
        assert ctx.captured_queries[0]["sql"].endswith(
            'FOR UPDATE OF "applications_loanapplication", "approvals_approvaltask", '
            '"approvals_approvalrecord"'
        )
    assert seen["reviewer"] and seen["head office"] and not seen["other branch"]
    for pk in ("x", 10**9):
        with pytest.raises(NotFound):
            task_get(user=staff["reviewer"], pk=pk, for_action=True)


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
        application_id=application.pk,
        task_id=task.pk,
        request=lambda: (
            client.post(
                f"/api/v1/approvals/tasks/{task.pk}/decide/",
                {"decision": "approve", "comment": "ok"},
            ).status_code
        ),
    )
    assert status == 200
    task.refresh_from_db()
    assert task.status == "done"


def test_the_queue_counts_are_read_from_the_queue_index_alone(matrix, in_approval, staff):
    """One aggregate over the open and claimed tasks in scope (open, claimed, mine, overdue),
    answered from the branch queue index without reading the table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.selectors import task_queue_counts

    _fill(in_approval, 6)
    ApprovalTask.objects.filter(pk__in=ApprovalTask.objects.values("pk")[:2]).update(
        status="claimed",
        claimed_by=staff["reviewer"],
        claimed_at=timezone.now(),
        last_activity_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE approvals_approvaltask")
    with CaptureQueriesContext(connection) as captured:
        counts = task_queue_counts(user=staff["reviewer"])
    assert counts == [
        {"role": "credit_reviewer", "total": 6, "open": 4, "claimed": 2, "mine": 2, "overdue": 0}
    ]
    (sql,) = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    with connection.cursor() as cursor:
        # As on a large table, where only the index will do (on one this small, the planner
        # would as soon read the table or another index: dropped here, in the test's
        # transaction).
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = "
            "'approvals_approvaltask' AND indexname NOT IN "
            "('appr_task_queue_branch', 'approvals_approvaltask_pkey')"
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{index}"')
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using appr_task_queue_branch" in plan, plan


def test_head_offices_counts_are_shared_a_few_seconds_and_its_own_claims_counted_now(
    matrix, in_approval, head_office, api
):
    from django.core.cache import cache

    holder = make_staff(Role.CREDIT_REVIEWER, head_office, username="hugo_head_office")
    apps = _fill(in_approval, 2)
    client = api(holder)

    def counts():
        return client.get(reverse("api-approvals-queue")).data["counts"]

    assert counts() == [
        {"role": "credit_reviewer", "total": 2, "open": 2, "claimed": 0, "mine": 0, "overdue": 0}
    ]
    task = ApprovalTask.objects.get(application=apps[0])
    assert client.post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    assert counts() == [
        {"role": "credit_reviewer", "total": 2, "open": 2, "claimed": 0, "mine": 1, "overdue": 0}
    ]
    cache.clear()  # (HEAD_OFFICE_COUNTS_SECONDS later)
    assert counts() == [
        {"role": "credit_reviewer", "total": 2, "open": 1, "claimed": 1, "mine": 1, "overdue": 0}
    ]


def test_the_queue_page_offers_products_and_branches_by_name_within_the_users_scope(
    matrix, in_approval, staff, client, other_branch, branch
):
    application = in_approval()
    product = application.product
    product.name_zh = "设备贷"
    product.save(update_fields=["name_zh"])
    client.force_login(staff["reviewer"])
    page = client.get(reverse("approvals-queue"), {"product": product.pk}).content.decode()
    branch_select = page.split('<select name="branch">')[1].split("</select>")[0]
    # The reviewer's own branch by name; another branch, outside the scope, is not offered.
    assert re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', branch_select) == [
        (str(branch.pk), branch.name)
    ]
    assert f'<option value="{product.pk}" selected>{product.code} {product.name}</option>' in page
    # (The middleware activates the request's language; the override restores the test's.)
    with translation.override(None):
        page = client.get(reverse("approvals-queue"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f"{product.code} 设备贷" in page.content.decode()


def test_the_home_card_counts_the_tasks_the_approval_queue_lists(
    matrix, in_approval, staff, client
):
    _fill(in_approval, 3)
    client.force_login(staff["reviewer"])
    home = client.get(reverse("home")).content.decode()
    count = int(re.search(r'<strong>Approval queue</strong>\s*<span class="num">(\d+)', home)[1])
    queue = client.get(reverse("approvals-queue")).content.decode()
    assert count == queue.count('data-task="') == 3
    # An approver: no task has reached his step, whatever is in approval in his scope.
    client.force_login(staff["approver"])
    home = client.get(reverse("home")).content.decode()
    assert re.search(r'<strong>Approval queue</strong>\s*<span class="num">0<', home)


def test_the_queue_shows_money_as_every_other_page_does(matrix, in_approval, staff, client):
    application = in_approval(amount="2000000")
    client.force_login(staff["reviewer"])
    queue = client.get(reverse("approvals-queue")).content.decode()
    detail = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "2,000,000.00 CNY" in queue and "2,000,000.00 CNY" in detail
    assert "2000000.00" not in queue
