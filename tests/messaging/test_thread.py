"""The message thread of an application between its owner and the bank: who may read and
write it, who hears of a message, what an attachment may be, and where it shows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from approvals.models import ApprovalTask
from audit.models import AuditEvent
from messaging.models import Message
from notifications.models import EmailDelivery, Notification
from org.roles import Role
from tests import lifecycle
from tests.factories import ApplicationFactory, CompanyFactory, make_applicant, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(company, product, staff) -> LoanApplication:
    """The owner's company's application under investigation by its relationship manager."""
    return ApplicationFactory(
        company=company,
        product=product,
        status="investigation",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )


def messages_url(application, *, portal: bool) -> str:
    name = "api-portal-messages" if portal else "api-messages"
    return reverse(name, args=[application.pk])


def test_an_owners_message_reaches_the_relationship_manager_once_in_their_language(
    api, application, owner, staff
):
    profile = staff["rm"].staff_profile
    profile.preferred_language = "zh-hans"
    profile.save()

    response = api(owner).post(
        messages_url(application, portal=True),
        {"body": "When will the site visit be?"},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["side"] == "owner"
    notices = Notification.objects.filter(kind="message")
    assert [(n.user, n.application_id) for n in notices] == [(staff["rm"], application.pk)]
    assert notices[0].title == f"申请 {application.reference} 有新留言"
    assert "When will the site visit be?" in notices[0].body
    assert notices[0].url.startswith(reverse("application-detail", args=[application.pk]))
    delivery = EmailDelivery.objects.get(user=staff["rm"])
    assert delivery.language == "zh-hans"
    assert not Notification.objects.filter(user=owner).exists()
    event = AuditEvent.objects.get(action="message_post")
    assert (event.actor, event.application_id, event.subject_id) == (
        owner,
        application.pk,
        response.data["id"],
    )
    # The body stays in the thread, not in the audit trail's comment.
    assert "site visit" not in event.comment


def test_during_approval_the_claimant_of_the_task_hears_as_well_as_the_relationship_manager(
    api, staff, company, product, owner
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "in_approval")
    task = ApprovalTask.objects.filter(application_id=pk, status="open").first()
    ApprovalTask.objects.filter(pk=task.pk).update(
        status="claimed", claimed_by=staff["reviewer"], claimed_at=timezone.now()
    )

    response = api(owner).post(
        reverse("api-portal-messages", args=[pk]), {"body": "Any news?"}, format="json"
    )

    assert response.status_code == 201, response.data
    heard = sorted(
        Notification.objects.filter(kind="message").values_list("user__username", flat=True)
    )
    assert heard == sorted([staff["rm"].username, staff["reviewer"].username])


def test_a_staff_message_reaches_the_companys_owners_and_not_the_writer(
    api, application, owner, company, staff
):
    second_owner = make_applicant(company, username="otto_owner")

    response = api(staff["rm"]).post(
        messages_url(application, portal=False),
        {"body": "Please have last year's tax returns ready for the visit."},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["side"] == "bank"
    heard = Notification.objects.filter(kind="message")
    assert sorted(n.user.username for n in heard) == sorted(["olivia_owner", second_owner.username])
    assert all(
        n.url.startswith(reverse("portal-application", args=[application.pk])) for n in heard
    )
    assert not Notification.objects.filter(user=staff["rm"]).exists()


def test_the_thread_is_the_same_on_both_sides_oldest_first_and_read_when_opened(
    api, application, owner, staff
):
    api(owner).post(messages_url(application, portal=True), {"body": "First"}, format="json")
    api(staff["rm"]).post(
        messages_url(application, portal=False), {"body": "Second"}, format="json"
    )
    api(owner).post(messages_url(application, portal=True), {"body": "Third"}, format="json")

    staff_view = api(staff["rm"]).get(messages_url(application, portal=False))
    owner_view = api(owner).get(messages_url(application, portal=True))

    assert [m["body"] for m in staff_view.data] == ["First", "Second", "Third"]
    assert [m["body"] for m in owner_view.data] == ["First", "Second", "Third"]
    assert [m["side"] for m in owner_view.data] == ["owner", "bank", "owner"]
    # Each side's opening marked the other side's messages read, and only those.
    read = dict(Message.objects.values_list("body", "read_at"))
    assert all(read[body] is not None for body in ("First", "Second", "Third"))
    assert "author" not in owner_view.data[0]
    assert owner_view.data[1]["author_name"] == staff["rm"].get_full_name()


def test_the_owner_sees_the_bank_not_the_name_of_staff_other_than_their_manager(
    api, application, owner, staff
):
    api(staff["head"]).post(
        messages_url(application, portal=False), {"body": "Hello"}, format="json"
    )

    data = api(owner).get(messages_url(application, portal=True)).data

    assert data[0]["author_name"] == "The bank"
    assert staff["head"].get_full_name() not in str(data)
    # The notification signs it the same way, in the owner's language (Chinese by default).
    notice = Notification.objects.get(user=owner)
    assert notice.body == "银行 留言：Hello"
    assert staff["head"].get_full_name() not in notice.body


def test_another_companys_owner_gets_404_on_the_thread(api, application, owner, branch):
    api(owner).post(messages_url(application, portal=True), {"body": "Mine"}, format="json")
    message = Message.objects.get()
    stranger = make_applicant(CompanyFactory(home_branch=branch), username="oscar_owner")
    client = api(stranger)

    assert client.get(messages_url(application, portal=True)).status_code == 404
    posted = client.post(messages_url(application, portal=True), {"body": "Hi"}, format="json")
    assert posted.status_code == 404
    attachment = reverse("api-portal-message-attachment", args=[application.pk, message.pk])
    assert client.get(attachment).status_code == 404
    assert Message.objects.count() == 1


def test_staff_outside_the_applications_branch_get_404_and_owners_403_on_the_staff_thread(
    api, application, owner, other_branch
):
    outsider = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm")
    assert api(outsider).get(messages_url(application, portal=False)).status_code == 404
    posted = api(outsider).post(
        messages_url(application, portal=False), {"body": "x"}, format="json"
    )
    assert posted.status_code == 404
    response = api(owner).get(messages_url(application, portal=False))
    assert response.status_code == 403
    assert response.data["code"] == "staff_only"


def test_an_attachment_whose_content_is_not_an_accepted_type_is_refused_with_400(
    api, application, owner
):
    response = api(owner).post(
        messages_url(application, portal=True),
        {"body": "Our licence", "file": SimpleUploadedFile("licence.pdf", b"MZ\x90\x00 not a pdf")},
        format="multipart",
    )

    assert response.status_code == 400
    assert "PDF, JPEG, PNG, DOCX, XLSX" in response.data["file"][0]
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [("", "body"), ("   ", "body"), ("x" * 4001, "body")],
)
def test_an_empty_or_too_long_message_is_refused_with_400_naming_the_body(
    api, application, owner, body, field
):
    response = api(owner).post(
        messages_url(application, portal=True), {"body": body}, format="multipart"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.exists()


def test_odd_bytes_in_a_message_are_a_400_never_a_500(api, application, owner):
    client = api(owner)
    url = messages_url(application, portal=True)
    assert client.post(url, {"body": "a\x00b"}, format="multipart").status_code == 400
    raw = client.post(url, b"\xff\xfe{not json", content_type="application/json")
    assert raw.status_code == 400
    assert not Message.objects.exists()


def test_an_accepted_attachment_is_kept_with_the_case_and_both_sides_download_it(
    api, application, owner, staff
):
    content = b"%PDF-1.4\n%statement\n"
    response = api(owner).post(
        messages_url(application, portal=True),
        {"body": "The statement", "file": SimpleUploadedFile("statement.html", content)},
        format="multipart",
    )

    assert response.status_code == 201, response.data
    # Named by its content's type, whatever the name said.
    assert response.data["attachment_name"] == "statement.pdf"
    message = Message.objects.get()
    assert message.attachment_content_type == "application/pdf"
    assert "statement" not in message.attachment.name
    owner_download = api(owner).get(response.data["attachment_url"])
    assert owner_download.status_code == 200
    assert b"".join(owner_download.streaming_content) == content
    staff_url = (
        api(staff["rm"]).get(messages_url(application, portal=False)).data[0]["attachment_url"]
    )
    staff_download = api(staff["rm"]).get(staff_url)
    assert staff_download.status_code == 200
    assert staff_download["X-Content-Type-Options"] == "nosniff"


def test_both_pages_show_the_thread_and_post_to_it(client, application, owner, staff):
    client.force_login(owner)
    sent = client.post(
        reverse("messaging-portal-post", args=[application.pk]), {"body": "From the portal"}
    )
    assert sent.status_code == 302
    client.force_login(staff["rm"])
    sent = client.post(
        reverse("messaging-staff-post", args=[application.pk]), {"body": "From the bank"}
    )
    assert sent.status_code == 302
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert 'id="panel-messaging"' in page
    assert page.index("From the portal") < page.index("From the bank")

    client.force_login(owner)
    refused = client.post(
        reverse("messaging-portal-post", args=[application.pk]),
        {"body": "Bad file", "file": SimpleUploadedFile("x.pdf", b"\x00\x01\x02garbage")},
        follow=True,
    )
    assert refused.status_code == 200
    assert "not a document we accept" in refused.content.decode()
    page = client.get(reverse("portal-application", args=[application.pk])).content.decode()
    assert 'id="messages"' in page
    assert page.index("From the portal") < page.index("From the bank")
    assert "Bad file" not in page
    assert Message.objects.count() == 2


def test_the_admin_lists_messages_and_cannot_change_them(client, api, application, owner, staff):
    api(owner).post(messages_url(application, portal=True), {"body": "Kept"}, format="json")
    message = Message.objects.get()
    client.force_login(staff["admin"])

    listing = client.get(reverse("admin:messaging_message_changelist"))
    assert listing.status_code == 200
    assert application.reference in listing.content.decode()
    change = client.post(
        reverse("admin:messaging_message_change", args=[message.pk]), {"body": "Rewritten"}
    )
    assert change.status_code == 403
    assert Message.objects.get().body == "Kept"
