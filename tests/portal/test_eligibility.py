"""Know before applying: a product publishes its admission criteria with its materials, in
both languages, and an owner checks their company against them by the submission's own
pre-screen rules (never the negative list), without an application being made."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from applications.models import LoanApplication
from audit.models import AuditEvent
from intake.models import (
    ChecklistItem,
    DocumentType,
    NegativeListEntry,
    PrescreenResult,
    PrescreenRule,
)
from tests import lifecycle

pytestmark = pytest.mark.django_db

TODAY = date.today()


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(product):
    """The demo bank's rules: two years in business, no real estate or coal mining, the
    amount within the product, and the negative list."""
    return [
        PrescreenRule.objects.create(
            name="Two years", kind="min_years_in_business", min_years=Decimal("2")
        ),
        PrescreenRule.objects.create(
            name="Industries",
            kind="excluded_industries",
            industry_codes="K70, B06",
            description="Not for real estate or coal mining",
            description_zh="不适用于房地产业和煤炭开采业",
        ),
        PrescreenRule.objects.create(name="Amount", kind="amount_within_product"),
        PrescreenRule.objects.create(name="Blacklist", kind="negative_list"),
    ]


def _facts(loan, **overrides) -> dict:
    return {
        "product": loan.code,
        "registration_date": date(2015, 3, 1).isoformat(),
        "industry_code": "C13",
        "amount": "800000.00",
        "term_months": 12,
        "guarantee_type": "credit",
        **overrides,
    }


def _check(api, owner, product, **overrides):
    return api(owner).post(
        reverse("api-portal-eligibility"), _facts(product, **overrides), format="json"
    )


# Fact sets the submission can be given (the request fits the product, else it cannot be
# filed): which rules fail.
FACT_SETS = [
    ({}, set()),
    ({"registration_date": TODAY - timedelta(days=400)}, {"min_years_in_business"}),
    ({"industry_code": "K7010"}, {"excluded_industries"}),
    (
        {"registration_date": TODAY - timedelta(days=30), "industry_code": "B0610"},
        {"min_years_in_business", "excluded_industries"},
    ),
    ({"amount": Decimal("9000000.00")}, {"amount_within_product"}),
]


@pytest.mark.parametrize(("facts", "failing"), FACT_SETS)
def test_the_eligibility_check_and_the_submission_fail_the_same_rules(
    api, staff, company, product, owner, rules, facts, failing, django_capture_on_commit_callbacks
):
    company.registration_date = facts.get("registration_date", company.registration_date)
    company.industry_code = facts.get("industry_code", company.industry_code)
    company.save()
    amount = facts.get("amount", Decimal("800000.00"))
    check = _check(
        api,
        owner,
        product,
        registration_date=company.registration_date.isoformat(),
        industry_code=company.industry_code,
        amount=str(amount),
    )
    assert check.status_code == 200, check.data
    rule_kinds = {rule.kind for rule in rules}
    failed_in_check = {c["kind"] for c in check.data["criteria"] if not c["met"]}
    assert failed_in_check == failing
    assert check.data["eligible"] is (not failing)

    pk = lifecycle.file_draft(api, staff, company, product)
    LoanApplication.objects.filter(pk=pk).update(amount=amount)
    with django_capture_on_commit_callbacks(execute=True):
        api(staff["rm"]).post(reverse("api-application-submit", args=[pk]), {}, format="json")
    result = PrescreenResult.objects.get(application_id=pk)
    assert {f["kind"] for f in result.failures} == failing
    # The same reasons, word for word.
    reasons = sorted(reason for f in result.failures for reason in f["reasons"])
    explained = sorted(
        c["explanation"] for c in check.data["criteria"] if c["kind"] in rule_kinds and not c["met"]
    )
    assert reasons == explained


def test_the_check_never_reads_nor_mentions_the_negative_list(api, company, product, owner, rules):
    NegativeListEntry.objects.create(
        kind="company", credit_code=company.credit_code, reason="Loan fraud, court ruling"
    )
    with CaptureQueriesContext(connection) as queries:
        response = _check(api, owner, product)
    assert response.status_code == 200, response.data
    assert response.data["eligible"] is True
    assert not any(
        NegativeListEntry._meta.db_table in query["sql"] for query in queries.captured_queries
    )
    assert "negative_list" not in {c["kind"] for c in response.data["criteria"]}
    text = str(response.data).lower()
    assert "negative" not in text and "fraud" not in text


def test_the_check_creates_no_application_and_records_nothing(api, company, product, owner, rules):
    before = (AuditEvent.objects.count(), PrescreenResult.objects.count())
    response = _check(api, owner, product, industry_code="K70")
    assert response.status_code == 200, response.data
    assert response.data["eligible"] is False
    assert not LoanApplication.objects.exists()
    assert (AuditEvent.objects.count(), PrescreenResult.objects.count()) == before


def test_each_criterion_says_in_plain_words_whether_it_is_met(api, product, owner, rules):
    response = _check(
        api,
        owner,
        product,
        registration_date=(TODAY - timedelta(days=200)).isoformat(),
        term_months=48,
        guarantee_type="mortgage",
    )
    assert response.status_code == 200, response.data
    by_kind = {c["kind"]: c for c in response.data["criteria"]}
    assert set(by_kind) == {
        "term_months",
        "guarantee_type",
        "min_years_in_business",
        "excluded_industries",
        "amount_within_product",
    }
    assert by_kind["term_months"] == {
        "kind": "term_months",
        "text": "A term from 3 to 36 months",
        "met": False,
        "explanation": "The term must be between 3 and 36 months for this product.",
    }
    assert by_kind["min_years_in_business"]["text"] == "At least 2.0 years in business"
    assert by_kind["min_years_in_business"]["met"] is False
    assert "at least 2.0 are required" in by_kind["min_years_in_business"]["explanation"]
    assert by_kind["excluded_industries"]["met"] is True
    assert by_kind["excluded_industries"]["text"] == "Not for real estate or coal mining"
    assert by_kind["guarantee_type"]["met"] is True
    assert by_kind["amount_within_product"]["met"] is True


def test_bad_input_is_answered_400_with_a_message_on_each_field(api, owner, product):
    response = api(owner).post(
        reverse("api-portal-eligibility"),
        {
            "product": product.code,
            "registration_date": "yesterday",
            "amount": "-5",
            "term_months": 0,
            "guarantee_type": "friendship",
        },
        format="json",
    )
    assert response.status_code == 400
    fields = response.data.get("details") or response.data
    assert {
        "registration_date",
        "industry_code",
        "amount",
        "term_months",
        "guarantee_type",
    } <= set(fields)
    future = _check(api, owner, product, registration_date=(TODAY + timedelta(days=3)).isoformat())
    assert future.status_code == 400
    assert "registration_date" in str(future.data)
    unknown = api(owner).post(
        reverse("api-portal-eligibility"), _facts(product, product="NO-SUCH"), format="json"
    )
    assert unknown.status_code == 400
    assert "product" in str(unknown.data)


def test_only_owners_check_and_not_too_often(api, staff, owner, product, settings):
    assert _check(api, staff["rm"], product).status_code == 403
    settings.LOANFLOW_ELIGIBILITY_RATE = "2/hour"
    assert _check(api, owner, product).status_code == 200
    assert _check(api, owner, product).status_code == 200
    assert _check(api, owner, product).status_code == 429


def test_the_page_prefills_the_company_and_shows_each_criterion(
    client, company, owner, product, rules
):
    client.force_login(owner)
    page = client.get(reverse("portal-eligibility"), {"product": product.code})
    assert page.status_code == 200
    html = page.content.decode()
    assert company.registration_date.isoformat() in html
    assert f'value="{company.industry_code}"' in html
    response = client.post(
        reverse("portal-eligibility"), _facts(product, industry_code="K7010", term_months=48)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The industry K7010 is excluded from lending." in html
    assert "The term must be between 3 and 36 months for this product." in html
    assert "Not met" in html
    assert not LoanApplication.objects.exists()
    bad = client.post(reverse("portal-eligibility"), _facts(product, amount="lots"))
    assert bad.status_code == 400
    assert "Enter a number." in bad.content.decode()


def test_the_page_is_limited_like_the_api(client, owner, product, settings):
    settings.LOANFLOW_ELIGIBILITY_RATE = "1/hour"
    client.force_login(owner)
    assert client.post(reverse("portal-eligibility"), _facts(product)).status_code == 200
    assert client.post(reverse("portal-eligibility"), _facts(product)).status_code == 429


@pytest.fixture
def materials(product):
    product.description = "For stock and wages."
    product.description_zh = "用于备货和工资。"
    product.save()
    licence = DocumentType.objects.create(
        code="business_licence",
        name="Business licence",
        name_zh="营业执照",
        description="A scan of the licence.",
        description_zh="营业执照扫描件。",
    )
    ChecklistItem.objects.create(product=product, document_type=licence, required=True)


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        (
            "en",
            [
                "For stock and wages.",
                "Who can apply",
                "At least 2.0 years in business",
                "Not for real estate or coal mining",
                "A term from 3 to 36 months",
                "Business licence",
                "A scan of the licence.",
            ],
            ["营业执照扫描件", "Two years", "Blacklist"],
        ),
        (
            "zh-hans",
            [
                "用于备货和工资。",
                "小微流动资金贷款",
                "不适用于房地产业和煤炭开采业",
                "经营满 2.0 年",
                "期限在 3 至 36 个月之间",
                "申请条件",
                "营业执照",
                "营业执照扫描件。",
            ],
            ["A scan of the licence.", "For stock and wages.", "Blacklist", "Who can apply"],
        ),
    ],
)
def test_the_product_page_publishes_the_criteria_and_materials_in_the_users_language(
    client, product, rules, materials, language, expected, absent
):
    client.cookies["django_language"] = language
    html = client.get(
        reverse("portal-product", args=[product.code]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    for text in expected:
        assert text in html
    for text in absent:
        assert text not in html


def test_the_product_api_publishes_the_criteria_in_both_languages(api, owner, product, rules):
    data = api(owner).get(reverse("api-product", args=[product.code])).data
    texts = [c["text"] for c in data["criteria"]]
    assert "Not for real estate or coal mining" in texts
    assert "negative_list" not in {c["kind"] for c in data["criteria"]}
    with translation.override("zh-hans"):
        data = (
            api(owner)
            .get(reverse("api-product", args=[product.code]), HTTP_ACCEPT_LANGUAGE="zh-hans")
            .data
        )
    assert "不适用于房地产业和煤炭开采业" in [c["text"] for c in data["criteria"]]


def test_the_check_answers_in_the_owners_language(api, owner, product, rules):
    response = api(owner).post(
        reverse("api-portal-eligibility"),
        _facts(product, industry_code="K7010"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200, response.data
    by_kind = {c["kind"]: c for c in response.data["criteria"]}
    assert by_kind["min_years_in_business"]["text"] == "经营满 2.0 年"
    assert by_kind["excluded_industries"]["text"] == "不适用于房地产业和煤炭开采业"
    assert by_kind["excluded_industries"]["met"] is False
    assert by_kind["term_months"]["explanation"] == "12 个月的期限符合要求。"
