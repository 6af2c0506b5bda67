"""Migration postloan 0015 gives every loan already on the book its application's customer and
terms, then requires them."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("postloan", "0014_exposure_snapshot")]
AFTER = [("postloan", "0015_loan_company_and_terms")]


@pytest.mark.django_db(transaction=True)
def test_loans_on_the_book_get_their_applications_customer_and_terms(company, product):
    from tests.factories import ApplicationFactory

    applications = [
        ApplicationFactory(
            company=company,
            product=product,
            status="disbursed",
            interest_rate=D(rate),
            term_months=term,
        )
        for rate, term in (("4.350", 12), ("6.125", 36))
    ]
    old = migrate(BEFORE)
    try:
        Loan = old.get_model("postloan", "Loan")
        for application in applications:
            Loan.objects.create(
                application_id=application.pk,
                branch_id=application.branch_id,
                relationship_manager_id=application.relationship_manager_id,
                principal=application.amount,
                outstanding_principal=application.amount,
                disbursed_on=date(2026, 1, 5),
            )
    finally:
        migrate(AFTER)
        migrate_to_latest()
    from postloan.models import Loan as NowLoan

    assert sorted(
        NowLoan.objects.values_list("application_id", "company_id", "interest_rate", "term_months")
    ) == sorted((a.pk, company.pk, a.interest_rate, a.term_months) for a in applications)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'postloan_loan' AND column_name = ANY(%s)",
            [["company_id", "interest_rate", "term_months"]],
        )
        assert dict(cursor.fetchall()) == {
            "company_id": "NO",
            "interest_rate": "NO",
            "term_months": "NO",
        }
