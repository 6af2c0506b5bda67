"""Every illegal transition answers 409 and every forbidden role 403, changing nothing."""

import pytest
from django.urls import reverse

from applications.models import INTERNAL_TRANSITIONS, TRANSITION_NAMES, LoanApplication, Status
from audit.models import AuditEvent
from org.roles import ROLE_PERMISSIONS, Role
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

SOURCES = {
    name: set(getattr(LoanApplication, name)._django_fsm.transitions.keys())
    for name in TRANSITION_NAMES
}
# Whoever holds a role that may take the transition: used as the actor for state checks.
ROLE_FOR = {
    "submit": "rm",
    "start_investigation": "rm",
    "send_to_approval": "rm",
    "approve": "approver",
    "approve_drawdown": "approver",
    "decline": "approver",
    "return_to_investigation": "approver",
    "request_information": "rm",
    "resume": "rm",
    "sign_contract": "rm",
    "apply_change": "rm",
    "disburse": "checker",
    "close": "risk",
    "write_off": "risk",
    "withdraw": "rm",
}
STAFF_KEY_ROLE = {
    "rm": Role.RELATIONSHIP_MANAGER,
    "reviewer": Role.CREDIT_REVIEWER,
    "approver": Role.APPROVER,
    "committee": Role.COMMITTEE_MEMBER,
    "disburser": Role.DISBURSEMENT_OFFICER,
    "checker": Role.DISBURSEMENT_CHECKER,
    "risk": Role.RISK_OFFICER,
    "head": Role.BRANCH_HEAD,
    "admin": Role.ADMINISTRATOR,
}


def _url(name, pk):
    return reverse(f"api-application-{name.replace('_', '-')}", args=[pk])


# Transitions a stage app takes through its own endpoint are tested with that stage.
GENERIC = [name for name in TRANSITION_NAMES if name not in INTERNAL_TRANSITIONS]


def _illegal_pairs():
    for name in GENERIC:
        for status in Status.values:
            if status not in SOURCES[name]:
                yield name, status


@pytest.mark.parametrize(("transition", "status"), list(_illegal_pairs()))
def test_an_illegal_transition_answers_409_and_changes_nothing(
    api, staff, company, transition, status
):
    application = ApplicationFactory(
        company=company, status=status, filed_by=staff["rm2"], resume_status="investigation"
    )
    before = AuditEvent.objects.count()
    response = api(staff[ROLE_FOR[transition]]).post(
        _url(transition, application.pk), {}, format="json"
    )
    assert response.status_code == 409, response.data
    application.refresh_from_db()
    assert application.status == status
    assert AuditEvent.objects.count() == before


def _forbidden_pairs():
    for name in GENERIC:
        perm = f"applications.{getattr(LoanApplication, name)._django_fsm.transitions[next(iter(SOURCES[name]))].permission.codename}"
        for key, role in STAFF_KEY_ROLE.items():
            if perm not in ROLE_PERMISSIONS[role]:
                yield name, key


@pytest.mark.parametrize(("transition", "actor"), list(_forbidden_pairs()))
def test_a_role_that_may_not_take_a_transition_gets_403_and_changes_nothing(
    api, staff, company, transition, actor
):
    status = sorted(SOURCES[transition])[0]
    application = ApplicationFactory(
        company=company, status=status, filed_by=staff["rm2"], resume_status="investigation"
    )
    before = AuditEvent.objects.filter(kind="transition").count()
    response = api(staff[actor]).post(_url(transition, application.pk), {}, format="json")
    assert response.status_code == 403, response.data
    application.refresh_from_db()
    assert application.status == status
    assert AuditEvent.objects.filter(kind="transition").count() == before


def test_a_superuser_without_a_credit_role_cannot_approve(api, staff, company):
    application = ApplicationFactory(company=company, status="in_approval", filed_by=staff["rm2"])
    response = api(staff["admin"]).post(_url("approve", application.pk), {}, format="json")
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_the_filer_may_not_approve_even_holding_the_approver_role(api, staff, company):
    staff["rm"].groups.add(
        *__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.filter(
            name=Role.APPROVER
        )
    )
    application = ApplicationFactory(company=company, status="in_approval", filed_by=staff["rm"])
    response = api(staff["rm"]).post(_url("approve", application.pk), {}, format="json")
    assert response.status_code == 403
    assert response.data["code"] in ("segregation_of_duties", "use_stage_endpoint")
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_staff_of_another_branch_get_404(api, staff, company, other_branch):
    from tests.factories import make_staff

    stranger = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="mallory_rm")
    application = ApplicationFactory(company=company, status="draft", filed_by=staff["rm"])
    client = api(stranger)
    assert client.get(reverse("api-application", args=[application.pk])).status_code == 404
    assert client.post(_url("submit", application.pk), {}, format="json").status_code == 404
    assert application.pk not in [
        row["id"] for row in client.get(reverse("api-applications")).data["results"]
    ]


def test_an_owner_sees_only_their_own_company(api, staff, company, owner, branch):
    from tests.factories import CompanyFactory

    mine = ApplicationFactory(company=company, status="submitted", filed_by=staff["rm"])
    theirs = ApplicationFactory(
        company=CompanyFactory(home_branch=branch), status="submitted", filed_by=staff["rm"]
    )
    client = api(owner)
    ids = [row["id"] for row in client.get(reverse("api-online-application")).data]
    assert ids == [mine.pk]
    assert client.get(reverse("api-portal-application", args=[theirs.pk])).status_code == 404
    # The staff's application endpoints are refused to owners, their own company's too.
    assert client.get(reverse("api-applications")).status_code == 403
    assert client.get(reverse("api-application", args=[mine.pk])).status_code == 403


@pytest.mark.parametrize("transition", sorted(INTERNAL_TRANSITIONS))
def test_a_stage_transition_is_refused_on_the_generic_endpoint(api, staff, company, transition):
    status = sorted(SOURCES[transition])[0]
    application = ApplicationFactory(company=company, status=status, filed_by=staff["rm2"])
    response = api(staff[ROLE_FOR[transition]]).post(
        _url(transition, application.pk), {}, format="json"
    )
    assert response.status_code == 403
    assert response.data["code"] == "use_stage_endpoint"
    application.refresh_from_db()
    assert application.status == status


def test_a_transition_writes_the_columns_it_changed_and_no_others(
    staff, company, django_assert_max_num_queries
):
    import re

    from applications.services import application_transition

    application = ApplicationFactory(
        company=company, status=Status.SUBMITTED, filed_by=staff["rm2"]
    )
    with django_assert_max_num_queries(100) as ctx:
        application_transition(
            application_id=application.pk, transition="start_investigation", actor=staff["rm"]
        )
    updates = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('UPDATE "applications_loanapplication"')
    ]
    assert len(updates) == 1, updates
    written = set(re.findall(r'"(\w+)" = ', updates[0].split(" WHERE ")[0]))
    assert written == {"status", "status_changed_at", "updated_at", "investigator_id"}
    application.refresh_from_db()
    assert application.status == Status.INVESTIGATION
    assert application.investigator == staff["rm"]


def test_a_json_value_changed_in_place_counts_as_changed(company, staff):
    from applications.services import _changed_fields, _column_values

    application = ApplicationFactory(company=company, filed_by=staff["rm2"])
    before = _column_values(application)
    assert _changed_fields(application, before) == ["updated_at"]
    application.product_snapshot["code"] = "CHANGED"
    assert _changed_fields(application, before) == ["product_snapshot", "updated_at"]
