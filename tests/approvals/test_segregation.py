"""审贷分离: every violation is refused with 403 and the reason, and logged — superuser too."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from approvals.models import ApprovalTask, ApproverLimit
from audit.models import AuditEvent
from org.roles import Role
from tests.factories import make_staff
from tests.second_factor import fresh_token

pytestmark = pytest.mark.django_db


def _approve(api, user, task):
    client = api(user)
    return client.post(
        f"/api/v1/approvals/tasks/{task.pk}/decide/",
        {"decision": "approve", "comment": "ok"},
        format="json",
    )


def _give(user, *roles):
    user.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in roles])
    for attr in ("_loanflow_roles", "_loanflow_role_perms"):
        user.__dict__.pop(attr, None)


def _assert_refused_and_logged(response, application, actor, code=None):
    assert response.status_code == 403, response.data
    assert response.data["detail"]
    if code:
        assert response.data["code"] == code
    assert AuditEvent.objects.filter(application=application, kind="refusal", actor=actor).exists()


def _reviewed(api, staff, application):
    task = ApprovalTask.objects.get(application=application, step="credit_review")
    assert _approve(api, staff["reviewer"], task).status_code == 200
    return ApprovalTask.objects.get(application=application, step="tier1")


@pytest.mark.parametrize("who", ["filer", "investigator", "rm"])
def test_whoever_filed_investigated_or_manages_it_takes_no_step(
    matrix, in_approval, staff, branch, api, who
):
    filer = make_staff(
        [Role.RELATIONSHIP_MANAGER, Role.CREDIT_REVIEWER], branch, username="fiona_filer"
    )
    investigator = make_staff(
        [Role.RELATIONSHIP_MANAGER, Role.CREDIT_REVIEWER], branch, username="ian_investigator"
    )
    rm = make_staff([Role.RELATIONSHIP_MANAGER, Role.CREDIT_REVIEWER], branch, username="rita_rm")
    application = in_approval(filed_by=filer, investigator=investigator, relationship_manager=rm)
    actor = {"filer": filer, "investigator": investigator, "rm": rm}[who]
    task = ApprovalTask.objects.get(application=application)
    response = api(actor).post(f"/api/v1/approvals/tasks/{task.pk}/claim/")
    _assert_refused_and_logged(response, application, actor, "segregation_of_duties")
    _assert_refused_and_logged(_approve(api, actor, task), application, actor)
    task.refresh_from_db()
    assert task.status == "open"


def test_nobody_acts_at_two_steps_of_one_application(matrix, in_approval, staff, api):
    _give(staff["reviewer"], Role.APPROVER)
    ApproverLimit.objects.create(user=staff["reviewer"], grade="B", max_amount=Decimal("9000000"))
    application = in_approval()
    tier1 = _reviewed(api, staff, application)
    response = _approve(api, staff["reviewer"], tier1)
    _assert_refused_and_logged(response, application, staff["reviewer"], "segregation_of_duties")
    assert "credit_review" in response.data["detail"]


def test_the_approvers_limit_must_cover_the_amount_at_the_grade(matrix, in_approval, staff, api):
    ApproverLimit.objects.create(user=staff["approver"], grade="C", max_amount=Decimal("500000"))
    application = in_approval(amount="800000", grade="C")
    tier1 = _reviewed(api, staff, application)
    response = _approve(api, staff["approver"], tier1)
    _assert_refused_and_logged(response, application, staff["approver"], "authority_limit")
    assert "500K" in response.data["detail"] and "grade C" in response.data["detail"]
    # At grade A the profile's 5M limit applies and covers it.
    other = in_approval(amount="800000", grade="A")
    tier1 = _reviewed(api, staff, other)
    assert _approve(api, staff["approver"], tier1).status_code == 200


def test_a_superuser_gets_no_bypass(matrix, in_approval, staff, api):
    admin = staff["admin"]
    application = in_approval()
    task = ApprovalTask.objects.get(application=application)
    # Without a credit role: refused, logged.
    _assert_refused_and_logged(_approve(api, admin, task), application, admin, "role")
    # With the role but having filed the application: refused, logged.
    _give(admin, Role.CREDIT_REVIEWER)
    filed = in_approval(filed_by=admin)
    task = ApprovalTask.objects.get(application=filed)
    _assert_refused_and_logged(_approve(api, admin, task), filed, admin, "segregation_of_duties")
    # And the generic endpoint refuses approval decisions outright.
    response = api(admin).post(f"/api/v1/applications/{filed.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.status == "in_approval"


def test_a_decision_outside_the_route_is_refused_by_the_duty_rule(matrix, in_approval, staff):
    from applications.services import application_transition
    from common.errors import SegregationOfDuties

    application = in_approval()
    with pytest.raises(SegregationOfDuties):
        application_transition(
            application_id=application.pk, transition="approve", actor=staff["approver"], data={}
        )
    assert AuditEvent.objects.filter(application=application, kind="refusal").exists()


def test_a_decision_checks_its_approver_with_the_task_locked(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    application = in_approval()
    tier1 = _reviewed(api, staff, application)
    with django_assert_max_num_queries(100) as ctx:
        assert _approve(api, staff["approver"], tier1).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    # (who acted at which step: the decisions and committee votes, one UNION ALL)
    acted_steps = [i for i, q in enumerate(sql) if "UNION ALL" in q and '"member_id"' in q]
    locked = [
        i
        for i, q in enumerate(sql)
        if "FOR UPDATE OF" in q and '"approvals_approvaltask"' in q.rsplit("FOR UPDATE OF", 1)[1]
    ]
    assert acted_steps and len(locked) == 1 and locked[0] < min(acted_steps)
    application.refresh_from_db()
    assert application.status == "approved"


def test_a_last_step_decision_reads_its_checks_once_for_the_step_and_the_application(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    application = in_approval()
    tier1 = _reviewed(api, staff, application)
    with django_assert_max_num_queries(100) as ctx:
        assert _approve(api, staff["approver"], tier1).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    # The task's service and the application's transition both check the decider at the
    # task; the second check reuses the first one's reads of the locked task.
    assert sum(1 for q in sql if "UNION ALL" in q and '"member_id"' in q) == 1
    assert sum(1 for q in sql if 'FROM "approvals_approverlimit"' in q) == 1
    application.refresh_from_db()
    assert application.status == "approved"


def test_a_decision_answers_with_the_task_it_holds_and_reads_no_route_step_again(
    matrix, in_approval, staff, api, django_assert_max_num_queries
):
    application = in_approval()
    tier1 = _reviewed(api, staff, application)
    # Authenticated as a client is, with the token in the header (org.auth reads it).
    client = APIClient(HTTP_AUTHORIZATION=f"Token {fresh_token(staff['approver']).key}")
    with django_assert_max_num_queries(100) as ctx:
        response = client.post(
            f"/api/v1/approvals/tasks/{tier1.pk}/decide/",
            {"decision": "approve", "comment": "ok"},
            format="json",
        )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "done" and response.data["application_status"] == "approved"
    assert response.data["company_name"] == application.company.name
    sql = [q["sql"] for q in ctx.captured_queries]
    task_reads = [q for q in sql if q.startswith("SELECT") and 'FROM "approvals_approvaltask"' in q]
    # The lock (with the application, company, product, record and branch) and nothing else:
    # the step just decided was the route's only open one, and the answer is that task.
    assert len(task_reads) == 1 and "FOR UPDATE OF" in task_reads[0]
    # The token's last second factor came with the token.
    assert not [q for q in sql if 'FROM "org_tokensecondfactor"' in q]


def test_the_route_rule_checks_the_named_step_and_its_actor(matrix, in_approval, staff, api):
    from applications.services import application_transition
    from approvals.services import approval_decision_refusal
    from common.errors import SegregationOfDuties

    _give(staff["reviewer"], Role.APPROVER)
    ApproverLimit.objects.create(user=staff["reviewer"], grade="B", max_amount=Decimal("9000000"))
    application = in_approval()
    tier1 = _reviewed(api, staff, application)
    # The reviewer acted at credit_review: naming tier1 does not let them approve.
    with pytest.raises(SegregationOfDuties):
        application_transition(
            application_id=application.pk,
            transition="approve",
            actor=staff["reviewer"],
            data={"approval_task": tier1.pk},
        )
    application.refresh_from_db()
    assert application.status == "in_approval"
    assert "credit_review" in approval_decision_refusal(
        application=application, actor=staff["reviewer"], task=tier1.pk
    )
    # The approver may decide there; a task of another application is no step of this route.
    assert (
        approval_decision_refusal(application=application, actor=staff["approver"], task=tier1.pk)
        is None
    )
    other = ApprovalTask.objects.get(application=in_approval())
    assert approval_decision_refusal(
        application=application, actor=staff["approver"], task=other.pk
    )
    # System decisions are not the route's to check.
    assert approval_decision_refusal(application=application, actor=None, task=None) is None
