"""The filing wizard shows where the RM is: the current step marked, the completed steps links
back to them; "New application" on My work opens the wizard."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests import lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def rm(staff):
    client = Client()
    client.force_login(staff["rm"])
    return client


def _steps(page: str) -> list[str]:
    ol = re.search(r'<ol class="steps">(.*?)</ol>', page, re.S).group(1)
    return [li.strip() for li in re.findall(r"<li(.*?)</li>", ol, re.S)]


def test_the_wizard_marks_the_first_step_as_current(rm):
    steps = _steps(rm.get(reverse("application-new")).content.decode())
    assert len(steps) == 4
    assert 'aria-current="step"' in steps[0] and ">Company" in steps[0]
    assert all('aria-current="step"' not in s and "<a " not in s for s in steps[1:])


def test_on_the_request_step_the_company_step_is_a_link_back(rm, company):
    page = rm.get(f"{reverse('application-new-request')}?company={company.pk}").content.decode()
    steps = _steps(page)
    assert f'<a href="{reverse("application-new")}">Company</a>' in steps[0]
    assert 'aria-current="step"' in steps[1] and ">Request" in steps[1]


def test_on_the_documents_step_every_earlier_step_is_a_link_and_documents_is_current(
    rm, api, staff, company, product
):
    pk = lifecycle.file_draft(api, staff, company, product)
    steps = _steps(rm.get(reverse("application-file-documents", args=[pk])).content.decode())
    detail = reverse("application-detail", args=[pk])
    assert f'<a href="{detail}">Company</a>' in steps[0]
    assert f'<a href="{detail}">Request</a>' in steps[1]
    parties = reverse("application-file-parties", args=[pk])
    assert f'<a href="{parties}">Guarantors and collateral</a>' in steps[2]
    assert 'aria-current="step"' in steps[3] and ">Documents" in steps[3]
    assert sum('aria-current="step"' in s for s in steps) == 1


def test_the_guarantors_step_is_marked_current_on_its_page(rm, api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    steps = _steps(rm.get(reverse("application-file-parties", args=[pk])).content.decode())
    assert 'aria-current="step"' in steps[2] and "Guarantors and collateral" in steps[2]
    assert "<a " not in steps[3]


def test_new_application_on_my_work_opens_the_wizard(rm):
    page = rm.get(reverse("home")).content.decode()
    assert re.search(
        rf'<a class="btn" href="{re.escape(reverse("application-new"))}">New application</a>',
        page,
    )
    assert reverse("application-create-simple") not in page
