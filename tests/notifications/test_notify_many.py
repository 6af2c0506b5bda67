"""notify_many: many notifications in a fixed number of queries and one email task."""

import pytest
from django.core import mail
from django.utils.translation import gettext_lazy as _

from notifications.models import EmailDelivery, Notification, NotificationMute
from notifications.services import Message, email_deliveries_send, notify_many


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_notify_many_writes_everything_in_four_queries_and_queues_one_task(
    staff, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks

    queued = []
    monkeypatch.setattr(
        tasks.send_emails, "apply_async", lambda args, kwargs, **options: queued.append(args[0])
    )
    people = [staff[name] for name in ("rm", "rm2", "reviewer", "approver", "head")]
    messages = [
        Message(user=user, kind="reminder", title=f"LF{i} is due", url="/x/")
        for i, user in enumerate(people * 4)
    ]
    # Four queries: mutes, languages, the notifications, the emails.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        django_assert_num_queries(4),
    ):
        made = notify_many(messages)
    assert len(made) == 20 and all(n.pk for n in made)
    assert len(callbacks) == 1
    assert sorted(queued[0]) == sorted(EmailDelivery.objects.values_list("pk", flat=True))
    assert EmailDelivery.objects.count() == 20


@pytest.mark.django_db
def test_notify_many_respects_mutes_languages_and_inactive_users(staff):
    profile = staff["reviewer"].staff_profile
    profile.preferred_language = "zh-hans"
    profile.save()
    staff["rm"].staff_profile.preferred_language = "en"
    staff["rm"].staff_profile.save()
    NotificationMute.objects.create(user=staff["rm2"], kind="reminder")
    staff["approver"].is_active = False
    staff["approver"].save()
    staff["head"].email = ""
    staff["head"].save()

    made = notify_many(
        [
            Message(user=staff[name], kind=kind, title=_("Notifications"))
            for name in ("rm", "rm2", "reviewer", "approver", "head")
            for kind in ("reminder", "escalation")
        ]
    )

    assert len(made) == 7  # bob muted reminders (not escalations); dave is inactive
    titles = set(
        Notification.objects.filter(user=staff["reviewer"]).values_list("title", flat=True)
    )
    assert titles == {"通知"}
    assert set(Notification.objects.filter(user=staff["rm"]).values_list("title", flat=True)) == {
        "Notifications"
    }
    assert list(Notification.objects.filter(user=staff["rm2"]).values_list("kind", flat=True)) == [
        "escalation"
    ]
    assert not Notification.objects.filter(user=staff["approver"]).exists()
    deliveries = EmailDelivery.objects.all()
    assert deliveries.count() == 5  # nothing to an empty address
    assert {d.language for d in deliveries.filter(user=staff["reviewer"])} == {"zh-hans"}
    assert {d.subject for d in deliveries.filter(user=staff["reviewer"])} == {"[LoanFlow] 通知"}


@pytest.mark.django_db
def test_a_batch_of_emails_is_sent_once_each(staff, locmem):
    notify_many([Message(user=staff["rm"], kind="assignment", title=f"task {i}") for i in range(3)])
    ids = list(EmailDelivery.objects.values_list("pk", flat=True))
    assert email_deliveries_send(delivery_ids=ids) == 3
    assert email_deliveries_send(delivery_ids=ids) == 0  # never twice
    assert sorted(m.subject for m in mail.outbox) == [
        "[LoanFlow] task 0",
        "[LoanFlow] task 1",
        "[LoanFlow] task 2",
    ]
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
