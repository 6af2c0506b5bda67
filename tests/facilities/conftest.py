from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from facilities.models import DrawdownApproval, Facility, FacilityTerms
from tests.factories import ApplicationFactory, ProductFactory


@pytest.fixture
def facility_product(db):
    product = ProductFactory(
        code="SME-LINE",
        name="SME revolving line",
        name_zh="小微循环授信",
        min_amount=Decimal("100000"),
        max_amount=Decimal("5000000"),
        max_term_months=36,
    )
    FacilityTerms.objects.create(
        product=product,
        revolving=True,
        max_drawdown_term_months=12,
        drawdown_approval=DrawdownApproval.AUTOMATIC,
    )
    return product


@pytest.fixture
def make_facility(staff, company, facility_product):
    """An active facility of `company`, as the approval of its application and the signed
    contract leave it (test_lifecycle walks that path itself)."""

    def make(
        *,
        amount="1000000.00",
        revolving=True,
        approval=DrawdownApproval.AUTOMATIC,
        auto_limit=None,
        status=Facility.Status.ACTIVE,
        of_company=None,
    ) -> Facility:
        the_company = of_company or company
        application = ApplicationFactory(
            company=the_company,
            branch=the_company.home_branch,
            product=facility_product,
            amount=Decimal(amount),
            term_months=24,
            status="contract_signed",
            filed_by=staff["rm"],
        )
        today = timezone.localdate()
        return Facility.objects.create(
            application=application,
            company=the_company,
            branch=the_company.home_branch,
            amount=Decimal(amount),
            currency="CNY",
            term_months=24,
            revolving=revolving,
            max_drawdown_term_months=12,
            min_rate=Decimal("4.350"),
            max_rate=Decimal("8.000"),
            drawdown_approval=approval,
            auto_approval_limit=None if auto_limit is None else Decimal(auto_limit),
            approved_on=today,
            expires_on=today + timedelta(days=730),
            status=status,
        )

    return make
