"""Staff sign-in with a second factor: approvers, committee members, disbursement checkers,
risk officers and administrators enrol an authenticator at their first login and then enter
its code after the password; recovery codes work once; an administrator resets a lost one;
a relationship manager signs in with the password alone."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from org.models import TokenSecondFactor
from org.second_factor import recovery_codes_issue
from tests.second_factor import code_of, enrol

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Loanflow-2026"


def _password(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def test_an_approver_enrols_an_authenticator_at_first_login_and_sees_recovery_codes_once(
    client, staff
):
    approver = staff["approver"]
    response = _password(client, approver, next_url="/approvals/queue/")
    assert response.status_code == 302
    assert response.url == "/account/two-factor/enrol/?next=%2Fapprovals%2Fqueue%2F"
    # Nothing else is reachable before the enrolment.
    assert client.get(reverse("home")).url.startswith(reverse("second-factor-enrol"))
    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'id="otp-secret"' in html
    device = TOTPDevice.objects.get(user=approver, confirmed=False)
    # Reloading shows the same secret: a scanned code stays valid.
    client.get(response.url)
    assert TOTPDevice.objects.filter(user=approver).count() == 1

    wrong = client.post(reverse("second-factor-enrol"), {"otp": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=approver, confirmed=True).exists()

    done = client.post(
        reverse("second-factor-enrol"), {"otp": code_of(device), "next": "/approvals/queue/"}
    )
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert StaticToken.objects.filter(device__user=approver).count() == 10
    assert AuditEvent.objects.filter(action="second_factor_enrol", subject_id=approver.pk).exists()
    assert client.get("/approvals/queue/").status_code == 200
    # Enrolled, the enrolment page sends to the code page instead of showing a new secret.
    assert client.get(reverse("second-factor-enrol")).url.startswith(
        reverse("second-factor-verify")
    )


def test_a_login_without_the_code_reaches_no_staff_page_nor_the_api(client, staff):
    checker = staff["checker"]
    device = enrol(checker)
    response = _password(client, checker)
    assert response.url == "/account/two-factor/?next=%2F"
    for url in (reverse("home"), reverse("application-list"), "/disbursement/"):
        refused = client.get(url)
        assert refused.status_code == 302
        assert refused.url.startswith(reverse("second-factor-verify"))
    api = client.get(reverse("api-me"))
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    wrong = client.post(reverse("second-factor-verify"), {"otp": "123456", "next": "/"})
    assert wrong.status_code == 400
    assert client.get(reverse("home")).status_code == 302

    right = client.post(reverse("second-factor-verify"), {"otp": code_of(device), "next": "/"})
    assert right.status_code == 302 and right.url == "/"
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("api-me")).status_code == 200


def test_the_code_page_sends_nowhere_off_the_site(client, staff):
    device = enrol(staff["risk"])
    _password(client, staff["risk"])
    response = client.post(
        reverse("second-factor-verify"), {"otp": code_of(device), "next": "https://evil.test/"}
    )
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_recovery_code_signs_in_once(client, staff):
    risk = staff["risk"]
    enrol(risk)
    codes = recovery_codes_issue(user=risk)
    _password(client, risk)
    response = client.post(reverse("second-factor-verify"), {"otp": codes[0].upper()})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.get(action="second_factor_recovery_code_use").data == {"remaining": 9}
    client.post(reverse("logout"))
    _password(client, risk)
    StaticDevice.objects.filter(user=risk).update(throttling_failure_count=0)
    again = client.post(reverse("second-factor-verify"), {"otp": codes[0]})
    assert again.status_code == 400
    assert client.get(reverse("home")).status_code == 302


def test_a_relationship_manager_logs_in_with_the_password_alone(client, staff):
    response = _password(client, staff["rm"])
    assert response.status_code == 302 and response.url == "/"
    assert client.get(reverse("home")).status_code == 200
    assert not TOTPDevice.objects.filter(user=staff["rm"]).exists()


def test_an_administrator_resets_a_lost_second_factor_in_the_admin(client, staff):
    approver = staff["approver"]
    # The approver's session has passed the second factor; their token came with a code.
    approver_client = type(client)()
    approver_client.force_login(approver)
    Token.objects.create(user=approver)
    recovery_codes_issue(user=approver)
    assert approver_client.get(reverse("home")).status_code == 200

    client.force_login(staff["admin"])
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [approver.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=approver).exists()
    assert not StaticDevice.objects.filter(user=approver).exists()
    assert not Token.objects.filter(user=approver).exists()
    event = AuditEvent.objects.get(action="second_factor_reset")
    assert (event.actor, event.subject_id) == (staff["admin"], approver.pk)
    assert event.data["devices"] == 2
    # Their session lost its second factor: the next page is the enrolment.
    after = approver_client.get(reverse("home"))
    assert after.status_code == 302 and after.url.startswith(reverse("second-factor-enrol"))


def test_manage_py_second_factor_reset_resets_and_is_audited(staff):
    enrol(staff["committee"])
    call_command("second_factor_reset", "erin_committee")
    assert not TOTPDevice.objects.filter(user=staff["committee"]).exists()
    event = AuditEvent.objects.get(action="second_factor_reset")
    assert event.actor is None and event.data["username"] == "erin_committee"


def test_the_api_token_of_a_role_with_a_second_factor_needs_its_code(staff):
    url = reverse("api-token")
    approver = staff["approver"]
    creds = {"username": approver.username, "password": PASSWORD}
    before = APIClient().post(url, creds, format="json")
    assert before.status_code == 403
    assert before.json()["code"] == "second_factor_enrolment_required"
    device = enrol(approver)
    missing = APIClient().post(url, creds, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "otp_required"
    wrong = APIClient().post(url, {**creds, "otp": "000000"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_otp"
    assert not Token.objects.filter(user=approver).exists()
    good = APIClient().post(url, {**creds, "otp": code_of(device)}, format="json")
    assert good.status_code == 200
    token = Token.objects.get(user=approver)
    assert good.json()["token"] == token.key
    assert TokenSecondFactor.objects.filter(token=token).exists()
    rm = APIClient().post(
        url, {"username": staff["rm"].username, "password": PASSWORD}, format="json"
    )
    assert rm.status_code == 200


def test_the_admin_shows_no_authenticator_secrets(client, staff):
    enrol(staff["approver"])
    client.force_login(staff["admin"])
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
