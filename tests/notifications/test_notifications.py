import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse

from notifications.models import EmailDelivery, Notification
from notifications.services import email_delivery_send, notify
from tests import lifecycle


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_notify_records_the_notification_and_emails_after_commit(
    staff, locmem, django_capture_on_commit_callbacks
):
    from loanflow.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notify(
                user=staff["reviewer"],
                kind="assignment",
                title="New task: LF1 review",
                url="/applications/1/",
            )
            assert mail.outbox == []  # nothing leaves before the commit
    finally:
        app.conf.task_always_eager = False
    assert len(callbacks) == 1
    assert Notification.objects.get(user=staff["reviewer"]).title == "New task: LF1 review"
    assert mail.outbox[0].to == [staff["reviewer"].email]
    assert "http://" in mail.outbox[0].body and "/applications/1/" in mail.outbox[0].body
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


@pytest.mark.django_db
def test_emails_are_rendered_in_the_users_language(staff, locmem):
    from django.utils.translation import gettext_lazy as _

    profile = staff["reviewer"].staff_profile
    profile.preferred_language = "zh-hans"
    profile.save()
    notify(user=staff["reviewer"], kind="reminder", title=_("Notifications"))
    notify(user=staff["rm"], kind="reminder", title=_("Notifications"))
    staff["rm"].staff_profile.preferred_language = "en"
    titles = dict(Notification.objects.values_list("user__username", "title"))
    assert titles["carol_reviewer"] == "通知"
    assert EmailDelivery.objects.get(user=staff["reviewer"]).language == "zh-hans"


@pytest.mark.django_db
def test_a_failed_email_is_kept_and_retried_with_backoff(staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    notify(user=staff["rm"], kind="assignment", title="x")
    delivery = EmailDelivery.objects.get()
    assert email_delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error
    assert delivery.next_attempt_at > delivery.created_at
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_delivery_send(delivery_id=delivery.pk) == "sent"
    assert email_delivery_send(delivery_id=delivery.pk) == ""  # never twice


@pytest.mark.django_db
def test_a_muted_kind_is_not_delivered_but_escalations_cannot_be_muted(staff, api):
    client = api(staff["rm"])
    url = reverse("api-notification-mutes")
    assert client.post(url, {"kind": "reminder"}, format="json").status_code == 201
    refused = client.post(url, {"kind": "escalation"}, format="json")
    assert refused.status_code == 400 and "kind" in refused.data
    assert notify(user=staff["rm"], kind="reminder", title="late") is None
    assert notify(user=staff["rm"], kind="escalation", title="very late") is not None
    assert list(Notification.objects.values_list("kind", flat=True)) == ["escalation"]
    assert client.get(url).data == {"muted": ["reminder"]}
    assert client.delete(url, {"kind": "reminder"}, format="json").data == {"muted": []}


@pytest.mark.django_db
def test_users_list_and_mark_only_their_own_notifications(staff, api):
    mine = notify(user=staff["rm"], kind="assignment", title="alice's")
    notify(user=staff["rm"], kind="assignment", title="alice's second")
    theirs = notify(user=staff["rm2"], kind="assignment", title="bob's")
    alice = api(staff["rm"])
    listed = alice.get(reverse("api-notification-list"))
    assert listed.data["unread"] == 2
    assert {n["title"] for n in listed.data["results"]} == {"alice's", "alice's second"}
    assert alice.post(reverse("api-notification-read", args=[theirs.pk])).data == {"updated": 0}
    assert alice.post(reverse("api-notification-read", args=[mine.pk])).data == {"updated": 1}
    assert alice.get(reverse("api-notification-unread-count")).data == {"unread": 1}
    assert alice.post(reverse("api-notification-read-all")).data == {"updated": 1}
    assert api(staff["rm2"]).get(reverse("api-notification-unread-count")).data == {"unread": 1}


@pytest.mark.django_db
def test_the_bell_shows_the_unread_count_in_one_query(staff, django_assert_num_queries):
    for i in range(3):
        notify(user=staff["rm"], kind="assignment", title=f"task {i}")
    template = Template('{% include "notifications/bell.html" %}')
    user = staff["rm"]
    with django_assert_num_queries(1):
        html = template.render(Context({"user": user}))
    assert ">3</span>" in html and reverse("notification-list") in html


@pytest.mark.django_db
def test_the_notification_page_lists_and_marks_all_read(staff, client):
    notify(user=staff["rm"], kind="assignment", title="Review LF123")
    client.force_login(staff["rm"])
    page = client.get(reverse("notification-list"))
    assert page.status_code == 200 and "Review LF123" in page.content.decode()
    client.post(reverse("notification-read-all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    muted = client.post(reverse("notification-mute"), {"kind": "escalation", "mute": "1"})
    assert muted.status_code == 302
    assert not staff["rm"].notification_mutes.exists()


@pytest.mark.django_db
def test_applicants_hear_about_status_changes_in_plain_language(
    staff, owner, company, product, api
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    lifecycle._post(api(staff["rm"]), "request-information", pk, {"comment": "statements"})
    kinds = list(
        Notification.objects.filter(user=owner).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["status_change", "info_request"]
    assert EmailDelivery.objects.filter(to=owner.email).count() == 2
    assert not Notification.objects.filter(user=staff["rm"], kind="status_change").exists()
