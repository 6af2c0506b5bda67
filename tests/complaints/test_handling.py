"""Handling a complaint: acknowledged, then resolved with a response or rejected with a
reason, by the company's relationship manager or the head of its branch; each transition
audited; the owner told of the answer in their language and reading it on the portal. Who
may not: 403 in scope, 404 out of it, 409 when the state does not allow it."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint
from notifications.models import Notification
from org.models import Branch
from org.roles import Role
from tests.factories import BranchFactory, CompanyFactory, make_applicant, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(owner, application, categories) -> Complaint:
    """Olivia's complaint about her application, which alice manages."""
    return services.complaint_file(
        actor=owner, category="delay", text="Nobody called us.", application_id=application.pk
    )


def act(api, user, complaint, action, **data):
    return api(user).post(
        reverse(f"api-complaint-{action}", args=[complaint.pk]), data, format="json"
    )


def test_the_manager_acknowledges_then_resolves_and_the_owner_reads_the_answer_in_chinese(
    api, complaint, staff, owner
):
    profile = owner.applicant_profile
    profile.preferred_language = "zh-hans"
    profile.save()
    Notification.objects.all().delete()

    acknowledged = act(api, staff["rm"], complaint, "acknowledge", note="Calling them today.")
    resolved = act(api, staff["rm"], complaint, "resolve", response="Visit booked for Monday.")

    assert acknowledged.status_code == 200, acknowledged.data
    assert acknowledged.data["status"] == "acknowledged"
    assert acknowledged.data["actions"] == ["resolve", "reject"]
    assert resolved.status_code == 200, resolved.data
    complaint.refresh_from_db()
    assert (complaint.status, complaint.response, complaint.answered_by) == (
        "resolved",
        "Visit booked for Monday.",
        staff["rm"],
    )
    assert complaint.acknowledged_by == staff["rm"] and complaint.acknowledged_at
    trail = list(
        AuditEvent.objects.filter(
            subject_type="complaints.complaint", subject_id=complaint.pk
        ).values_list(
            "action", "from_state", "to_state", "actor__username", "actor_role", "comment"
        )
    )
    assert trail == [
        ("complaint_file", "", "received", "olivia_owner", "applicant", ""),
        (
            "complaint_acknowledge",
            "received",
            "acknowledged",
            "alice_rm",
            "relationship_manager",
            "Calling them today.",
        ),
        (
            "complaint_resolve",
            "acknowledged",
            "resolved",
            "alice_rm",
            "relationship_manager",
            "Visit booked for Monday.",
        ),
    ]
    # The owner hears of the answer only, in Chinese, with a link to it on the portal.
    notice = Notification.objects.get()
    assert notice.user == owner and notice.kind == "complaint"
    assert notice.title == f"您的投诉 {complaint.reference} 已处理"
    assert notice.body == "Visit booked for Monday."
    assert notice.url == reverse("portal-complaint", args=[complaint.pk])
    seen = api(owner).get(reverse("api-portal-complaint", args=[complaint.pk])).data
    assert (seen["status"], seen["response"]) == ("resolved", "Visit booked for Monday.")
    # Nothing about who handled it, nor the note, reaches the owner.
    assert "alice" not in str(seen) and "Calling them today." not in str(seen)


def test_the_branch_head_rejects_with_a_reason_the_owner_reads(api, complaint, staff, owner):
    owner.applicant_profile.preferred_language = "en"
    owner.applicant_profile.save()
    act(api, staff["head"], complaint, "acknowledge")

    rejected = act(api, staff["head"], complaint, "reject", reason="The fee is in your contract.")

    assert rejected.status_code == 200, rejected.data
    assert rejected.data["status"] == "rejected"
    assert rejected.data["response"] == "The fee is in your contract."
    notice = Notification.objects.get(user=owner)
    assert notice.title == f"Your complaint {complaint.reference} was answered"


def test_a_branch_head_above_the_branch_may_handle_it_too(api, complaint, head_office, branch):
    regional = make_staff(Role.BRANCH_HEAD, head_office, username="harry_head")

    assert act(api, regional, complaint, "acknowledge").status_code == 200


def test_a_company_that_never_applied_is_handled_by_its_branchs_relationship_managers(
    api, owner, categories, staff
):
    general = services.complaint_file(actor=owner, category="service", text="Rude.")

    heard = set(
        Notification.objects.filter(kind="complaint").values_list("user__username", flat=True)
    )
    assert general.relationship_manager is None
    assert heard == {"alice_rm", "bob_rm", "ivan_head"}
    assert act(api, staff["rm2"], general, "acknowledge").status_code == 200


def test_resolving_before_acknowledging_or_twice_is_a_409(api, complaint, staff):
    early = act(api, staff["rm"], complaint, "resolve", response="Done.")
    act(api, staff["rm"], complaint, "acknowledge")
    again = act(api, staff["rm"], complaint, "acknowledge")
    act(api, staff["rm"], complaint, "resolve", response="Done.")
    after = act(api, staff["rm"], complaint, "reject", reason="No.")

    assert (early.status_code, early.data["code"]) == (409, "transition_not_allowed")
    assert again.status_code == 409
    assert after.status_code == 409
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.response == "Done."


def test_a_resolution_needs_a_response_and_a_rejection_a_reason(api, complaint, staff):
    act(api, staff["rm"], complaint, "acknowledge")

    no_response = act(api, staff["rm"], complaint, "resolve", response="  ")
    no_reason = act(api, staff["rm"], complaint, "reject")
    too_long = act(api, staff["rm"], complaint, "resolve", response="x" * 4001)

    assert no_response.status_code == 400 and "response" in no_response.data
    assert no_reason.status_code == 400 and "reason" in no_reason.data
    assert too_long.status_code == 400 and "response" in too_long.data
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"


def test_another_manager_of_the_branch_sees_it_but_may_not_handle_it(api, complaint, staff):
    seen = api(staff["rm2"]).get(reverse("api-complaint", args=[complaint.pk]))
    refused = act(api, staff["rm2"], complaint, "acknowledge")

    assert seen.status_code == 200 and seen.data["actions"] == []
    assert (refused.status_code, refused.data["code"]) == (403, "not_handler")
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_staff_without_the_role_are_refused_and_staff_of_another_branch_do_not_find_it(
    api, complaint, staff, other_branch
):
    shanghai_head = make_staff(Role.BRANCH_HEAD, other_branch, username="sam_head")

    role = act(api, staff["approver"], complaint, "acknowledge")
    elsewhere = act(api, shanghai_head, complaint, "acknowledge")
    elsewhere_get = api(shanghai_head).get(reverse("api-complaint", args=[complaint.pk]))
    owner_token = act(api, complaint.filed_by, complaint, "acknowledge")

    assert (role.status_code, role.data["code"]) == (403, "role")
    assert elsewhere.status_code == 404 and elsewhere_get.status_code == 404
    assert owner_token.status_code == 403
    assert (
        api(staff["rm"])
        .post(reverse("api-complaint-acknowledge", args=[999999]), {}, format="json")
        .status_code
        == 404
    )


def test_the_list_shows_each_staff_member_their_branch_subtrees_complaints_open_first(
    api, complaint, staff, categories, branch, other_branch, head_office
):
    sub = BranchFactory(code="BJ01", name="Haidian", parent=branch, level=Branch.Level.SUB_BRANCH)
    haidian_owner = make_applicant(CompanyFactory(home_branch=sub), username="hana_owner")
    shanghai_owner = make_applicant(CompanyFactory(home_branch=other_branch), username="sue_owner")
    haidian = services.complaint_file(actor=haidian_owner, category="fees", text="Fee.")
    shanghai = services.complaint_file(actor=shanghai_owner, category="fees", text="Fee.")
    services.complaint_acknowledge(actor=staff["head"], complaint_id=haidian.pk)
    services.complaint_resolve(actor=staff["head"], complaint_id=haidian.pk, response="Refunded.")
    sub_rm = make_staff(Role.RELATIONSHIP_MANAGER, sub, username="hal_rm")

    def listed(user, **params):
        response = api(user).get(reverse("api-complaints"), params)
        assert response.status_code == 200
        return [row["reference"] for row in response.data["results"]]

    assert listed(staff["head"]) == [complaint.reference, haidian.reference]
    assert listed(staff["head"], status="open") == [complaint.reference]
    assert listed(staff["rm"], mine="1") == [complaint.reference]
    assert listed(sub_rm) == [haidian.reference]
    assert listed(staff["risk"]) == [complaint.reference, shanghai.reference, haidian.reference]


def test_the_handler_acts_from_the_pages(client, complaint, staff):
    client.force_login(staff["rm"])
    listed = client.get(reverse("complaint-list")).content.decode()
    assert complaint.reference in listed
    page = client.get(reverse("complaint-detail", args=[complaint.pk])).content.decode()
    assert "Nobody called us." in page and 'id="complaint-actions"' in page
    case = client.get(reverse("application-detail", args=[complaint.application_id]))
    assert reverse("complaint-detail", args=[complaint.pk]) in case.content.decode()

    client.post(reverse("complaint-transition", args=[complaint.pk, "acknowledge"]))
    # Someone in scope without the right to act gets no buttons and a 403 on a POST.
    client.force_login(staff["rm2"])
    page = client.get(reverse("complaint-detail", args=[complaint.pk])).content.decode()
    assert 'id="complaint-actions"' not in page
    refused = client.post(
        reverse("complaint-transition", args=[complaint.pk, "reject"]), {"text": "No."}
    )
    assert refused.status_code == 403
    client.force_login(staff["rm"])
    empty = client.post(
        reverse("complaint-transition", args=[complaint.pk, "resolve"]), {"text": ""}, follow=True
    )
    assert "Write the response the customer will read." in empty.content.decode()
    done = client.post(
        reverse("complaint-transition", args=[complaint.pk, "resolve"]),
        {"text": "We called you back."},
        follow=True,
    )

    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert "We called you back." in done.content.decode()
