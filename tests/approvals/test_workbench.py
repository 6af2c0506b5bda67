"""The task page is the approver's workbench: the credit case beside the decision, no decision
chosen for them, a decline with its reasons, an approval that says how each open High flag is
mitigated — and what the earlier steps said, shown to the later ones."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from approvals.models import ApprovalTask, FlagMitigation
from audit.models import AuditEvent
from intake.models import Collateral, Document, DocumentType, Guarantor
from investigation.models import (
    Flag,
    Investigation,
    Scorecard,
    ScoreResult,
)
from postloan.models import Loan
from postloan.services import loan_terms_from
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _task(application, step):
    return ApprovalTask.objects.get(
        application=application, step=step, kind="step", status__in=("open", "claimed")
    )


def _add_flag(investigation, *, severity="high", n=1):
    return Flag.objects.create(
        investigation=investigation,
        application=investigation.application,
        code="revenue_vs_bank",
        severity=severity,
        message=f"Declared revenue is far above the bank inflows ({n})",
        evidence={"bank_gap_pct": "42.5", "bank_inflows": "3100000.00"},
    )


def _add_document(application, doc_type, *, n=1):
    return Document.objects.create(
        application=application,
        document_type=doc_type,
        file=f"documents/{application.pk}/licence-{n}.pdf",
        original_name=f"licence-{n}.pdf",
        content_type="application/pdf",
        extension="pdf",
        size=100,
        sha256="0" * 64,
        uploaded_by=application.filed_by,
    )


@pytest.fixture
def credit_case(matrix, in_approval, staff, company):
    """An application in approval with its whole credit case: a score with a reason factor,
    a High and a Medium flag with evidence, ratios, a guarantor, collateral, the opinion, a
    document, and the same customer's disbursed loan (250,000 outstanding)."""
    application = in_approval(company=company, flags=2)
    investigation = Investigation.objects.create(
        application=application,
        opinion="Stable cash flow for six years; the owner's plant secures the loan.",
        derived={
            "ratios": {
                "debt_ratio": "0.4625",
                "current_ratio": "1.31",
                "net_margin": "0.0812",
                "revenue_growth": "0.1207",
                "instalment": "24000.00",
                "dscr": "1.87",
                "collateral_coverage": "0.88",
            },
            "cross_check": {"bank_gap_pct": "42.5"},
            "concentration": {},
        },
    )
    scorecard = Scorecard.objects.create(version=1, name="SME v1")
    ScoreResult.objects.create(
        investigation=investigation,
        application=application,
        scorecard=scorecard,
        scorecard_version=1,
        score=61,
        max_score=100,
        grade="C",
        pd_pct=Decimal("2.5"),
        breakdown=[
            {"factor": "debt_ratio", "value": "0.4625", "points": 7, "max_points": 20},
            {"factor": "dscr", "value": "1.87", "points": 29, "max_points": 30},
        ],
        reasons=["debt_ratio"],
        route="standard",
    )
    high = _add_flag(investigation)
    Flag.objects.create(
        investigation=investigation,
        application=application,
        code="guarantor_exposure",
        severity="medium",
        message="The guarantor's own exposure is high",
        evidence={"own_exposure": "900000.00"},
    )
    Guarantor.objects.create(
        application=application,
        name="Wang Jianguo",
        id_number="110101198001010011",
        guaranteed_amount=Decimal("800000"),
        own_exposure=Decimal("120000"),
    )
    Collateral.objects.create(
        application=application,
        kind="equipment",
        description="CNC machining centre",
        declared_value=Decimal("1200000"),
        valuation=Decimal("1000000"),
        valuation_date=date(2026, 11, 1),
        haircut_pct=Decimal("30"),
    )
    licence = DocumentType.objects.create(code="business_licence", name="Business licence")
    _add_document(application, licence)
    earlier = ApplicationFactory(
        company=company, product=application.product, status="disbursed", amount=Decimal("400000")
    )
    Loan.objects.create(
        application=earlier,
        **loan_terms_from(earlier),
        branch=earlier.branch,
        relationship_manager=staff["rm"],
        principal=Decimal("400000"),
        outstanding_principal=Decimal("250000"),
        disbursed_on=date(2026, 6, 1),
    )
    return application, high


def _page(client, user, task):
    client.force_login(user)
    return client.get(reverse("approvals-task", args=[task.pk]))


def _decide_on_page(client, user, task, **data):
    client.force_login(user)
    return client.post(reverse("approvals-task-action", args=[task.pk, "decide"]), data)


def _decide_form(html: str) -> str:
    return html[
        html.index('id="decide-form"') : html.index("</form>", html.index('id="decide-form"'))
    ]


def test_the_workbench_shows_the_credit_case_and_what_the_earlier_step_said(
    credit_case, staff, client
):
    application, high = credit_case
    reviewed = _decide_on_page(
        client,
        staff["reviewer"],
        _task(application, "credit_review"),
        decision="approve",
        comment="Figures verified against the statements",
        **{
            f"mitigation-{high.pk}": "The tax returns confirm the revenue; inflows go to a second bank."
        },
    )
    assert reviewed.status_code == 302, reviewed.content[:2000]

    html = _page(client, staff["approver"], _task(application, "tier1")).content.decode()
    # The score, each factor's points (its value in words and figures) and the reason in words.
    assert re.search(r"Debt ratio \*</td><td>46.3%</td><td class=\"num\">7</td>", html)
    assert re.search(r"Debt-service coverage</td><td>1.87×</td><td class=\"num\">29</td>", html)
    assert "Reasons (factors that lowered the score most): Debt ratio" in html
    # The open flags with their evidence.
    assert high.message in html and "The guarantor&#x27;s own exposure is high" in html
    assert "<dt>Bank gap pct</dt><dd>42.5</dd>" in html
    # The key ratios.
    for label, value in [
        ("Debt ratio", "0.4625"),
        ("Current ratio", "1.31"),
        ("Net margin", "0.0812"),
        ("Revenue growth", "0.1207"),
        ("Debt-service coverage", "1.87"),
        ("Collateral coverage", "0.88"),
    ]:
        assert f'<th>{label}</th><td class="num">{value}</td>' in html
    # Guarantors and collateral with lendable values.
    assert "Wang Jianguo" in html and "800,000.00 CNY" in html
    assert "CNC machining centre" in html and "700,000.00 CNY" in html
    # The investigator's opinion, the documents.
    assert "Stable cash flow for six years" in html
    assert "Business licence" in html and "licence-1.pdf" in html
    # The earlier step's decision, comment and mitigation, on the flag and in the route.
    assert "Figures verified against the statements" in html
    assert html.count("The tax returns confirm the revenue") == 2
    # The customer's exposure: the disbursed loan's 250,000 and this application's 800,000.
    exposure = html[html.index('id="exposure"') :]
    assert "250,000.00 CNY" in exposure and "1,050,000.00 CNY" in exposure
    # No decision is chosen for the approver.
    form = _decide_form(html)
    assert 'name="decision"' in form and " checked" not in form


def test_the_memo_opens_in_the_same_tab(credit_case, staff, client, file_stores):
    from django.core.files.base import ContentFile

    from investigation.models import CreditMemo

    application, _high = credit_case
    memo = CreditMemo.objects.create(
        application=application,
        investigation=application.investigation,
        version=1,
        language="en",
        status="ready",
    )
    memo.file.save("memo.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    html = _page(client, staff["reviewer"], _task(application, "credit_review")).content.decode()
    link = reverse("investigation-memo-download", args=[application.pk, memo.pk]) + "?view=1"
    assert f'<a href="{link}">Read the credit memo (v1)</a>' in html
    opened = client.get(link)
    assert opened.status_code == 200
    assert opened["Content-Disposition"].startswith("inline")


def test_the_page_refuses_a_decision_without_a_choice(credit_case, staff, client):
    application, _high = credit_case
    task = _task(application, "credit_review")
    response = _decide_on_page(client, staff["reviewer"], task, comment="Looks fine")
    assert response.status_code == 400
    assert "Choose a decision." in response.content.decode()
    assert _task(application, "credit_review").decision == ""


def test_a_decline_on_the_page_without_reasons_is_refused_with_the_form_as_entered(
    credit_case, staff, client
):
    application, _high = credit_case
    task = _task(application, "credit_review")
    refused = _decide_on_page(
        client, staff["reviewer"], task, decision="decline", comment="Revenue not credible"
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Choose one or more decline reasons from the list." in html
    form = _decide_form(html)
    assert 'value="decline" required checked' in form and "Revenue not credible" in form
    assert LoanApplication.objects.get(pk=application.pk).status == "in_approval"

    declined = _decide_on_page(
        client,
        staff["reviewer"],
        task,
        decision="decline",
        comment="Revenue not credible",
        reasons=["insufficient_cash_flow"],
    )
    assert declined.status_code == 302
    assert LoanApplication.objects.get(pk=application.pk).status == "declined"


def test_an_approval_through_the_api_names_each_high_flag_left_unmitigated(credit_case, staff, api):
    application, high = credit_case
    task = _task(application, "credit_review")
    url = f"/api/v1/approvals/tasks/{task.pk}/decide/"
    refused = api(staff["reviewer"]).post(url, {"decision": "approve"}, format="json")
    assert refused.status_code == 400
    assert refused.data["mitigations"] == {str(high.pk): ["Say how this High flag is mitigated."]}
    blank = api(staff["reviewer"]).post(
        url,
        {
            "decision": "approve_with_conditions",
            "comment": "ok",
            "conditions": ["Pledge"],
            "mitigations": {str(high.pk): "  "},
        },
        format="json",
    )
    assert blank.status_code == 400 and str(high.pk) in blank.data["mitigations"]
    assert not FlagMitigation.objects.exists()

    done = api(staff["reviewer"]).post(
        url,
        {"decision": "approve", "mitigations": {str(high.pk): "Second bank's statements seen."}},
        format="json",
    )
    assert done.status_code == 200, done.data
    mitigation = FlagMitigation.objects.get()
    assert (mitigation.task_id, mitigation.flag_id, mitigation.flag_code) == (
        task.pk,
        high.pk,
        "revenue_vs_bank",
    )
    assert mitigation.text == "Second bank's statements seen."
    audit = AuditEvent.objects.get(action="step_approve", subject_id=task.pk)
    assert audit.data["mitigations"] == [
        {"flag_id": high.pk, "flag": "revenue_vs_bank", "text": "Second bank's statements seen."}
    ]


def test_an_approval_on_the_page_without_a_mitigation_is_refused_by_the_flag(
    credit_case, staff, client
):
    application, high = credit_case
    task = _task(application, "credit_review")
    refused = _decide_on_page(client, staff["reviewer"], task, decision="approve", comment="ok")
    assert refused.status_code == 400
    form = _decide_form(refused.content.decode())
    field = form[form.index(f'name="mitigation-{high.pk}"') :]
    assert field.index("Say how this High flag is mitigated.") < field.index("</fieldset>")
    assert not FlagMitigation.objects.exists()
    assert _task(application, "credit_review").status == "open"


def test_a_decision_without_high_flags_needs_no_mitigation(matrix, in_approval, staff, api):
    application = in_approval()
    task = _task(application, "credit_review")
    response = api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{task.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 200


def test_the_workbench_reads_the_same_number_of_queries_whatever_the_case_holds(
    credit_case, staff, client, django_assert_max_num_queries, django_assert_num_queries
):
    application, high = credit_case
    task = _task(application, "credit_review")
    client.force_login(staff["reviewer"])
    url = reverse("approvals-task", args=[task.pk])
    client.get(url)  # sessions, caches and the calendar warmed
    with django_assert_max_num_queries(40) as small:
        assert client.get(url).status_code == 200
    investigation = application.investigation
    licence = DocumentType.objects.get(code="business_licence")
    for n in range(2, 8):
        _add_flag(investigation, n=n)
        _add_document(application, licence, n=n)
        Guarantor.objects.create(
            application=application,
            name=f"Guarantor {n}",
            id_number=f"1101011980010100{n:02d}",
            guaranteed_amount=Decimal("1000"),
        )
    with django_assert_num_queries(len(small.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('name="mitigation-') == 7
