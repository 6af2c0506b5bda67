"""A disbursement confirmation needs a fresh second factor (step-up)."""

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from tests.disbursement.test_disbursement import (  # noqa: F401 (fixtures)
    _eager_celery,
    _record,
    _satisfy_all,
    _signed,
    approved,
)
from tests.second_factor import age_step_up, api_with_old_code, code_of, enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(approved, api, staff):  # noqa: F811 (the imported fixture)
    """A disbursement recorded by the maker, waiting for the checker."""
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk).status_code == 201
    return approved


def test_a_disbursement_confirmation_through_the_api_needs_a_fresh_code(recorded, staff):
    checker = staff["checker"]
    client = api_with_old_code(checker, minutes=6)
    url = reverse("api-disbursement-confirm", args=[recorded.pk])
    refused = client.post(url, {}, format="json")
    assert refused.status_code == 403 and refused.data["code"] == "step_up_required"
    assert LoanApplication.objects.get(pk=recorded.pk).status == "contract_signed"
    done = client.post(url, {"otp": code_of(enrol(checker))}, format="json")
    assert done.status_code == 200, done.data
    assert LoanApplication.objects.get(pk=recorded.pk).status == "disbursed"


def test_a_disbursement_confirmation_on_its_page_needs_a_fresh_code(recorded, staff, client):
    checker = staff["checker"]
    client.force_login(checker)
    age_step_up(client, checker, minutes=6)
    url = reverse("disbursement-confirm", args=[recorded.pk])
    asked = client.post(url, {})
    page = reverse("disbursement-page", args=[recorded.pk])
    assert asked.status_code == 302
    assert asked.url == f"{reverse('second-factor-verify')}?next=%2Fdisbursement%2F{recorded.pk}%2F"
    assert LoanApplication.objects.get(pk=recorded.pk).status == "contract_signed"
    verified = client.post(
        reverse("second-factor-verify"), {"otp": code_of(enrol(checker)), "next": page}
    )
    assert verified.url == page
    done = client.post(url, {})
    assert done.status_code == 302
    assert LoanApplication.objects.get(pk=recorded.pk).status == "disbursed"
