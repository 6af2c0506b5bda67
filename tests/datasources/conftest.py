import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from datasources import adapters
from datasources.models import Consent
from investigation import demo
from investigation.services import investigation_open
from tests.factories import ApplicationFactory, CompanyFactory, make_uscc

SIMULATED = {
    "bureau": adapters.SimulatedBureau,
    "tax": adapters.SimulatedTax,
    "registry": adapters.SimulatedRegistry,
    "courts": adapters.SimulatedCourts,
}


@pytest.fixture(autouse=True)
def _fresh_breakers():
    cache.clear()
    yield
    cache.clear()


def subject(code: str) -> adapters.Subject:
    return adapters.Subject(
        credit_code=code,
        company_name="Test Co.",
        legal_representative="王伟",
        legal_representative_id="110101196001010011",
        as_of=datetime.date(2026, 12, 1),
    )


def credit_code_where(predicate) -> str:
    """The first fresh credit code for which predicate(code) holds."""
    for _ in range(2000):
        code = make_uscc()
        if predicate(code):
            return code
    raise AssertionError("no credit code found")


def bad_everywhere(code: str) -> bool:
    return all(cls().has_bad_news(subject(code)) for cls in SIMULATED.values())


def clean_everywhere(code: str) -> bool:
    return not any(cls().has_bad_news(subject(code)) for cls in SIMULATED.values())


@pytest.fixture
def config(product):
    demo.seed_questionnaire(product)
    return {"scorecard": demo.seed_scorecard(), "policy": demo.seed_policy()}


def _investigating(staff, company, product):
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


@pytest.fixture
def investigating(config, staff, company, product):
    """An application under investigation by alice_rm."""
    return _investigating(staff, company, product)


@pytest.fixture
def troubled(config, staff, branch, product):
    """Under investigation, for a company with bad news at every simulated source."""
    company = CompanyFactory(home_branch=branch, credit_code=credit_code_where(bad_everywhere))
    return _investigating(staff, company, product)


def consent(application, *, by, scope=("bureau", "tax", "registry", "courts"), days=30):
    """A consent in force, as the portal gives it."""
    row = Consent.objects.create(
        application=application,
        scope=list(scope),
        channel=Consent.Channel.PORTAL,
        valid_until=timezone.now() + datetime.timedelta(days=days),
    )
    row.grant(by=by)
    row.save()
    return row
