"""In a browser: an approver's first login sets up an authenticator from the page's QR code
and secret, shows the recovery codes once, and goes on to the page asked for."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_approver_sets_up_an_authenticator_at_the_first_login(page, live_server, staff):
    page.goto(f"{live_server.url}/login/?next=/approvals/queue/")
    page.fill("input[name=username]", staff["approver"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/account/two-factor/enrol/" in page.url
    assert page.locator("figure.qr svg").is_visible()
    assert_accessible(page)
    # What a person types into the app: the secret shown under the QR code.
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    totp = TOTP(b32decode(secret))
    totp.time = time.time()
    page.fill("input[name=otp]", f"{totp.token():06d}")
    page.click("form[action$='enrol/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".recovery-codes li").count() == 10
    assert_accessible(page)
    page.get_by_role("link", name="Continue").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/approvals/queue/")
    assert_accessible(page)
