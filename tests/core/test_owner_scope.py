"""What an SME owner may reach: every API operation the schema generator finds, called with an
owner's token and the owner's own object ids, answers 403 unless it is one of the owner's
endpoints (/api/v1/portal/), about the user themselves (me, notifications) or public; and the
owner's endpoints show what the portal shows, nothing internal to the bank. A new internal
endpoint that forgot the rule changes the list and fails here."""

import json
import re
from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import EndpointEnumerator

from applications.models import LoanApplication
from approvals.models import ApprovalCondition, ApprovalTask
from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintCategory
from contracts.models import ContractDocument
from datasources.models import Consent
from facilities.models import Drawdown, Facility
from intake.models import ChecklistItem, Document, DocumentType, InfoRequest
from investigation.models import CreditMemo, SiteVisit
from messaging.models import Message
from notifications.models import Notification
from postloan.models import (
    Alert,
    ClassificationChange,
    InspectionTask,
    OwnerRequest,
    WriteOff,
)
from tests import lifecycle
from tests.factories import CompanyFactory, make_applicant

pytestmark = pytest.mark.django_db

# What an owner's token gets from every operation that does not answer 403, called with the
# owner's own ids and an empty body; every other operation must answer 403.
OWNER_ANSWERS = {
    "GET /api/docs/": 200,
    "GET /api/schema/": 200,
    "GET /api/v1/health/": 200,
    "POST /api/v1/auth/token/": 400,
    "GET /api/v1/products/": 200,
    "GET /api/v1/products/{code}/": 200,
    "GET /api/v1/me/": 200,
    "GET /api/v1/notifications/": 200,
    "GET /api/v1/notifications/unread-count/": 200,
    "POST /api/v1/notifications/{pk}/read/": 200,
    "POST /api/v1/notifications/read-all/": 200,
    "GET /api/v1/notifications/mutes/": 200,
    "POST /api/v1/notifications/mutes/": 400,
    "DELETE /api/v1/notifications/mutes/": 400,
    "GET /api/v1/portal/applications/": 200,
    "POST /api/v1/portal/applications/": 400,
    "GET /api/v1/portal/applications/{pk}/": 200,
    "POST /api/v1/portal/applications/{pk}/submit/": 409,
    "POST /api/v1/portal/applications/{pk}/documents/": 400,
    "GET /api/v1/portal/applications/{pk}/documents/{doc_id}/download/": 200,
    "POST /api/v1/portal/applications/{pk}/info-requests/{request_id}/answer/": 400,
    "POST /api/v1/portal/applications/{pk}/offer/code/": 409,
    "POST /api/v1/portal/applications/{pk}/offer/accept/": 409,
    "GET /api/v1/portal/applications/{pk}/offer/pdf/": 404,  # the letter renders after commit
    "GET /api/v1/portal/applications/{pk}/schedule/pdf/": 200,
    "GET /api/v1/portal/applications/{pk}/payoff-quote/": 200,
    "GET /api/v1/portal/applications/{pk}/owner-requests/": 200,
    "POST /api/v1/portal/applications/{pk}/owner-requests/": 400,
    # The walk asked for nothing: the id is not theirs (nor anyone's).
    "POST /api/v1/portal/applications/{pk}/owner-requests/{owner_request_id}/withdraw/": 404,
    "GET /api/v1/portal/applications/{pk}/contracts/": 200,
    "POST /api/v1/portal/applications/{pk}/contracts/{contract_id}/code/": 409,
    "POST /api/v1/portal/applications/{pk}/contracts/{contract_id}/sign/": 409,
    "GET /api/v1/portal/applications/{pk}/contracts/{contract_id}/pdf/": 200,
    "GET /api/v1/portal/applications/{pk}/messages/": 200,
    "POST /api/v1/portal/applications/{pk}/messages/": 400,
    "GET /api/v1/portal/applications/{pk}/messages/{message_id}/attachment/": 200,
    "GET /api/v1/portal/applications/{pk}/survey/": 200,
    "POST /api/v1/portal/applications/{pk}/survey/": 400,
    "GET /api/v1/portal/applications/{pk}/consents/": 200,
    "POST /api/v1/portal/applications/{pk}/consents/": 400,
    # The walk made no consent: the id is not theirs (nor anyone's).
    "POST /api/v1/portal/applications/{pk}/consents/{consent_id}/revoke/": 404,
    "POST /api/v1/portal/eligibility/": 400,
    "GET /api/v1/portal/complaints/": 200,
    "POST /api/v1/portal/complaints/": 400,
    "GET /api/v1/portal/complaints/categories/": 200,
    "GET /api/v1/portal/complaints/{pk}/": 200,
    "GET /api/v1/portal/facilities/": 200,
    "GET /api/v1/portal/facilities/{pk}/": 200,
    "POST /api/v1/portal/facilities/{pk}/drawdowns/": 400,
}

PORTAL_LIST_KEYS = {
    "id",
    "reference",
    "product_name",
    "product_name_zh",
    "amount",
    "currency",
    "term_months",
    "status",
    "status_display",
    "status_text",
    "created_at",
}
# The detail: the list's keys and what the application's page shows besides.
PORTAL_APPLICATION_KEYS = PORTAL_LIST_KEYS | {
    "relationship_manager_name",
    "steps",
    "needed",
    "documents",
    "decline_reasons",
    "offer",
    "contract",
    "schedule",
    "loan",
    "repayments",
    "events",
}
NESTED_KEYS = {
    "steps": {"label", "state"},
    "documents": {
        "id",
        "document_type",
        "document_name",
        "version",
        "status",
        "status_display",
        "uploaded_at",
        "download_url",
    },
    "repayments": {"value_date", "amount", "currency"},
    "events": {"at", "status", "text"},
}
OFFER_KEYS = {
    "amount",
    "currency",
    "interest_rate",
    "term_months",
    "repayment_method",
    "letter_status",
    "conditions",
    "accepted_at",
    "can_accept",
    "terms_changed",
    "pdf_url",
    "documents_sha256",
}
LOAN_KEYS = {
    "currency",
    "principal",
    "paid_total",
    "paid_instalments",
    "instalment_count",
    "next_due_date",
    "next_due_amount",
    "overdue_amount",
    "overdue_instalments",
    "overdue_since",
    "days_overdue",
    "outstanding_principal",
    "outstanding_total",
    "overdue_interest",
    "standing",
}
SCHEDULE_KEYS = {"fixed", "rows", "total_principal", "total_interest", "total", "pdf_url"}
# Words of the bank's internal vocabulary no key of an owner's answer may hold.
INTERNAL_KEYS = re.compile(
    r"grade|score|route|approver|comment|actor|flag|classification|alert|inspection|"
    r"write_off|memo|maker|checker|recorded_by|account"
)


@pytest.fixture
def checklist(product):
    """The licence when filing, bank statements before the investigation."""
    for position, (stage, code) in enumerate(
        [("submit", "business_licence"), ("start_investigation", "bank_statements")]
    ):
        ChecklistItem.objects.create(
            product=product,
            stage=stage,
            document_type=DocumentType.objects.create(code=code, name=code.replace("_", " ")),
            required=True,
            position=position,
        )


@pytest.fixture
def disbursed(api, staff, company, product, owner, checklist) -> LoanApplication:
    """The owner's company's application taken the whole way by the bank's staff (graded,
    routed, approved with comments, paid out), with one repayment received and a message
    from the relationship manager with an attachment."""
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "disbursed")
    repaid = api(staff["rm"]).post(
        reverse("api-postloan-repayments", args=[pk]),
        {"amount": "1000.00", "value_date": date.today().isoformat(), "external_id": "R-1"},
        format="json",
    )
    assert repaid.status_code == 201, repaid.data
    from django.core.files.uploadedfile import SimpleUploadedFile

    wrote = api(staff["rm"]).post(
        reverse("api-messages", args=[pk]),
        {"body": "Your loan is paid out.", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")},
        format="multipart",
    )
    assert wrote.status_code == 201, wrote.data
    ComplaintCategory.objects.get_or_create(code="delay", defaults={"name": "Processing time"})
    complained = api(owner).post(
        reverse("api-portal-complaints"),
        {"category": "delay", "text": "Slow payout.", "application": pk},
        format="json",
    )
    assert complained.status_code == 201, complained.data
    _active_facility(company, staff)
    return LoanApplication.objects.get(pk=pk)


def _active_facility(company, staff):
    """An active credit facility of the owner's company (as its approval and contract leave
    it: tests/facilities walk that path)."""
    from datetime import timedelta
    from decimal import Decimal

    from facilities.models import Facility, FacilityTerms
    from tests.factories import ApplicationFactory, ProductFactory

    line = ProductFactory(code="SME-LINE")
    FacilityTerms.objects.create(product=line, max_drawdown_term_months=12)
    application = ApplicationFactory(
        company=company, product=line, status="contract_signed", filed_by=staff["rm"]
    )
    return Facility.objects.create(
        application=application,
        company=company,
        branch=company.home_branch,
        amount=Decimal("1000000.00"),
        term_months=24,
        revolving=True,
        max_drawdown_term_months=12,
        min_rate=Decimal("4.350"),
        max_rate=Decimal("8.000"),
        drawdown_approval="automatic",
        approved_on=date.today(),
        expires_on=date.today() + timedelta(days=730),
        status=Facility.Status.ACTIVE,
    )


def _first_id(model, **filters) -> int:
    row = model.objects.filter(**filters).order_by("pk").first()
    return row.pk if row else 1


def _owner_ids(application, owner) -> dict[str, int | str]:
    """The owner's own object behind each path parameter (1 where the walk made none)."""
    app = {"application_id": application.pk}
    return {
        "application_id": application.pk,
        "doc_id": _first_id(Document, application=application, is_current=True),
        "request_id": _first_id(InfoRequest, **app),
        "item_id": 1,
        "visit_id": _first_id(SiteVisit, investigation__application=application),
        "memo_id": _first_id(CreditMemo, **app),
        "condition_id": _first_id(ApprovalCondition, **app),
        "message_id": _first_id(Message, **app),
        "consent_id": _first_id(Consent, **app),
        "owner_request_id": _first_id(OwnerRequest, loan__application=application),
        "fact_id": 1,
        "contract_id": _first_id(ContractDocument, **app),
        "fact": "identity",
        "period": "2025",
        "code": application.product.code,
        "figure": "stages",
        # {pk} names the application except under these prefixes.
        "/api/v1/approvals/tasks/": _first_id(ApprovalTask, **app),
        "/api/v1/postloan/tasks/": _first_id(InspectionTask, loan__application=application),
        "/api/v1/postloan/alerts/": _first_id(Alert, loan__application=application),
        "/api/v1/postloan/classification-changes/": _first_id(
            ClassificationChange, loan__application=application
        ),
        "/api/v1/postloan/write-offs/": _first_id(WriteOff, loan__application=application),
        "/api/v1/notifications/": _first_id(Notification, user=owner),
        "/api/v1/portal/complaints/": _first_id(Complaint, company=application.company),
        "/api/v1/complaints/": _first_id(Complaint, company=application.company),
        "/api/v1/portal/facilities/": _first_id(Facility, company=application.company),
        "/api/v1/facilities/drawdowns/": _first_id(Drawdown, facility__company=application.company),
        "/api/v1/facilities/": _first_id(Facility, company=application.company),
    }


def _fill(path: str, ids: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "pk":
            prefix = next((p for p in ids if p.startswith("/") and path.startswith(p)), None)
            return str(ids[prefix] if prefix else ids["application_id"])
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)


def _operations() -> list[tuple[str, str]]:
    return [
        (method, path) for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints()
    ]


def _call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, {}, format="multipart")


def test_an_owner_reaches_only_their_own_endpoints_and_every_internal_one_answers_403(
    api, disbursed, owner
):
    ids = _owner_ids(disbursed, owner)
    client = api(owner)
    answers = {
        f"{method} {path}": _call(client, method, _fill(path, ids)).status_code
        for method, path in _operations()
    }

    refused = sorted(op for op, status in answers.items() if status == 403)
    reached = {op: status for op, status in answers.items() if status != 403}
    assert reached == OWNER_ANSWERS
    # Every operation of the stages (intake, investigation, approvals, disbursement,
    # post-loan, analytics, the applications themselves) is among the refused.
    assert len(refused) > 90
    for internal in (
        "GET /api/v1/approvals/applications/{pk}/",
        "GET /api/v1/applications/{pk}/timeline/",
        "GET /api/v1/applications/{pk}/",
        "GET /api/v1/applications/",
        "GET /api/v1/postloan/loans/{application_id}/",
        "GET /api/v1/disbursement/{pk}/",
        "GET /api/v1/applications/{pk}/documents/",
        "GET /api/v1/applications/{pk}/messages/",
        "POST /api/v1/applications/{pk}/messages/",
        "GET /api/v1/applications/{pk}/messages/{message_id}/attachment/",
        "POST /api/v1/disbursement/{pk}/contract/",
        "POST /api/v1/postloan/daily-job/",
        "GET /api/v1/complaints/",
        "GET /api/v1/complaints/{pk}/",
        "POST /api/v1/complaints/{pk}/resolve/",
    ):
        assert internal in refused


def test_an_internal_endpoint_tells_the_owner_where_their_endpoints_are(api, disbursed, owner):
    response = api(owner).get(reverse("api-approvals-application", args=[disbursed.pk]))
    assert response.status_code == 403
    assert response.data["code"] == "staff_only"
    assert "/api/v1/portal/" in response.data["detail"]


def _keys_everywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys_everywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys_everywhere(v)}
    return set()


def test_the_owners_application_shows_what_the_portal_shows_and_nothing_internal(
    api, disbursed, owner, staff
):
    response = api(owner).get(reverse("api-portal-application", args=[disbursed.pk]))
    assert response.status_code == 200
    data = response.json()

    assert set(data) == PORTAL_APPLICATION_KEYS
    for key, keys in NESTED_KEYS.items():
        assert data[key], key
        assert all(set(row) == keys for row in data[key]), key
    assert set(data["offer"]) == OFFER_KEYS
    assert set(data["contract"]) == {"number", "signed_on"}
    assert set(data["schedule"]) == SCHEDULE_KEYS
    assert set(data["loan"]) == LOAN_KEYS
    assert data["loan"]["paid_total"] == "1000.00"
    assert data["loan"]["standing"] == ""  # the bank keeps the class to itself by default
    assert [r["amount"] for r in data["repayments"]] == ["1000.00"]
    assert data["status_text"] == "Paid out: your loan is running; see your repayment schedule."
    assert data["relationship_manager_name"] == staff["rm"].get_full_name()
    assert {e["status"] for e in data["events"]} >= {"submitted", "in_approval", "disbursed"}
    assert not [key for key in _keys_everywhere(data) if INTERNAL_KEYS.search(key)]

    # The bank's work is on the record, and none of it reaches the owner.
    disbursed.refresh_from_db()
    assert disbursed.risk_grade and disbursed.risk_score is not None
    text = json.dumps(data)
    comments = [
        c
        for c in AuditEvent.objects.filter(application=disbursed).values_list("comment", flat=True)
        if c.strip()
    ]
    assert comments
    assert not [c for c in comments if c in text]
    for role, person in staff.items():
        if role == "rm":
            continue
        assert person.username not in text, role
        assert not person.get_full_name() or person.get_full_name() not in text, role


def test_the_owners_list_holds_their_companys_applications_only(
    api, staff, company, product, owner, branch
):
    mine = lifecycle.file_draft(api, staff, company, product)
    lifecycle.file_draft(api, staff, CompanyFactory(home_branch=branch), product)
    response = api(owner).get(reverse("api-online-application"))
    assert response.status_code == 200
    assert [row["id"] for row in response.data] == [mine]
    assert set(response.data[0]) == PORTAL_LIST_KEYS
    assert response.data[0]["status_text"] == "Being prepared with your relationship manager."


def test_an_owner_cannot_read_or_act_on_another_owners_application(
    api, staff, company, product, owner, branch, checklist
):
    other_company = CompanyFactory(home_branch=branch)
    make_applicant(other_company, username="oscar_owner")
    theirs = lifecycle.file_draft(api, staff, other_company, product)
    lifecycle.prepare_materials(api, staff, theirs)
    document = Document.objects.filter(application_id=theirs).first()
    written = api(staff["rm"]).post(
        reverse("api-messages", args=[theirs]), {"body": "For Oscar"}, format="json"
    )
    assert written.status_code == 201
    ids = {
        "pk": theirs,
        "doc_id": document.pk,
        "request_id": 1,
        "message_id": written.data["id"],
        "consent_id": 1,
        "contract_id": 1,
        "owner_request_id": 1,
    }
    client = api(owner)
    answers = {
        f"{method} {path}": _call(
            client, method, re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        ).status_code
        for method, path in _operations()
        if path.startswith("/api/v1/portal/applications/{pk}/")
    }
    assert len(answers) == 25
    assert set(answers.values()) == {404}, answers
    assert LoanApplication.objects.get(pk=theirs).status == "draft"


def test_staff_are_refused_on_the_owners_endpoints(api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    for user in (staff["rm"], staff["approver"], staff["risk"]):
        client = api(user)
        assert client.get(reverse("api-online-application")).status_code == 403
        response = client.get(reverse("api-portal-application", args=[pk]))
        assert response.status_code == 403
        assert response.data["code"] == "owners_only"


def test_an_owner_sends_the_draft_answers_and_uploads_through_their_endpoints(
    api, staff, company, product, owner, checklist
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.prepare_materials(api, staff, pk)
    client = api(owner)
    submitted = client.post(reverse("api-portal-submit", args=[pk]))
    assert submitted.status_code == 200, submitted.data
    assert submitted.data["status"] == "submitted"
    asked = api(staff["rm"]).post(
        reverse("api-info-requests", args=[pk]),
        {
            "items": [
                {"kind": "question", "text": "How many staff do you employ?"},
                {"kind": "document", "document_type": "business_licence"},
            ]
        },
        format="json",
    )
    assert asked.status_code == 201, asked.data
    question, wanted = asked.data
    needed = client.get(reverse("api-portal-application", args=[pk])).data["needed"]
    assert {n["info_request_id"] for n in needed} >= {question["id"], wanted["id"]}
    answered = client.post(
        reverse("api-portal-info-request-answer", args=[pk, question["id"]]),
        {"answer": "Twelve"},
        format="json",
    )
    assert answered.status_code == 200, answered.data
    uploaded = client.post(
        reverse("api-portal-documents", args=[pk]),
        {
            "document_type": "business_licence",
            "info_request": wanted["id"],
            "file": SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n%owner\n"),
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.data
    assert set(uploaded.data) == NESTED_KEYS["documents"]
    download = client.get(uploaded.data["download_url"])
    assert download.status_code == 200
    assert InfoRequest.objects.filter(application_id=pk, status="open").count() == 0


def _pages():
    """Every page of the site (not the API, not the admin) with its URL name."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith(("admin/", "api/")):
                    continue
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and not prefix.startswith("api/"):
                route = prefix + str(pattern.pattern)
                if not route.startswith("api/"):
                    yield pattern.name, "/" + route

    return sorted(walk(get_resolver().url_patterns))


# The pages an owner opens (with a GET); every other page sends them to the portal (so do
# both login pages, by themselves, to a signed-in owner).
OWNER_PAGES = {
    "disbursement-offer-pdf": 404,  # the letter renders after commit
    "disbursement-schedule-pdf": 200,
    "favicon": 301,
    "intake-document-download": 200,
    "logout": 405,
    "messaging-portal-post": 405,
    "datasources-portal-consent": 405,
    "datasources-portal-consent-revoke": 405,
    "messaging-portal-survey": 405,
    "notification-list": 200,
    "notification-mute": 405,
    "notification-read": 405,
    "notification-read-all": 405,
    "portal-application": 200,
    "portal-companies": 200,
    "portal-company-choose": 405,
    "portal-complaints": 200,
    "portal-complaint": 404,  # called with the application's id, not a complaint's
    "portal-facilities": 200,
    "portal-contract-code": 405,
    "portal-contract-pdf": 200,
    "portal-contract-sign": 405,
    "portal-contracts": 200,
    "portal-eligibility": 200,
    "portal-apply": 200,
    "portal-apply-application": 200,
    "portal-home": 200,
    "portal-logout": 405,
    "portal-offer-accept": 405,
    "portal-change-request": 405,
    "portal-offer-code": 405,
    "portal-owner-request": 405,
    "portal-owner-request-withdraw": 405,
    "portal-prepayment-request": 405,
    "portal-prepayment-withdraw": 405,
    "portal-product": 200,
    "portal-products": 200,
    "set_language": 302,
}


def test_an_owner_is_sent_to_the_portal_from_every_staff_page(client, disbursed, owner):
    ids = {**_owner_ids(disbursed, owner), "pk": disbursed.pk}
    ids.update(action="x", decision="approve", name="submit", slug="x", str="x")
    client.force_login(owner)
    answers = {}
    for name, route in _pages():
        url = re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda m: str(ids.get(m.group(1), ids.get("application_id"))),
            route,
        )
        response = client.get(url)
        answers[name] = (response.status_code, response.get("Location"))
    portal = reverse("portal-home")
    sent_to_portal = sorted(n for n, (s, where) in answers.items() if (s, where) == (302, portal))
    opened = {n: s for n, (s, where) in answers.items() if (s, where) != (302, portal)}
    assert opened == OWNER_PAGES
    assert set(sent_to_portal) >= {
        "home",
        "application-list",
        "application-detail",
        "investigation-queue",
        "investigation-workspace",
        "approvals-queue",
        "approvals-task",
        "disbursement-queue",
        "disbursement-page",
        "postloan-queue",
        "postloan-task",
        "postloan-alert",
        "analytics-dashboard",
        "analytics-export",
        "complaint-list",
        "complaint-detail",
        "complaint-record",
    }
    assert len(sent_to_portal) > 40


def test_an_owner_posting_to_a_staff_page_is_refused(client, disbursed, owner):
    client.force_login(owner)
    response = client.post(reverse("application-action", args=[disbursed.pk, "close"]))
    assert response.status_code == 403
    response = client.post(reverse("postloan-import"))
    assert response.status_code == 403


def test_the_portal_page_and_the_api_give_the_owner_the_same_decision_and_repayments(
    api, client, disbursed, owner, staff, company
):
    from approvals.models import DeclineReason
    from tests.factories import ApplicationFactory

    DeclineReason.objects.create(
        code="thin_cash_flow",
        label="Cash flow below the policy's cover (staff)",
        applicant_text="Your cash flow does not yet cover the repayments.",
    )
    declined = ApplicationFactory(
        company=company,
        status="declined",
        filed_by=staff["rm"],
        decline_reasons=["thin_cash_flow"],
    )
    client.force_login(owner)
    page = client.get(reverse("portal-application", args=[declined.pk])).content.decode()
    data = api(owner).get(reverse("api-portal-application", args=[declined.pk])).data
    assert data["decline_reasons"] == ["Your cash flow does not yet cover the repayments."]
    assert 'id="decision"' in page and data["decline_reasons"][0] in page
    assert "policy's cover" not in page and "policy's cover" not in json.dumps(data)

    page = client.get(reverse("portal-application", args=[disbursed.pk])).content.decode()
    repayments = (
        api(owner).get(reverse("api-portal-application", args=[disbursed.pk])).data["repayments"]
    )
    assert 'id="repayments"' in page
    assert [(r["value_date"], r["amount"]) for r in repayments] == [
        (date.today().isoformat(), "1000.00")
    ]
    assert date.today().isoformat() in page.split('id="repayments"')[1]
