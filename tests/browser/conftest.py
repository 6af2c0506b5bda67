"""Playwright in Debian's chromium (`playwright install` cannot download here)."""

import os

import pytest

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
    """login(page, user, portal=False): log in through the real login form."""

    def do_login(page, user, *, portal: bool = False):
        page.goto(f"{live_server.url}{'/portal/login/' if portal else '/login/'}")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='login/'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do_login
