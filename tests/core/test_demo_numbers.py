"""The demo data's credit codes and resident ID numbers pass the checks the forms apply
(the demo files no guarantors)."""

from io import StringIO

import pytest
from django.core.management import call_command

from customers.models import Company
from customers.ric import validate_resident_id
from customers.uscc import validate_uscc
from intake.models import NegativeListEntry

pytestmark = pytest.mark.django_db


def test_the_demo_companies_and_negative_list_have_valid_numbers():
    call_command("seed_demo", applications=20, stdout=StringIO(), stderr=StringIO())
    companies = list(Company.objects.all())
    assert companies
    for company in companies:
        validate_uscc(company.credit_code)
        validate_resident_id(company.legal_representative_id)
    for entry in NegativeListEntry.objects.all():
        if entry.credit_code:
            validate_uscc(entry.credit_code)
        if entry.id_number:
            validate_resident_id(entry.id_number)
