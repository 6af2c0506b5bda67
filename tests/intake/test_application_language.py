"""An application's language (which its memo, offer letter and schedule follow) is chosen at
filing: the wizard offers it, starting from the interface's language."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from applications.models import LoanApplication

pytestmark = pytest.mark.django_db


def _request(client, company, product, **extra):
    data = {
        "product": product.pk,
        "amount": "800000.00",
        "term_months": 12,
        "interest_rate": "4.350",
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
        "purpose": "Working capital",
        **extra,
    }
    url = reverse("application-new-request") + f"?company={company.pk}"
    with translation.override(None):
        return client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_the_wizard_files_the_application_in_the_language_chosen(staff, company, product):
    client = Client()
    client.force_login(staff["rm"])
    response = _request(client, company, product, language="en")
    assert response.status_code == 302, response.content[:2000]
    application = LoanApplication.objects.get(company=company)
    assert (application.language, application.amount) == ("en", Decimal("800000.00"))


def test_the_wizard_offers_the_interface_language_first(staff, company, product):
    client = Client()
    client.force_login(staff["rm"])
    url = reverse("application-new-request") + f"?company={company.pk}"
    with translation.override(None):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "申请语言" in page
    assert '<option value="zh-hans" selected>' in page


def test_a_language_the_bank_does_not_offer_is_refused_with_a_field_message(
    staff, company, product
):
    client = Client()
    client.force_login(staff["rm"])
    response = _request(client, company, product, language="fr")
    assert response.status_code == 200  # the form again, with its message
    assert not LoanApplication.objects.filter(company=company).exists()
    assert "language" in response.context["form"].errors
