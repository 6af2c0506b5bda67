"""The owner accepts an offer knowingly: they see the offer, its terms and the schedule, tick
that they have read them and confirm with a one-time code sent to their own address; the
offer records who accepted, when, from where, with which browser, and the SHA-256 of
exactly what they were shown. Without the box or the code nothing changes."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from applications.services import application_transition
from approvals.models import ApprovalCondition
from audit.models import AuditEvent
from disbursement.models import Contract, Offer
from disbursement.selectors import offer_documents_sha256
from portal.models import OneTimeCode
from tests import lifecycle
from tests.factories import ApplicationFactory, CompanyFactory, make_applicant

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def _eager_celery():
    """Render the offer letter after commit in-process, as a worker would."""
    from loanflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def approved(staff, company, django_capture_on_commit_callbacks) -> LoanApplication:
    """Approved for 3.2M, with a condition precedent; the offer letter is rendered."""
    application = ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        amount=Decimal("3200000.00"),
        interest_rate=Decimal("4.350"),
        term_months=12,
        repayment_method="equal_instalments",
        language="en",
    )
    ApprovalCondition.objects.create(
        application=application, text="Pledge of receivables", created_by=staff["approver"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="approve", actor=None, system=True
        )
    assert Offer.objects.get(application=application).status == Offer.Status.READY
    mail.outbox.clear()  # the decision's notice; these tests count the codes
    return LoanApplication.objects.get(pk=application.pk)


def _accept(api, owner, pk, payload, **extra):
    return api(owner).post(
        reverse("api-portal-offer-accept", args=[pk]), payload, format="json", **extra
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _nothing_changed(application) -> None:
    application.refresh_from_db()
    assert application.status == "approved"
    offer = Offer.objects.get(application=application)
    assert offer.accepted_at is None and offer.accepted_by is None
    assert offer.accepted_documents_sha256 == "" and offer.accepted_from is None
    assert not Contract.objects.filter(application=application).exists()
    assert not AuditEvent.objects.filter(application=application, action="offer_accepted")


def test_the_code_goes_to_the_owners_own_address_and_is_bound_to_the_offer(approved, api, owner):
    code = lifecycle.offer_code(api, owner, approved.pk)
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert code in message.body
    row = OneTimeCode.objects.get(address=owner.email)
    assert row.purpose == f"offer_accept:{Offer.objects.get(application=approved).pk}"
    assert code not in row.code_hash
    sent = AuditEvent.objects.get(action="one_time_code_send", application=approved)
    assert sent.actor == owner


def test_an_offer_is_not_accepted_without_the_box_ticked(approved, api, owner):
    code = lifecycle.offer_code(api, owner, approved.pk)
    response = _accept(api, owner, approved.pk, {"otp": code})
    assert response.status_code == 400
    assert response.data["read_confirmed"] == [
        "Confirm that you have read the offer, its terms and the schedule."
    ]
    _nothing_changed(approved)
    # The code was not spent on a refused acceptance.
    assert OneTimeCode.objects.get(address=owner.email).closed_at is None


def test_an_offer_is_not_accepted_without_a_code(approved, api, owner):
    response = _accept(api, owner, approved.pk, {"read_confirmed": True})
    assert response.status_code == 400
    assert response.data["otp"] == ["Enter the code we sent you."]
    _nothing_changed(approved)


def test_a_wrong_code_is_refused_and_counted_and_nothing_changes(approved, api, owner):
    code = lifecycle.offer_code(api, owner, approved.pk)
    response = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": _wrong(code)})
    assert response.status_code == 400
    assert response.data["code"] == "code_wrong"
    assert "That code is wrong" in response.data["otp"][0]
    assert OneTimeCode.objects.get(address=owner.email).attempts == 1
    _nothing_changed(approved)


def test_an_expired_code_is_refused(approved, api, owner):
    code = lifecycle.offer_code(api, owner, approved.pk)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": code})
    assert response.status_code == 400
    assert response.data["code"] == "code_expired"
    _nothing_changed(approved)


def test_too_many_wrong_codes_lock_the_code_as_sign_up_does(approved, api, owner):
    code = lifecycle.offer_code(api, owner, approved.pk)
    for _ in range(4):
        refused = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": _wrong(code)})
        assert refused.status_code == 400
    locked = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": _wrong(code)})
    assert locked.status_code == 429
    assert locked.data["code"] == "code_locked"
    assert "Too many wrong codes" in locked.data["otp"][0]
    # Even the right code no longer works; a new one must be asked for.
    after = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": code})
    assert after.status_code == 400
    assert after.data["code"] == "code_none"
    _nothing_changed(approved)
    assert AuditEvent.objects.filter(action="one_time_code_lock").count() == 1


def test_a_code_for_one_offer_does_not_accept_another(approved, api, owner, staff, company):
    other = ApplicationFactory(company=company, status="approved", filed_by=staff["rm"])
    from disbursement.services import offer_create

    offer_create(application=other)
    code = lifecycle.offer_code(api, owner, approved.pk)
    response = _accept(api, owner, other.pk, {"read_confirmed": True, "otp": code})
    assert response.status_code == 400
    assert response.data["code"] == "code_none"
    _nothing_changed(other)


def test_the_owner_accepts_with_the_box_and_the_code_and_the_offer_records_who_when_where_what(
    approved, api, owner, settings
):
    settings.LOANFLOW_TRUSTED_PROXIES = 1
    before = timezone.now()
    shown = api(owner).get(reverse("api-portal-application", args=[approved.pk])).json()
    pdf = api(owner).get(shown["offer"]["pdf_url"]).content
    assert pdf.startswith(b"%PDF")

    response = lifecycle.accept_offer(
        api,
        owner,
        approved.pk,
        REMOTE_ADDR="10.0.0.5",  # the bank's proxy
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.data["status"] == "contract_signed"
    assert response.data["offer"]["can_accept"] is False

    offer = Offer.objects.get(application=approved)
    assert offer.accepted_by == owner
    assert before <= offer.accepted_at <= timezone.now()
    assert offer.accepted_from == "203.0.113.7"
    assert offer.accepted_user_agent == BROWSER
    # The digest is that of what the API showed: recomputed here from the same inputs.
    recomputed = offer_documents_sha256(
        terms=shown["offer"], schedule=shown["schedule"]["rows"], pdf=pdf
    )
    assert offer.accepted_documents_sha256 == recomputed
    assert shown["offer"]["documents_sha256"] == recomputed
    assert response.data["offer"]["documents_sha256"] == recomputed
    assert shown["offer"]["conditions"] == ["Pledge of receivables"]
    assert len(shown["schedule"]["rows"]) == 12

    event = AuditEvent.objects.get(application=approved, action="offer_accepted")
    assert event.actor == owner
    assert event.data["documents_sha256"] == recomputed
    assert event.data["accepted_from"] == "203.0.113.7"
    assert event.data["user_agent"] == BROWSER
    assert event.data["read_confirmed"] is True
    signed = AuditEvent.objects.get(application=approved, action="sign_contract")
    assert signed.actor == owner and signed.data["documents_sha256"] == recomputed
    assert Contract.objects.get(application=approved).recorded_by == owner
    # The code is used once.
    assert OneTimeCode.objects.get(address=owner.email).closed_at is not None


def test_a_changed_offer_letter_changes_the_digest_and_a_stale_page_is_refused(
    approved, api, owner
):
    client = api(owner)
    url = reverse("api-portal-application", args=[approved.pk])
    seen = client.get(url).data["offer"]["documents_sha256"]
    code = lifecycle.offer_code(api, owner, approved.pk)

    Offer.objects.filter(application=approved).update(pdf=b"%PDF-1.7 another letter")
    now = client.get(url).data["offer"]["documents_sha256"]
    assert now != seen

    stale = _accept(
        api, owner, approved.pk, {"read_confirmed": True, "otp": code, "documents_sha256": seen}
    )
    assert stale.status_code == 409
    assert stale.data["code"] == "offer_changed"
    _nothing_changed(approved)
    # The code was kept for the second look.
    fresh = _accept(
        api, owner, approved.pk, {"read_confirmed": True, "otp": code, "documents_sha256": now}
    )
    assert fresh.status_code == 200, fresh.data
    assert Offer.objects.get(application=approved).accepted_documents_sha256 == now


def test_the_digest_covers_every_term_the_schedule_and_the_letter():
    terms = {
        "amount": "3200000.00",
        "currency": "CNY",
        "interest_rate": "4.350",
        "term_months": 12,
        "repayment_method": "equal_instalments",
        "conditions": ["Pledge of receivables"],
    }
    row = {
        "number": 1,
        "due_date": "2027-01-06",
        "principal": "261000.00",
        "interest": "11600.00",
        "total": "272600.00",
        "closing_balance": "2939000.00",
    }
    base = offer_documents_sha256(terms=terms, schedule=[row], pdf=b"%PDF letter")
    # The same values in another form (Decimals, fewer decimals) give the same digest.
    same = {**terms, "amount": Decimal("3200000"), "interest_rate": Decimal("4.35")}
    assert offer_documents_sha256(terms=same, schedule=[row], pdf=b"%PDF letter") == base
    for key, value in [
        ("amount", "3200000.01"),
        ("interest_rate", "4.351"),
        ("term_months", 24),
        ("repayment_method", "equal_principal"),
        ("conditions", []),
    ]:
        changed = offer_documents_sha256(
            terms={**terms, key: value}, schedule=[row], pdf=b"%PDF letter"
        )
        assert changed != base, key
    assert offer_documents_sha256(terms=terms, schedule=[], pdf=b"%PDF letter") != base
    moved = {**row, "due_date": "2027-01-07"}
    assert offer_documents_sha256(terms=terms, schedule=[moved], pdf=b"%PDF letter") != base
    assert offer_documents_sha256(terms=terms, schedule=[row], pdf=b"%PDF other") != base
    assert offer_documents_sha256(terms=terms, schedule=[row], pdf=None) != base


def test_an_owner_of_another_company_gets_404_and_sends_no_code(approved, api, client):
    stranger = make_applicant(CompanyFactory(home_branch=approved.branch), username="mallory")
    for name in ("api-portal-offer-code", "api-portal-offer-accept"):
        response = api(stranger).post(
            reverse(name, args=[approved.pk]), {"read_confirmed": True, "otp": "123456"}
        )
        assert response.status_code == 404, name
    client.force_login(stranger)
    for action in ("code", "accept"):
        url = reverse(f"portal-offer-{action}", args=[approved.pk])
        assert client.post(url, {"read_confirmed": "on", "otp": "1"}).status_code == 404
    assert mail.outbox == [] and not OneTimeCode.objects.exists()
    _nothing_changed(approved)


def test_an_offer_no_longer_pending_gets_no_code_and_no_second_acceptance(approved, api, owner):
    lifecycle.accept_offer(api, owner, approved.pk)
    mail.outbox.clear()
    again = api(owner).post(reverse("api-portal-offer-code", args=[approved.pk]))
    assert again.status_code == 409
    assert again.data["code"] == "already_accepted"
    accepted = _accept(api, owner, approved.pk, {"read_confirmed": True, "otp": "123456"})
    assert accepted.status_code == 409
    assert mail.outbox == []


def test_an_owner_who_signed_up_by_mobile_gets_the_code_by_text_message(
    approved, api, company, settings
):
    from tests.portal.test_sign_up import RecordingSms

    settings.LOANFLOW_SMS_BACKEND = "tests.portal.test_sign_up.RecordingSms"
    RecordingSms.sent = []
    mobile_owner = make_applicant(company, username="13800138000")
    response = None
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api(mobile_owner).post(reverse("api-portal-offer-code", args=[approved.pk]))
    assert response.status_code == 202
    assert response.data == {"channel": "sms", "sent_to": "138****8000", "valid_minutes": 10}
    [(number, text)] = RecordingSms.sent
    assert number == "13800138000" and mail.outbox == []
    code = re.search(r"\b(\d{6})\b", text).group(1)
    accepted = _accept(api, mobile_owner, approved.pk, {"read_confirmed": True, "otp": code})
    assert accepted.status_code == 200, accepted.data


# --- The portal page -------------------------------------------------------------------------


def test_the_portal_page_shows_the_offer_the_schedule_the_box_and_asks_for_the_code(
    approved, client, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page_url = reverse("portal-application", args=[approved.pk])
    page = client.get(page_url).content.decode()
    panel = page.split('id="offer-panel"')[1]
    for shown in (
        'id="offer-terms"',
        "Pledge of receivables",
        'id="schedule-table"',
        f"/disbursement/{approved.pk}/offer.pdf",
        'name="read_confirmed"',
        "I have read the offer, its terms and the schedule",
        'name="otp"',
        'id="offer-code"',
    ):
        assert shown in panel, shown
    digest = re.search(r'name="documents_sha256" value="([0-9a-f]{64})"', panel).group(1)

    accept_url = reverse("portal-offer-accept", args=[approved.pk])
    refused = client.post(accept_url, {"otp": "123456", "documents_sha256": digest})
    assert refused.status_code == 400
    assert "Confirm that you have read the offer" in refused.content.decode()
    _nothing_changed(approved)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("portal-offer-code", args=[approved.pk]))
    assert sent.status_code == 302 and sent["Location"] == page_url + "#offer-panel"
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert "We sent a code to o***@example.com" in client.get(page_url).content.decode()

    wrong = client.post(
        accept_url, {"read_confirmed": "on", "otp": _wrong(code), "documents_sha256": digest}
    )
    assert wrong.status_code == 400
    assert "That code is wrong" in wrong.content.decode()
    _nothing_changed(approved)

    accepted = client.post(
        accept_url,
        {"read_confirmed": "on", "otp": code, "documents_sha256": digest},
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="198.51.100.23",
    )
    assert accepted.status_code == 302
    offer = Offer.objects.get(application=approved)
    assert offer.accepted_documents_sha256 == digest
    assert offer.accepted_from == "198.51.100.23" and offer.accepted_user_agent == BROWSER
    after = client.get(page_url).content.decode()
    assert 'id="contract-signed"' in after and digest in after
    assert 'id="accept-offer"' not in after


def test_the_acceptance_form_is_in_chinese_for_a_chinese_owner(approved, client, owner):
    client.force_login(owner)
    page = client.get(
        reverse("portal-application", args=[approved.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "我已阅读" in page


def test_the_bank_sees_how_the_offer_was_accepted(approved, api, owner, staff, client):
    lifecycle.accept_offer(api, owner, approved.pk, REMOTE_ADDR="192.0.2.44")
    digest = Offer.objects.get(application=approved).accepted_documents_sha256
    offer = api(staff["rm"]).get(reverse("api-disbursement", args=[approved.pk])).data["offer"]
    assert offer["accepted_documents_sha256"] == digest
    assert offer["accepted_from"] == "192.0.2.44"
    client.force_login(staff["rm"])
    page = client.get(reverse("disbursement-page", args=[approved.pk])).content.decode()
    assert 'id="offer-acceptance"' in page and digest in page and "192.0.2.44" in page


def test_the_page_says_why_when_the_offer_can_no_longer_be_accepted(approved, api, owner, client):
    lifecycle.accept_offer(api, owner, approved.pk)
    client.force_login(owner)
    for action in ("code", "accept"):
        response = client.post(
            reverse(f"portal-offer-{action}", args=[approved.pk]),
            {"read_confirmed": "on", "otp": "123456"},
        )
        assert response.status_code == 409, action
        assert "The offer has already been accepted." in response.content.decode(), action


def test_a_stale_page_is_refused_with_the_reason_and_nothing_changes(approved, client, owner):
    client.force_login(owner)
    Offer.objects.filter(application=approved).update(pdf=b"%PDF-1.7 another letter")
    response = client.post(
        reverse("portal-offer-accept", args=[approved.pk]),
        {"read_confirmed": "on", "otp": "123456", "documents_sha256": "0" * 64},
    )
    assert response.status_code == 409
    assert "changed since you opened the page" in response.content.decode()
    _nothing_changed(approved)
