"""Bad news from the sources becomes flags with their evidence when the case is scored; the
investigation is pre-filled with facts that carry their source and time, which the
investigator confirms (verifying the declared fact, filling the assessment) or contradicts
with a reason."""

import pytest
from django.urls import reverse
from django.utils import translation

from datasources import services
from datasources.models import SourceFact, SourceQuery
from investigation.models import Flag, VerificationItem
from investigation.services import investigation_score
from tests.datasources.conftest import consent

pytestmark = pytest.mark.django_db

ALL = ["bureau", "tax", "registry", "courts"]


def _answered(api, application, staff, owner):
    consent(application, by=owner)
    response = api(staff["rm"]).post(
        reverse("api-sources-query", args=[application.pk]), {"sources": ALL}, format="json"
    )
    assert response.status_code == 202
    for query in SourceQuery.objects.filter(application=application):
        assert services.source_answer_fetch(query_id=query.pk) == "arrived"
    return {q.source: q for q in SourceQuery.objects.filter(application=application)}


def test_bad_news_raises_flags_with_evidence(api, troubled, staff, owner, company):
    owner_of_troubled = owner
    queries = _answered(api, troubled, staff, owner_of_troubled)
    investigation_score(application_id=troubled.pk, actor=staff["rm"])
    flags = {f.code: f for f in Flag.objects.filter(application=troubled)}
    # Every source had bad news: at least one flag from each.
    sources = {f.evidence.get("source") for f in flags.values() if "source" in f.evidence}
    assert sources == set(ALL), flags
    assert "tax_grade" in flags
    tax = flags["tax_grade"]
    assert tax.severity == "high" and tax.params["grade"] == "D"
    assert tax.evidence["query_id"] == queries["tax"].pk
    assert tax.evidence["answered_at"] == queries["tax"].answered_at.isoformat()
    assert tax.evidence["records"][0]["grade"] == "D"
    courts = flags["court_dishonest"]
    assert courts.evidence["records"] == queries["courts"].answer["dishonest_debtor"]
    with translation.override("en"):
        assert courts.text.startswith("The company is on the dishonest-debtor list")
    troubled.refresh_from_db()
    assert troubled.flag_count == len(flags) >= 4
    assert troubled.route_recommendation == "enhanced"


def test_clean_answers_raise_no_source_flags(api, investigating, staff, owner, settings):
    from tests.datasources.conftest import clean_everywhere, credit_code_where

    company = investigating.company
    company.credit_code = credit_code_where(clean_everywhere)
    company.save()
    _answered(api, investigating, staff, owner)
    investigation_score(application_id=investigating.pk, actor=staff["rm"])
    assert not [f for f in Flag.objects.filter(application=investigating) if "source" in f.evidence]


def test_facts_carry_source_and_time_and_the_investigator_confirms_them(
    api, investigating, staff, owner
):
    queries = _answered(api, investigating, staff, owner)
    facts = {f.key: f for f in SourceFact.objects.filter(application=investigating)}
    assert set(facts) == set(SourceFact.Key.values)
    grade = facts["tax_grade"]
    assert grade.source == "tax" and grade.observed_at == queries["tax"].answered_at
    assert grade.value == queries["tax"].answer["periods"][-1]["grade"]

    shown = api(staff["rm"]).get(reverse("api-sources", args=[investigating.pk]))
    row = next(f for f in shown.data["facts"] if f["key"] == "tax_grade")
    assert row["source"] == "tax" and row["observed_at"]

    confirmed = api(staff["rm"]).post(
        reverse("api-sources-fact-confirm", args=[investigating.pk, grade.pk])
    )
    assert confirmed.status_code == 200, confirmed.data
    investigating.investigation.refresh_from_db()
    assert investigating.investigation.tax_grade == grade.value

    representative = facts["legal_representative"]
    api(staff["rm"]).post(
        reverse("api-sources-fact-confirm", args=[investigating.pk, representative.pk])
    )
    item = VerificationItem.objects.get(
        investigation=investigating.investigation, fact="legal_representative"
    )
    assert item.status == "verified" and item.source == "registry"
    assert representative.value in item.note


def test_a_mismatch_needs_a_reason_and_marks_the_declared_fact(api, investigating, staff, owner):
    _answered(api, investigating, staff, owner)
    revenue = SourceFact.objects.get(application=investigating, key="declared_revenue")
    url = reverse("api-sources-fact-mismatch", args=[investigating.pk, revenue.pk])
    assert api(staff["rm"]).post(url, {"reason": ""}, format="json").status_code == 400
    response = api(staff["rm"]).post(
        url, {"reason": "The accounts show twice this revenue."}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "mismatch"
    item = VerificationItem.objects.get(investigation=investigating.investigation, fact="revenue")
    assert item.status == "mismatch" and item.source == "tax_record"
    assert "twice this revenue" in item.note
    # Someone other than the investigator may not decide.
    other = SourceFact.objects.get(application=investigating, key="tax_paid")
    refused = api(staff["rm2"]).post(
        reverse("api-sources-fact-confirm", args=[investigating.pk, other.pk])
    )
    assert refused.status_code == 403


def test_the_registrys_words_read_in_the_readers_language():
    import datetime

    from datasources import checks

    answer = {
        "status": "revoked",
        "changes": [
            {"on": "2026-11-01", "item": "legal_representative", "before": "A", "after": "B"}
        ],
    }
    flags = checks.flags_from(
        [{"source": "registry", "query_id": 7, "answered_at": "t", "answer": answer}],
        guarantee_limit=checks.Decimal("1"),
        today=datetime.date(2026, 12, 1),
    )
    texts = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts[language] = [
                Flag(code=f["code"], params=f["params"], message="").text for f in flags
            ]
    assert texts["en"] == [
        "The business registry shows the company as revoked.",
        "The legal representative changed on 2026-11-01, within the last year.",
    ]
    assert texts["zh-hans"] == [
        "工商登记显示该公司状态为吊销。",
        "法定代表人于2026-11-01变更，在近一年内。",
    ]
