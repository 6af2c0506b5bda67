"""After a form, a page goes back only to a path on this site: a `next` naming another host
(a crafted link) is ignored."""

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/approvals/", True),
        ("https://evil.example/phish", False),
        ("//evil.example/phish", False),
        ("javascript:alert(1)", False),
    ],
)
def test_marking_a_notification_read_goes_back_only_within_the_site(staff, target, followed):
    note = Notification.objects.create(user=staff["rm"], kind="decision", title="Decided")
    client = Client()
    client.force_login(staff["rm"])
    response = client.post(reverse("notification-read", args=[note.pk]), {"next": target})
    assert response.status_code == 302
    expected = target if followed else reverse("notification-list")
    assert response["Location"] == expected


def test_an_investigation_action_goes_back_only_within_the_site(api, staff, company, product):
    from tests import lifecycle

    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "investigation")
    client = Client()
    client.force_login(staff["rm"])
    url = reverse("investigation-answers", args=[pk])
    response = client.post(url, {"next": "https://evil.example/x"})
    assert response.status_code == 302
    # back to the section the form belongs to, not to the page's top
    assert response["Location"] == reverse("investigation-workspace", args=[pk]) + "#questionnaire"
    response = client.post(url, {"next": "/applications/"})
    assert response["Location"] == "/applications/"


def test_a_message_after_an_action_is_shown_once(api, staff, company, product):
    from tests import lifecycle

    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "investigation")
    client = Client()
    client.force_login(staff["rm"])
    page = client.post(
        reverse("investigation-answers", args=[pk]), {}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    import re

    shown = re.findall(r'<ul class="messages".*?</ul>', page, re.S)
    # (the test product has no questionnaire: the action reports it)
    assert len(shown) == 1 and "There is no questionnaire for this product." in shown[0]
