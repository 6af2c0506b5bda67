"""Filing a complaint: the owner on the portal (about one of their company's applications or
in general), staff on the customer's behalf (telephone, letter, branch); who hears of it, in
their language; what is refused and how."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from complaints.models import Complaint
from notifications.models import EmailDelivery, Notification
from org.roles import Role
from tests.factories import ApplicationFactory, CompanyFactory, make_applicant, make_staff

pytestmark = pytest.mark.django_db


def file(api, owner, **data):
    return api(owner).post(reverse("api-portal-complaints"), data, format="json")


def test_an_owner_files_a_complaint_about_their_application_and_its_manager_hears_in_chinese(
    api, owner, application, categories, staff
):
    for person, language in ((staff["rm"], "zh-hans"), (staff["head"], "en")):
        person.staff_profile.preferred_language = language
        person.staff_profile.save()

    response = file(
        api,
        owner,
        category="delay",
        text="Nobody called us for two weeks.",
        application=application.pk,
    )

    assert response.status_code == 201, response.data
    complaint = Complaint.objects.get(pk=response.data["id"])
    assert (complaint.company, complaint.branch, complaint.application) == (
        application.company,
        application.company.home_branch,
        application,
    )
    assert (complaint.channel, complaint.status, complaint.filed_by) == (
        "portal",
        "received",
        owner,
    )
    assert complaint.relationship_manager == staff["rm"]
    assert response.data["status_display"] == "Received"
    assert response.data["category_name"] == "Processing time"
    # The handlers hear of it: alice in Chinese, and ivan, the branch head, in English.
    notices = {n.user.username: n for n in Notification.objects.filter(kind="complaint")}
    assert set(notices) == {"alice_rm", "ivan_head"}
    assert notices["alice_rm"].title == (
        f"新投诉 {complaint.reference}，来自 {application.company.name}"
    )
    assert notices["alice_rm"].body == "业务办理时效：Nobody called us for two weeks."
    assert notices["ivan_head"].body == "Processing time: Nobody called us for two weeks."
    assert notices["alice_rm"].url == reverse("complaint-detail", args=[complaint.pk])
    assert EmailDelivery.objects.get(user=staff["rm"]).language == "zh-hans"
    event = AuditEvent.objects.get(subject_type="complaints.complaint", subject_id=complaint.pk)
    assert (event.action, event.actor, event.to_state) == ("complaint_file", owner, "received")
    assert event.data["application_id"] == application.pk


def test_a_general_complaint_goes_to_the_manager_of_the_companys_latest_application(
    api, owner, application, categories, staff, company, product
):
    later = ApplicationFactory(
        company=company,
        product=product,
        status="submitted",
        filed_by=staff["rm2"],
        relationship_manager=staff["rm2"],
    )

    response = file(api, owner, category="service", text="Rude on the phone.")

    assert response.status_code == 201, response.data
    complaint = Complaint.objects.get(pk=response.data["id"])
    assert complaint.application is None and response.data["application"] is None
    assert complaint.relationship_manager == later.relationship_manager == staff["rm2"]


def test_the_owner_cannot_complain_about_another_companys_application(
    api, owner, categories, product, other_branch
):
    theirs = ApplicationFactory(company=CompanyFactory(home_branch=other_branch), product=product)

    response = file(api, owner, category="delay", text="Slow.", application=theirs.pk)

    assert response.status_code == 404
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"category": "nope", "text": "Slow."}, "category"),
        ({"category": "delay", "text": "   "}, "text"),
        ({"category": "delay"}, "text"),
        ({"text": "Slow."}, "category"),
        ({"category": "delay", "text": "x" * 4001}, "text"),
    ],
)
def test_a_bad_complaint_is_a_400_naming_the_field(api, owner, categories, data, field):
    response = file(api, owner, **data)

    assert response.status_code == 400
    assert field in response.data
    assert not Complaint.objects.exists()


def test_an_inactive_category_is_no_longer_offered(api, owner, categories):
    categories["fees"].is_active = False
    categories["fees"].save()

    offered = api(owner).get(reverse("api-portal-complaint-categories"))
    refused = file(api, owner, category="fees", text="Too dear.")

    assert "fees" not in [c["code"] for c in offered.data]
    assert offered.data[0] == {"code": "service", "name": "Service and staff conduct"}
    assert refused.status_code == 400 and "category" in refused.data


def test_the_owner_sees_their_companys_complaints_and_not_anothers(
    api, owner, application, categories, other_branch
):
    mine = file(api, owner, category="delay", text="Slow.").data["id"]
    other_company = CompanyFactory(home_branch=other_branch)
    charlie = make_applicant(other_company, username="charlie_owner")
    theirs = file(api, charlie, category="fees", text="Dear.").data["id"]

    listed = api(owner).get(reverse("api-portal-complaints"))
    mine_one = api(owner).get(reverse("api-portal-complaint", args=[mine]))
    theirs_one = api(owner).get(reverse("api-portal-complaint", args=[theirs]))

    assert [c["id"] for c in listed.data] == [mine]
    assert mine_one.status_code == 200 and mine_one.data["text"] == "Slow."
    assert theirs_one.status_code == 404


def test_staff_endpoints_refuse_an_owner_and_portal_endpoints_refuse_staff(
    api, owner, staff, categories
):
    assert api(owner).get(reverse("api-complaints")).status_code == 403
    assert api(staff["rm"]).get(reverse("api-portal-complaints")).status_code == 403
    assert (
        api(staff["rm"])
        .post(reverse("api-portal-complaints"), {"category": "delay", "text": "x"}, format="json")
        .status_code
        == 403
    )


def test_the_owner_files_from_the_portal_page_and_reads_it_there(
    client, owner, application, categories
):
    client.force_login(owner)
    page = client.get(reverse("portal-complaints") + f"?application={application.pk}")
    assert page.status_code == 200
    assert f'<option value="{application.pk}" selected>' in page.content.decode()

    response = client.post(
        reverse("portal-complaints"),
        {"category": "delay", "application": application.pk, "text": "Too slow."},
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-complaint", args=[complaint.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Too slow." in detail and complaint.reference in detail
    # An empty complaint is shown again with the field's message.
    bad = client.post(reverse("portal-complaints"), {"category": "delay", "text": ""})
    assert bad.status_code == 400 and bad.context["form"].errors["text"]


# --- Staff record a complaint on the customer's behalf -----------------------------------


def record(api, user, **data):
    return api(user).post(reverse("api-complaints"), data, format="json")


def test_staff_record_a_telephone_complaint_dated_the_day_it_was_received(
    api, staff, company, application, categories
):
    yesterday = timezone.now() - timedelta(days=1)

    response = record(
        api,
        staff["rm2"],
        credit_code=company.credit_code.lower(),
        category="fees",
        channel="phone",
        text="Called about the valuation fee.",
        application=application.pk,
        received_at=yesterday.isoformat(),
    )

    assert response.status_code == 201, response.data
    complaint = Complaint.objects.get(pk=response.data["id"])
    assert (complaint.channel, complaint.filed_by, complaint.received_at) == (
        "phone",
        staff["rm2"],
        yesterday,
    )
    assert complaint.relationship_manager == staff["rm"]
    assert response.data["actions"] == []  # bob recorded it; alice handles it
    event = AuditEvent.objects.get(subject_type="complaints.complaint", subject_id=complaint.pk)
    assert (event.action, event.actor) == ("complaint_record", staff["rm2"])
    # Bob recorded it, so he is not told; alice and the branch head are.
    heard = set(
        Notification.objects.filter(kind="complaint").values_list("user__username", flat=True)
    )
    assert heard == {"alice_rm", "ivan_head"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"channel": "portal"}, "channel"),
        ({"received_at": "2099-01-01T10:00:00+08:00"}, "received_at"),
        ({"received_at": "2020-01-01T10:00:00+08:00"}, "received_at"),
        ({"category": "nope"}, "category"),
        ({"credit_code": "", "company": None}, "company"),
    ],
)
def test_a_bad_record_is_a_400_naming_the_field(api, staff, company, categories, change, field):
    data = {
        "company": company.pk,
        "category": "fees",
        "channel": "letter",
        "text": "Letter received.",
        **change,
    }

    response = record(api, staff["rm"], **data)

    assert response.status_code == 400, response.data
    assert field in response.data


def test_an_application_of_another_company_is_refused_when_recording(
    api, staff, company, product, categories
):
    other = ApplicationFactory(
        company=CompanyFactory(home_branch=company.home_branch), product=product
    )

    response = record(
        api,
        staff["rm"],
        company=company.pk,
        category="fees",
        channel="branch",
        text="At the counter.",
        application=other.pk,
    )

    assert response.status_code == 400 and "application" in response.data


def test_staff_cannot_record_for_a_company_outside_their_branches_nor_without_the_role(
    api, staff, categories, other_branch, branch
):
    shanghai = CompanyFactory(home_branch=other_branch)
    beijing = CompanyFactory(home_branch=branch)
    data = {"category": "fees", "channel": "phone", "text": "Call."}

    outside = record(api, staff["rm"], company=shanghai.pk, **data)
    approver = record(api, staff["approver"], company=beijing.pk, **data)

    assert outside.status_code == 404
    assert approver.status_code == 403
    assert not Complaint.objects.exists()


def test_staff_record_from_the_page_by_credit_code_and_reference(
    client, staff, company, application, categories, other_branch
):
    client.force_login(staff["head"])
    assert client.get(reverse("complaint-record")).status_code == 200

    response = client.post(
        reverse("complaint-record"),
        {
            "credit_code": company.credit_code,
            "application": application.reference,
            "category": "service",
            "channel": "branch",
            "text": "Complained at the counter.",
        },
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaint-detail", args=[complaint.pk])
    assert (complaint.application, complaint.channel) == (application, "branch")
    # A company of another branch reads as unknown, on the form.
    stranger = CompanyFactory(home_branch=other_branch)
    bad = client.post(
        reverse("complaint-record"),
        {
            "credit_code": stranger.credit_code,
            "category": "service",
            "channel": "phone",
            "text": "x",
        },
    )
    assert bad.status_code == 400 and bad.context["form"].errors["credit_code"]
    # Staff without the permission do not get the form.
    client.force_login(make_staff(Role.CREDIT_REVIEWER, company.home_branch, username="rita"))
    assert client.get(reverse("complaint-record")).status_code == 403
