import pytest

from datasources import demo
from datasources.models import Consent, SourceFact, SourceQuery
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db


def test_demo_cases_get_a_consent_and_the_answers_once(investigating, company):
    make_applicant(company, username="olivia_owner")
    demo.seed_history([investigating])
    demo.seed_history([investigating])
    consent = Consent.objects.get(application=investigating)
    assert consent.status == "granted" and consent.granted_by.username == "olivia_owner"
    queries = SourceQuery.objects.filter(application=investigating)
    assert sorted(q.source for q in queries) == ["bureau", "courts", "registry", "tax"]
    assert all(q.status == "arrived" and q.answer["simulated"] for q in queries)
    assert SourceFact.objects.filter(application=investigating).count() == 10


def test_seed_demo_loads_consents_and_answers_for_cases_under_way():
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", applications=20, strict=True, stdout=StringIO(), stderr=StringIO())
    assert Consent.objects.filter(status="granted").exists()
    assert SourceQuery.objects.filter(status="arrived").count() == 4 * Consent.objects.count()
    assert not SourceQuery.objects.exclude(
        application__status__in=["investigation", "in_approval"]
    ).exists()
