from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from intake.models import NegativeListEntry, PrescreenResult, PrescreenRule
from intake.services import prescreen_evaluate
from tests import lifecycle

pytestmark = pytest.mark.django_db


def _rule(kind, **extra):
    return PrescreenRule.objects.create(name=kind, kind=kind, **extra)


@pytest.fixture
def draft(api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    return LoanApplication.objects.get(pk=pk)


def test_years_in_business_passes_and_fails(draft):
    _rule("min_years_in_business", min_years=Decimal("2"))
    assert prescreen_evaluate(draft)[1] == []
    draft.company.registration_date = date.today() - timedelta(days=200)
    draft.company.save()
    failures = prescreen_evaluate(draft)[1]
    assert "at least 2" in failures[0]["reasons"][0]


def test_excluded_industries_pass_and_fail(draft):
    _rule("excluded_industries", industry_codes="K70, B06")
    assert prescreen_evaluate(draft)[1] == []
    draft.company.industry_code = "K7010"
    draft.company.save()
    failures = prescreen_evaluate(draft)[1]
    assert failures[0]["reasons"] == ["The industry K7010 is excluded from lending."]


def test_amount_within_the_product_passes_and_fails(draft):
    _rule("amount_within_product")
    assert prescreen_evaluate(draft)[1] == []
    LoanApplication.objects.filter(pk=draft.pk).update(amount=Decimal("9000000"))
    draft.refresh_from_db()
    assert "outside the product's range" in prescreen_evaluate(draft)[1][0]["reasons"][0]


def test_a_rule_for_another_product_does_not_apply(draft):
    other = type(draft.product).objects.create(
        code="OTHER",
        name="Other",
        min_amount=1,
        max_amount=2,
        min_term_months=1,
        max_term_months=2,
        min_rate=1,
        max_rate=2,
    )
    _rule("amount_within_product", product=other)
    assert prescreen_evaluate(draft) == ([], [])


@pytest.mark.parametrize("party", ["company", "legal_rep", "guarantor"])
def test_negative_list_hits_on_company_legal_representative_and_guarantor(api, staff, draft, party):
    _rule("negative_list")
    assert prescreen_evaluate(draft)[1] == []
    if party == "company":
        NegativeListEntry.objects.create(
            kind="company", credit_code=draft.company.credit_code.lower(), reason="Loan fraud"
        )
        expected = f"The company {draft.company.name} is on the negative list: Loan fraud"
    elif party == "legal_rep":
        NegativeListEntry.objects.create(
            kind="person",
            id_number=draft.company.legal_representative_id,
            reason="Dishonest debtor",
        )
        expected = (
            f"The legal representative {draft.company.legal_representative} is on "
            "the negative list: Dishonest debtor"
        )
    else:
        api(staff["rm"]).post(
            reverse("api-guarantors", args=[draft.pk]),
            {"kind": "person", "name": "Zhang Heiming", "id_number": "110101197001010091"},
            format="json",
        )
        NegativeListEntry.objects.create(
            kind="person", name="Zhang Heiming", reason="Guarantor default"
        )
        expected = "The guarantor Zhang Heiming is on the negative list: Guarantor default"
    failures = prescreen_evaluate(draft)[1]
    assert failures[0]["reasons"] == [expected]
    NegativeListEntry.objects.update(is_active=False)
    assert prescreen_evaluate(draft)[1] == []


def test_a_failed_pre_screen_declines_after_the_submit_with_the_reasons(
    api, staff, draft, django_capture_on_commit_callbacks
):
    _rule("excluded_industries", industry_codes="C13")
    _rule("amount_within_product")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff["rm"]).post(
            reverse("api-application-submit", args=[draft.pk]), {}, format="json"
        )
    assert response.status_code == 200, response.data
    draft.refresh_from_db()
    assert draft.status == "declined"
    assert draft.decline_reasons == ["The industry C13 is excluded from lending."]
    result = PrescreenResult.objects.get(application=draft)
    assert result.passed is False and len(result.checked) == 2
    actions = list(
        AuditEvent.objects.filter(application=draft)
        .order_by("at", "id")
        .values_list("action", "actor_role")
    )
    assert actions[1:] == [
        ("submit", "relationship_manager"),
        ("prescreen_fail", "system"),
        ("decline", "system"),
    ]
    response = api(staff["rm"]).get(reverse("api-prescreen", args=[draft.pk]))
    assert response.data["passed"] is False
    assert response.data["failures"][0]["reasons"] == draft.decline_reasons


def test_a_passed_pre_screen_is_recorded_too(api, staff, draft, django_capture_on_commit_callbacks):
    _rule("amount_within_product")
    with django_capture_on_commit_callbacks(execute=True):
        api(staff["rm"]).post(reverse("api-application-submit", args=[draft.pk]), {}, format="json")
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert PrescreenResult.objects.get(application=draft).passed is True
    assert AuditEvent.objects.filter(application=draft, action="prescreen_pass").exists()


def test_a_failed_rule_and_its_reason_read_in_the_readers_language(draft):
    from django.utils import translation

    from intake.selectors import prescreen_latest
    from intake.services import prescreen_record

    PrescreenRule.objects.create(
        name="Amount within the product", name_zh="金额在产品范围内", kind="amount_within_product"
    )
    LoanApplication.objects.filter(pk=draft.pk).update(amount=Decimal("9000000.00"))
    draft.refresh_from_db()
    with translation.override("en"):  # checked while the RM works in English
        prescreen_record(application=draft)
    with translation.override("zh-hans"):
        failure = prescreen_latest(application=draft).failures[0]
        assert failure["name"] == "金额在产品范围内"
        assert failure["reasons"] == ["金额 9,000,000.00 超出产品范围 50,000.00 至 5,000,000.00。"]
    with translation.override("en"):
        failure = prescreen_latest(application=draft).failures[0]
        assert failure["name"] == "Amount within the product"
        assert failure["reasons"][0].startswith("The amount 9,000,000.00 is outside")
    # A result recorded before reasons were kept as codes keeps its words.
    PrescreenResult.objects.filter(application=draft).update(
        failures=[{"name": "Old rule", "reasons": ["旧的原因"], "passed": False}]
    )
    with translation.override("en"):
        assert prescreen_latest(application=draft).failures[0]["reasons"] == ["旧的原因"]
