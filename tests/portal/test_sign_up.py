"""A new SME owner signs up on the portal: a code sent to their mobile number or e-mail
address proves it is theirs (wrong, expired, locked and used codes refused), the password
meets the staff's rules, and django-axes limits the attempts."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from common.errors import InvalidInput
from portal.models import OneTimeCode
from portal.services import owner_sign_up

pytestmark = pytest.mark.django_db

ADDRESS = "wang.fang@example.cn"
PASSWORD = "Lotus-Harbour-2026"


class RecordingSms:
    """Stands in for the bank's SMS gateway adapter (LOANFLOW_SMS_BACKEND)."""

    sent: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> None:
        RecordingSms.sent.append((number, text))


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.fixture
def ask_code(client, django_capture_on_commit_callbacks):
    def ask(address: str = ADDRESS):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("portal-sign-up"), {"address": address})

    return ask


def _verify(client, code: str, password: str = PASSWORD, again: str | None = None):
    return client.post(
        reverse("portal-sign-up-verify"),
        {"code": code, "password1": password, "password2": again or password},
    )


def test_a_new_owner_signs_up_with_the_code_sent_to_their_email(client, ask_code):
    response = ask_code()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-sign-up-verify")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ADDRESS]
    code = _code(mail.outbox[0].body)
    # Only a keyed hash of the code is kept.
    row = OneTimeCode.objects.get(address=ADDRESS)
    assert code not in row.code_hash and len(row.code_hash) == 64

    response = _verify(client, code)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-companies")
    user = User.objects.get(username=ADDRESS)
    assert user.email == ADDRESS
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == ["applicant"]
    assert user.applicant_profile.company is None
    assert client.session["_auth_user_id"] == str(user.pk)
    # Without a company yet, the portal sends the owner to bind one.
    assert client.get(reverse("portal-home"))["Location"] == reverse("portal-companies")
    assert client.get(reverse("portal-companies")).status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"one_time_code_send", "owner_sign_up"} <= actions
    signed_up = AuditEvent.objects.get(action="owner_sign_up")
    assert signed_up.subject_id == user.pk and signed_up.actor_id == user.pk


def test_a_mobile_number_gets_its_code_through_the_configured_sms_backend(
    client, ask_code, settings
):
    settings.LOANFLOW_SMS_BACKEND = "tests.portal.test_sign_up.RecordingSms"
    RecordingSms.sent = []
    assert ask_code("+86 138-0013-8000").status_code == 302
    assert mail.outbox == []
    [(number, text)] = RecordingSms.sent
    assert number == "13800138000"
    assert _verify(client, _code(text)).status_code == 302
    user = User.objects.get(username="13800138000")
    assert user.applicant_profile.phone == "13800138000"


def test_an_address_that_is_neither_a_mobile_number_nor_an_email_is_refused(client, ask_code):
    response = ask_code("12345")
    assert response.status_code == 400
    assert "Enter a mainland mobile number" in response.content.decode()
    assert not OneTimeCode.objects.exists()


def test_a_wrong_code_is_refused_and_counted(client, ask_code):
    ask_code()
    right = _code(mail.outbox[0].body)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    response = _verify(client, wrong)
    assert response.status_code == 400
    assert "That code is wrong" in response.content.decode()
    assert OneTimeCode.objects.get(address=ADDRESS).attempts == 1
    assert not User.objects.filter(username=ADDRESS).exists()


def test_the_fifth_wrong_code_locks_it_and_then_even_the_right_code_is_refused(client, ask_code):
    ask_code()
    right = _code(mail.outbox[0].body)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(4):
        assert _verify(client, wrong).status_code == 400
    response = _verify(client, wrong)
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    response = _verify(client, right)
    assert response.status_code == 400
    assert "There is no valid code" in response.content.decode()
    assert not User.objects.filter(username=ADDRESS).exists()
    assert AuditEvent.objects.filter(action="one_time_code_lock").count() == 1


def test_an_expired_code_is_refused(client, ask_code):
    ask_code()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _verify(client, _code(mail.outbox[0].body))
    assert response.status_code == 400
    assert "This code has expired" in response.content.decode()
    assert not User.objects.filter(username=ADDRESS).exists()


def test_a_code_is_used_once(client, ask_code):
    ask_code()
    code = _code(mail.outbox[0].body)
    owner_sign_up(channel="email", address=ADDRESS, code=code, password=PASSWORD, language="en")
    with pytest.raises(InvalidInput) as refused:
        owner_sign_up(channel="email", address=ADDRESS, code=code, password=PASSWORD, language="en")
    assert refused.value.code == "code_none"
    assert User.objects.filter(username=ADDRESS).count() == 1


def test_a_weak_password_is_refused_by_the_staffs_rules_and_the_code_still_works(client, ask_code):
    ask_code()
    code = _code(mail.outbox[0].body)
    for weak, message in (
        ("12345678", "This password is too common."),
        ("Ab1-x", "This password is too short."),
        ("wang.fang@example", "The password is too similar"),
    ):
        response = _verify(client, code, password=weak)
        assert response.status_code == 400, weak
        assert message in response.content.decode(), weak
    assert not User.objects.filter(username=ADDRESS).exists()
    assert _verify(client, code).status_code == 302


def test_a_new_code_is_not_sent_within_a_minute_of_the_last(client, ask_code):
    assert ask_code().status_code == 302
    assert ask_code().status_code == 302
    assert len(mail.outbox) == 1
    assert OneTimeCode.objects.count() == 1
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    ask_code()
    assert len(mail.outbox) == 2
    # The newer code replaces the older one.
    assert _verify(client, _code(mail.outbox[0].body)).status_code == 400
    assert _verify(client, _code(mail.outbox[1].body)).status_code == 302


def test_an_address_with_an_account_gets_a_code_but_no_second_account(client, ask_code, owner):
    owner.email = ADDRESS
    owner.save(update_fields=["email"])
    assert ask_code().status_code == 302
    response = _verify(client, _code(mail.outbox[0].body))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-login")
    assert User.objects.filter(email=ADDRESS).count() == 1


def test_sign_up_codes_are_locked_out_by_axes_after_five_failures(client, ask_code, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOANFLOW_CODE_ATTEMPTS = 20  # the lock-out, not the code's own limit
    ask_code()
    right = _code(mail.outbox[0].body)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        assert _verify(client, wrong).status_code in (400, 429)
    response = _verify(client, right)
    assert response.status_code == 429
    assert not User.objects.filter(username=ADDRESS).exists()
    # Asking for another code for the address is locked out too.
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert ask_code().status_code == 429


def test_a_signed_in_owner_is_sent_from_the_sign_up_pages_to_the_portal(client, owner):
    client.force_login(owner)
    assert client.get(reverse("portal-sign-up"))["Location"] == reverse("portal-home")


def test_the_sign_up_page_is_in_chinese_for_a_chinese_browser(client):
    # (The request activates its language in this thread: it must not outlive the test.)
    with translation.override(None):
        page = client.get(
            reverse("portal-sign-up"), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert "手机号或电子邮箱" in page
    assert '<label for="id_address">' in page


@pytest.mark.parametrize(
    "typed", ["Wang.Fang@Example.CN", "  WANG.FANG@example.cn ", "wang.fang@example.cn"]
)
def test_an_owner_logs_in_with_their_e_mail_address_typed_in_any_capitals(client, owner, typed):
    owner.username = ADDRESS  # as sign-up stores it: lower case
    owner.save(update_fields=["username"])
    response = client.post(
        reverse("portal-login"), {"username": typed, "password": "pw-Loanflow-2026"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("portal-home")
    assert client.get(reverse("portal-home")).status_code == 200


def test_an_owner_logs_in_with_their_mobile_number_written_with_the_country_code(client, owner):
    owner.username = "13800138000"
    owner.save(update_fields=["username"])
    response = client.post(
        reverse("portal-login"), {"username": "+86 138-0013-8000", "password": "pw-Loanflow-2026"}
    )
    assert response["Location"] == reverse("portal-home")


def test_a_login_name_that_is_no_address_is_taken_as_typed(client, owner):
    owner.username = "Olivia_Owner"
    owner.save(update_fields=["username"])
    wrong_case = client.post(
        reverse("portal-login"), {"username": "olivia_owner", "password": "pw-Loanflow-2026"}
    )
    assert wrong_case.status_code == 200  # the form again, with its error
    response = client.post(
        reverse("portal-login"), {"username": "Olivia_Owner", "password": "pw-Loanflow-2026"}
    )
    assert response["Location"] == reverse("portal-home")
