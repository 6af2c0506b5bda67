from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from disbursement.models import Instalment
from postloan import demo
from postloan.models import Loan
from postloan.services import loan_open
from tests.factories import ApplicationFactory

TODAY = timezone.localdate()


@pytest.fixture
def rules(db):
    demo.seed()


@pytest.fixture
def make_loan(staff, company, rules):
    """make_loan(dues=[(date, principal, interest), ...]) -> Loan (disbursed application with
    exactly these instalments)."""

    def make(dues=None, *, start: date | None = None, company_=None):
        start = start or TODAY - timedelta(days=200)
        if dues is None:
            dues = [
                (start + timedelta(days=30 * n), Decimal("1000.00"), Decimal("100.00"))
                for n in range(1, 7)
            ]
        principal = sum((p for _d, p, _i in dues), Decimal("0.00"))
        application = ApplicationFactory(
            company=company_ or company,
            status="disbursed",
            amount=principal,
            filed_by=staff["rm"],
            disbursed_at=timezone.now(),
        )
        loan = loan_open(
            application=application,
            actor=staff["checker"],
            data={"value_date": start.isoformat(), "amount": str(principal)},
        )
        Instalment.objects.bulk_create(
            [
                Instalment(
                    application=application,
                    number=n,
                    due_date=d,
                    principal=p,
                    interest=i,
                    total=p + i,
                    currency="CNY",
                )
                for n, (d, p, i) in enumerate(dues, start=1)
            ]
        )
        return Loan.objects.select_related("application").get(pk=loan.pk)

    return make
