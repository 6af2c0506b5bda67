"""Credit committee: quorum and majority, the chair closes, dissent stays on the record."""

import pytest

from approvals.models import ApprovalTask, MatrixVersion
from approvals.services import committee_outcome
from audit.models import AuditEvent
from common.errors import Conflict
from org.roles import Role
from tests.factories import make_staff


@pytest.mark.parametrize(
    ("approve", "decline", "abstain", "quorum", "majority", "outcome"),
    [
        (2, 1, 0, 3, 50, "approve"),
        (1, 1, 1, 3, 50, "decline"),  # a tie is no majority for lending
        (2, 0, 1, 3, 50, "approve"),  # abstentions count for the quorum only
        (2, 1, 0, 3, 66, "approve"),  # 66.7% > 66%
        (2, 1, 0, 3, 67, "decline"),  # 66.7% is not above 67%
        (3, 1, 1, 5, 75, "decline"),  # exactly 75% is not strictly above
        (4, 1, 0, 5, 75, "approve"),
        (0, 3, 0, 3, 50, "decline"),
    ],
)
def test_the_majority_decides_once_the_quorum_is_reached(
    approve, decline, abstain, quorum, majority, outcome
):
    assert (
        committee_outcome(
            approve=approve,
            decline=decline,
            abstain=abstain,
            quorum=quorum,
            majority_percent=majority,
        )
        == outcome
    )


@pytest.mark.parametrize(
    ("approve", "decline", "abstain", "quorum", "code"),
    [
        (2, 0, 0, 3, "no_quorum"),
        (1, 0, 1, 3, "no_quorum"),
        (0, 0, 3, 3, "no_majority"),
    ],
)
def test_the_vote_cannot_close_without_quorum_or_any_for_or_against(
    approve, decline, abstain, quorum, code
):
    with pytest.raises(Conflict) as exc:
        committee_outcome(
            approve=approve, decline=decline, abstain=abstain, quorum=quorum, majority_percent=50
        )
    assert exc.value.code == code


def _to_committee(api, staff, branch, application):
    """Clear credit review, tier 1 and tier 2 with distinct people."""
    tier2 = make_staff(Role.APPROVER, branch, username="tom_tier2", limit=50_000_000)
    for step, user in (
        ("credit_review", staff["reviewer"]),
        ("tier1", staff["approver"]),
        ("tier2", tier2),
    ):
        task = ApprovalTask.objects.get(application=application, step=step)
        response = api(user).post(
            f"/api/v1/approvals/tasks/{task.pk}/decide/",
            {"decision": "approve", "comment": "ok"},
            format="json",
        )
        assert response.status_code == 200, response.data
    return ApprovalTask.objects.get(application=application, step="committee")


@pytest.mark.django_db
def test_the_chair_closes_a_committee_vote_and_dissent_is_kept(
    matrix, in_approval, staff, branch, api
):
    application = in_approval(amount="1000000", grade="D")
    ApprovalTask.objects.filter(application=application)  # route: review, t1, t2, committee
    from approvals.models import ApproverLimit

    ApproverLimit.objects.create(user=staff["approver"], grade="D", max_amount=2_000_000)
    task = _to_committee(api, staff, branch, application)
    chair = staff["committee"]
    members = [chair] + [
        make_staff(Role.COMMITTEE_MEMBER, branch, username=f"member{i}") for i in range(3)
    ]
    assert api(chair).post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    vote_url = f"/api/v1/approvals/tasks/{task.pk}/vote/"
    close_url = f"/api/v1/approvals/tasks/{task.pk}/close-vote/"
    assert api(members[1]).post(vote_url, {"vote": "approve"}, format="json").status_code == 200
    assert (
        api(members[2])
        .post(vote_url, {"vote": "decline", "comment": "Grade D, thin margin"}, format="json")
        .status_code
        == 200
    )
    # Two of three: no quorum yet.
    response = api(chair).post(close_url, {}, format="json")
    assert response.status_code == 409 and response.data["code"] == "no_quorum"
    assert api(chair).post(vote_url, {"vote": "approve"}, format="json").status_code == 200
    # Only the chair closes.
    response = api(members[3]).post(close_url, {}, format="json")
    assert response.status_code == 403
    # Someone who acted at another step may not vote.
    staff["approver"].groups.add(
        __import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(
            name=Role.COMMITTEE_MEMBER
        )
    )
    staff["approver"].__dict__.pop("_loanflow_roles", None)
    response = api(staff["approver"]).post(vote_url, {"vote": "approve"}, format="json")
    assert response.status_code == 403 and response.data["code"] == "segregation_of_duties"
    response = api(chair).post(close_url, {"comment": "Approved 2 to 1"}, format="json")
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "approved"
    close = AuditEvent.objects.get(action="committee_close", subject_id=task.pk)
    assert close.data["dissent"] == ["member1"]
    assert close.data["approve"] == 2 and close.data["decline"] == 1
    shown = api(staff["reviewer"]).get(f"/api/v1/approvals/applications/{application.pk}/")
    votes = shown.data["steps"][3]["votes"]
    assert {v["member_username"]: v["vote"] for v in votes}["member1"] == "decline"


@pytest.mark.django_db
def test_a_committee_majority_against_declines(matrix, in_approval, staff, branch, api):
    MatrixVersion.objects.filter(pk=matrix.pk).update(committee_quorum=2)
    from approvals.models import ApproverLimit

    ApproverLimit.objects.create(user=staff["approver"], grade="E", max_amount=2_000_000)
    application = in_approval(amount="600000", grade="E")
    task = _to_committee(api, staff, branch, application)
    other = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_x")
    api(staff["committee"]).post(f"/api/v1/approvals/tasks/{task.pk}/claim/")
    for user, vote in ((staff["committee"], "decline"), (other, "abstain")):
        api(user).post(f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": vote}, format="json")
    response = api(staff["committee"]).post(
        f"/api/v1/approvals/tasks/{task.pk}/close-vote/", {}, format="json"
    )
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "declined"
    assert application.decline_reasons == ["committee_decline"]


@pytest.mark.django_db(transaction=True)
def test_a_vote_closing_waits_for_a_transition_of_its_application_without_holding_its_task(
    matrix, in_approval, staff, branch, api
):
    """As a decision does (test_queue): the chair's close locks the application before the
    committee task, the order in which a withdrawal locks them, so the two queue up instead
    of deadlocking."""
    from approvals.models import ApproverLimit
    from tests.approvals.locking import status_while_application_locked

    MatrixVersion.objects.filter(pk=matrix.pk).update(committee_quorum=2)
    ApproverLimit.objects.create(user=staff["approver"], grade="E", max_amount=2_000_000)
    application = in_approval(amount="600000", grade="E")
    task = _to_committee(api, staff, branch, application)
    other = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_y")
    chair = api(staff["committee"])
    assert chair.post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    for user in (staff["committee"], other):
        assert (
            api(user)
            .post(f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": "approve"}, format="json")
            .status_code
            == 200
        )
    status = status_while_application_locked(
        application_id=application.pk,
        task_id=task.pk,
        request=lambda: (
            chair.post(
                f"/api/v1/approvals/tasks/{task.pk}/close-vote/", {}, format="json"
            ).status_code
        ),
    )
    assert status == 200
    application.refresh_from_db()
    assert application.status == "approved"


@pytest.mark.django_db
def test_the_steps_before_a_committee_recommend_without_a_personal_limit_binding_them(
    matrix, in_approval, staff, branch, api
):
    from decimal import Decimal

    from approvals.models import ApproverLimit

    # Grade E goes to the committee; no approver's grade-E limit covers 900K.
    ApproverLimit.objects.update_or_create(
        user=staff["approver"], grade="E", currency="CNY", defaults={"max_amount": 500_000}
    )
    application = in_approval(amount="900000", grade="E")
    route = application.approval_records.get().route
    assert [s["code"] for s in route] == ["credit_review", "tier1", "tier2", "committee"]
    assert [s["checks_limit"] for s in route] == [False, False, False, False]
    committee = _to_committee(api, staff, branch, application)
    assert committee.status == "open"
    assert Decimal(application.amount) > 500_000
    # A route the tier decides alone still checks the limit (tests/approvals/test_segregation).
    other = in_approval(amount="800000", grade="B")
    assert [s["checks_limit"] for s in other.approval_records.get().route] == [False, True]


@pytest.mark.django_db
def test_a_vote_to_approve_says_how_each_open_high_flag_is_mitigated(
    matrix, in_approval, staff, branch, api, client
):
    from approvals.models import ApproverLimit, FlagMitigation
    from investigation.models import Flag, Investigation

    application = in_approval(amount="1000000", grade="D")
    ApproverLimit.objects.create(user=staff["approver"], grade="D", max_amount=2_000_000)
    investigation = Investigation.objects.create(application=application)
    task = _to_committee(api, staff, branch, application)
    # The committee sees a High flag raised since (a new analysis of the case).
    high = Flag.objects.create(
        investigation=investigation,
        application=application,
        code="revenue_vs_bank",
        severity="high",
        message="Declared revenue is far above the bank inflows",
        evidence={},
    )
    application.__class__.objects.filter(pk=application.pk).update(flag_count=1)
    member = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_m")
    url = f"/api/v1/approvals/tasks/{task.pk}/vote/"

    refused = api(member).post(url, {"vote": "approve"}, format="json")
    assert refused.status_code == 400
    assert refused.data["mitigations"] == {str(high.pk): ["Say how this High flag is mitigated."]}
    assert not task.votes.exists()
    # Declining or abstaining needs none.
    assert api(member).post(url, {"vote": "abstain"}, format="json").status_code == 200

    said = {str(high.pk): "Tax records confirm the revenue."}
    assert (
        api(member).post(url, {"vote": "approve", "mitigations": said}, format="json").status_code
        == 200
    )
    mitigation = FlagMitigation.objects.get(task=task)
    assert (mitigation.created_by, mitigation.text) == (member, "Tax records confirm the revenue.")
    vote = AuditEvent.objects.filter(action="committee_vote", subject_id=task.pk).last()
    assert vote.data["vote"] == "approve"
    assert vote.data["mitigations"][0]["flag_id"] == high.pk
    # A changed vote takes back what was said with the earlier one.
    assert (
        api(member).post(url, {"vote": "decline", "comment": "No"}, format="json").status_code
        == 200
    )
    assert not FlagMitigation.objects.filter(task=task).exists()

    # On the page: the vote form asks for it by the flag, and keeps what was entered.
    client.force_login(member)
    page = client.post(
        f"/approvals/tasks/{task.pk}/vote/", {"vote": "approve", "comment": "Strong collateral"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    form = html[html.index('id="vote-form"') :]
    assert f'name="mitigation-{high.pk}"' in form
    assert "Say how this High flag is mitigated." in form
    assert "Strong collateral" in form
    assert task.votes.get(member=member).vote == "decline"


@pytest.mark.django_db
def test_the_chair_closes_an_approving_vote_on_other_terms_checked_as_a_steps_are(
    matrix, in_approval, staff, branch, api
):
    from decimal import Decimal

    from applications.models import LoanApplication
    from approvals.models import ApproverLimit

    MatrixVersion.objects.filter(pk=matrix.pk).update(committee_quorum=2)
    ApproverLimit.objects.create(user=staff["approver"], grade="E", max_amount=2_000_000)
    application = in_approval(amount="600000", grade="E")
    task = _to_committee(api, staff, branch, application)
    other = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_t")
    chair = api(staff["committee"])
    close_url = f"/api/v1/approvals/tasks/{task.pk}/close-vote/"
    assert chair.post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    for user in (staff["committee"], other):
        api(user).post(f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": "approve"})
    # The same rule as a step's: no higher amount, no term outside the product's, a reason.
    response = chair.post(close_url, {"amount": "700000", "term_months": 600}, format="json")
    assert response.status_code == 400
    assert {"amount", "term_months"} <= set(response.data)
    response = chair.post(close_url, {"amount": "450000"}, format="json")
    assert response.status_code == 400 and "comment" in response.data
    task.refresh_from_db()
    assert task.status in ApprovalTask.OPEN_STATES
    response = chair.post(
        close_url,
        {"amount": "450000", "comment": "Approved at 450K: the order book carries no more."},
        format="json",
    )
    assert response.status_code == 200, response.data
    application = LoanApplication.objects.get(pk=application.pk)
    assert application.status == "approved"
    assert application.amount == Decimal("450000.00")
    assert application.requested_amount == Decimal("600000.00")
    close = AuditEvent.objects.get(action="committee_close", subject_id=task.pk)
    assert close.data["terms"] == {"amount": "450000.00"}


@pytest.mark.django_db
def test_a_vote_that_declines_cannot_carry_other_terms(matrix, in_approval, staff, branch, api):
    from approvals.models import ApproverLimit

    MatrixVersion.objects.filter(pk=matrix.pk).update(committee_quorum=2)
    ApproverLimit.objects.create(user=staff["approver"], grade="E", max_amount=2_000_000)
    application = in_approval(amount="600000", grade="E")
    task = _to_committee(api, staff, branch, application)
    other = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_u")
    chair = api(staff["committee"])
    chair.post(f"/api/v1/approvals/tasks/{task.pk}/claim/")
    for user in (staff["committee"], other):
        api(user).post(f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": "decline"})
    response = chair.post(
        f"/api/v1/approvals/tasks/{task.pk}/close-vote/",
        {"amount": "450000", "comment": "Lower"},
        format="json",
    )
    assert response.status_code == 400 and "terms" in response.data
    application.refresh_from_db()
    assert application.status == "in_approval"


@pytest.mark.django_db
def test_the_chairs_page_offers_other_terms_and_shows_a_refusal_by_its_field(
    matrix, in_approval, staff, branch, api, client
):
    from approvals.models import ApproverLimit

    MatrixVersion.objects.filter(pk=matrix.pk).update(committee_quorum=2)
    ApproverLimit.objects.create(user=staff["approver"], grade="E", max_amount=2_000_000)
    application = in_approval(amount="600000", grade="E")
    task = _to_committee(api, staff, branch, application)
    other = make_staff(Role.COMMITTEE_MEMBER, branch, username="member_v")
    api(staff["committee"]).post(f"/api/v1/approvals/tasks/{task.pk}/claim/")
    for user in (staff["committee"], other):
        api(user).post(f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": "approve"})
    client.force_login(staff["committee"])
    page = client.get(f"/approvals/tasks/{task.pk}/").content.decode()
    assert 'id="close-vote-form"' in page and 'name="amount"' in page
    refused = client.post(
        f"/approvals/tasks/{task.pk}/close-vote/",
        {"amount": "900000", "comment": "More"},
    )
    assert refused.status_code == 400
    assert 'id="amount-errors"' in refused.content.decode()
    task.refresh_from_db()
    assert task.status in ApprovalTask.OPEN_STATES
