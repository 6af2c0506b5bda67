"""Playwright in Debian's chromium (`playwright install` cannot download here)."""

import os
from urllib.parse import urlsplit

import pytest

from tests.browser.accessibility import assert_accessible

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "pw-Loanflow-2026"  # what tests.factories.UserFactory sets


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture
def login(live_server):
    """login(page, user, portal=False): log in through the real login form, and for a role
    that needs a second factor, through the code's page with their authenticator's code. Both
    pages pass the accessibility check (at their first visit of the run), and so does the page
    they land on."""

    def do_login(page, user, *, portal: bool = False, password: str = PASSWORD):
        give_authenticator(user)
        path = "/portal/login/" if portal else "/login/"
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, once=True)
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("form[action$='login/'] button[type=submit]")
        page.wait_for_url(left(path))
        enter_code(page, user)
        assert_accessible(page)  # where they land: My work, or the owner's portal
        return page

    return do_login


def give_authenticator(user) -> None:
    """An authenticator for a user whose role needs one (as if enrolled earlier)."""
    from org.second_factor import requires_second_factor
    from tests.second_factor import enrol

    if requires_second_factor(user):
        enrol(user)


def enter_code(page, user) -> None:
    """After the password, on the code's page, type the code of the user's authenticator."""
    from org.second_factor import requires_second_factor
    from tests.second_factor import code_of, enrol

    if not requires_second_factor(user):
        return
    assert "/account/two-factor/?" in page.url, page.url
    assert_accessible(page, once=True)
    page.fill("input[name=otp]", code_of(enrol(user)))
    page.click("form[action$='two-factor/'] button[type=submit]")
    page.wait_for_url(left("/account/two-factor/"))


def left(path: str):
    """For page.wait_for_url: the browser has loaded a page at another path than `path`
    (quicker than waiting for the network to be idle for half a second)."""
    return lambda url: urlsplit(url).path != path
