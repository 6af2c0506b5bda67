"""Sign-up in a real browser: a new owner asks for a code, enters it with a password, binds
their company, and lands on the portal acting for it."""

import re

import pytest
from django.core import mail

from customers.models import CompanyBinding
from customers.uscc import with_check_character
from tests.factories import make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_owner_signs_up_and_binds_their_company(page, live_server, branch):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/portal/login/")
    page.click("text=New to the bank? Sign up")
    page.fill("input[name=address]", "li.na@example.cn")
    page.click("form[action$='sign-up/'] button[type=submit]")
    assert "Enter your code and choose a password" in page.content()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.fill("input[name=code]", code)
    page.fill("input[name=password1]", "Lotus-Harbour-2026")
    page.fill("input[name=password2]", "Lotus-Harbour-2026")
    page.click("form[action$='verify/'] button[type=submit]")
    assert "Bind a company" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    credit_code = with_check_character("91310115MA1K4XY80")
    page.fill(
        "input[name=credit_code]", credit_code[:-1] + ("1" if credit_code[-1] != "1" else "2")
    )
    page.fill("input[name=company_name]", "Shanghai Lotus Foods Co., Ltd.")
    page.fill("input[name=legal_representative]", "Li Na")
    page.fill("input[name=legal_representative_id]", make_resident_id(77))
    page.fill("input[name=registration_date]", "2019-05-20")
    page.select_option("select[name=home_branch]", str(branch.pk))
    page.click("form[action$='companies/'] button[type=submit]")
    assert "check character" in page.content()
    page.fill("input[name=credit_code]", credit_code)
    page.click("form[action$='companies/'] button[type=submit]")
    assert "You now act for Shanghai Lotus Foods Co., Ltd." in page.content()
    assert "My applications" in page.content()
    assert credit_code in page.content()
    binding = CompanyBinding.objects.get(user__username="li.na@example.cn")
    assert binding.status == "active"
    # Nothing on the portal's pages scrolls sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
