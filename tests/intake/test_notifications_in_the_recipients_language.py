"""Each person's notifications and e-mails are in their own language (their preferred one,
kept when they switch the interface), never in the language of whoever caused them."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from customers.models import ApplicantProfile
from intake.models import Document, DocumentType
from notifications.models import EmailDelivery, Notification
from org.models import StaffProfile
from tests import lifecycle
from tests.factories import make_applicant
from tests.intake.conftest import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(api, staff, company, product, checklist):
    DocumentType.objects.filter(code="business_licence").update(name_zh="营业执照")
    pk = lifecycle.file_draft(api, staff, company, product)
    client = api(staff["rm"])
    client.post(
        reverse("api-documents", args=[pk]),
        {"document_type": "business_licence", "file": pdf()},
        format="multipart",
    )
    assert client.post(reverse("api-application-submit", args=[pk]), {}, format="json").status_code
    return pk


def test_an_english_owner_is_told_in_english_while_the_bank_works_in_chinese(
    api, staff, submitted, company
):
    english = make_applicant(company, username="emma_owner")
    chinese = make_applicant(company, username="wang_owner")
    ApplicantProfile.objects.filter(user=english).update(preferred_language="en")
    ApplicantProfile.objects.filter(user=chinese).update(preferred_language="zh-hans")
    doc = Document.objects.get(application_id=submitted)
    with translation.override(None):
        response = api(staff["rm"]).post(
            reverse("api-document-review", args=[submitted, doc.pk]),
            {"decision": "reject", "reason": "扫描件不清晰"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 200, response.data

    told = Notification.objects.get(user=english, kind="info_request")
    assert (told.title, told.body) == (
        "A document needs to be sent again",
        "Business licence: 扫描件不清晰",
    )
    told = Notification.objects.get(user=chinese, kind="info_request")
    assert (told.title, told.body) == ("有一份材料需要重新提交", "营业执照：扫描件不清晰")
    mail = EmailDelivery.objects.get(user=english)
    assert mail.language == "en" and "A document needs to be sent again" in mail.subject


def test_switching_the_interface_language_keeps_it_for_notifications(staff, owner):
    for user, profile in [(staff["rm"], StaffProfile), (owner, ApplicantProfile)]:
        client = Client()
        client.force_login(user)
        with translation.override(None):
            response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
        assert response.status_code == 302
        assert profile.objects.get(user=user).preferred_language == "en"
        with translation.override(None):
            client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
        assert profile.objects.get(user=user).preferred_language == "zh-hans"


def test_an_unknown_language_changes_nothing(staff):
    client = Client()
    client.force_login(staff["rm"])
    with translation.override(None):
        client.post(reverse("set_language"), {"language": "klingon", "next": "/"})
    assert StaffProfile.objects.get(user=staff["rm"]).preferred_language == "zh-hans"
