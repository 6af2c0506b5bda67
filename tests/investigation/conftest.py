from decimal import Decimal

import pytest

from investigation import demo
from investigation.services import investigation_open
from tests.factories import ApplicationFactory


@pytest.fixture
def config(product):
    """The default questionnaire for the test product, scorecard v1 and policy v1."""
    demo.seed_questionnaire(product)
    return {"scorecard": demo.seed_scorecard(), "policy": demo.seed_policy()}


@pytest.fixture
def investigating(config, staff, company, product):
    """An application under investigation by alice_rm (created directly in that state)."""
    application = ApplicationFactory(
        company=company,
        product=product,
        status="investigation",
        amount=Decimal("800000.00"),
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )
    investigation_open(application=application)
    return application


FIGURES = {
    "revenue": Decimal("6000000"),
    "net_profit": Decimal("600000"),
    "total_assets": Decimal("8000000"),
    "total_liabilities": Decimal("3200000"),
    "current_assets": Decimal("4000000"),
    "current_liabilities": Decimal("2000000"),
    "bank_inflows_12m": Decimal("6000000"),
    "tax_paid": Decimal("180000"),
}
