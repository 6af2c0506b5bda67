"""Who may change the investigation, input validation, and reading it."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from investigation.models import SiteVisitPhoto
from postloan.services import loan_terms_from
from tests.factories import ApplicationFactory

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_only_the_investigator_changes_the_investigation(investigating, staff, api):
    url = reverse("api-investigation-assessment", args=[investigating.pk])
    other_rm = api(staff["rm2"]).patch(url, {"opinion": "mine"}, format="json")
    approver = api(staff["approver"]).patch(url, {"opinion": "mine"}, format="json")
    assert other_rm.status_code == 403 and other_rm.data["code"] == "not_investigator"
    assert approver.status_code == 403
    # others in scope read it
    read = api(staff["approver"]).get(reverse("api-investigation", args=[investigating.pk]))
    assert read.status_code == 200 and read.data["investigator"] == staff["rm"].pk
    ok = api(staff["rm"]).patch(url, {"opinion": "Solid"}, format="json")
    assert ok.status_code == 200 and ok.data["opinion"] == "Solid"
    assert (
        AuditEvent.objects.filter(
            application=investigating, action="investigation_assessment"
        ).count()
        == 1
    )


def test_the_applicant_never_sees_the_investigation(investigating, owner, api):
    response = api(owner).get(reverse("api-investigation", args=[investigating.pk]))
    assert response.status_code == 403


def test_answers_are_validated_by_type_and_record_the_questionnaire_version(
    investigating, staff, api
):
    url = reverse("api-investigation-answers", args=[investigating.pk])
    bad = api(staff["rm"]).put(
        url,
        {"answers": {"premises": "castle", "employees_on_site": "x", "nope": "1"}},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.data) >= {"premises", "employees_on_site", "nope"}
    good = api(staff["rm"]).put(
        url, {"answers": {"premises": "rented", "other_bank_loans": "true"}}, format="json"
    )
    assert good.status_code == 200
    answers = {q["code"]: q["answer"] for q in good.data["questions"]}
    assert answers["premises"] == "rented" and answers["other_bank_loans"] == "yes"
    assert {a.questionnaire_version for a in investigating.investigation.answers.all()} == {1}


def test_photos_are_accepted_by_their_magic_bytes_only(investigating, staff, api):
    client = api(staff["rm"])
    visit = client.post(
        reverse("api-investigation-site-visits", args=[investigating.pk]),
        {"visit_date": "2025-01-10", "participants": "RM", "findings": "ok"},
        format="json",
    )
    assert visit.status_code == 201
    url = reverse("api-investigation-photos", args=[investigating.pk, visit.data["id"]])
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>", content_type="image/png")
    assert client.post(url, {"image": fake}, format="multipart").status_code == 400
    real = SimpleUploadedFile("x.exe", PNG, content_type="application/octet-stream")
    response = client.post(url, {"image": real, "caption": "Workshop"}, format="multipart")
    assert response.status_code == 201 and response.data["extension"] == "png"
    photo = SiteVisitPhoto.objects.get()
    assert photo.image.name.endswith(".png") and "x.exe" not in photo.image.name


def test_a_mismatch_needs_a_note_and_raises_a_flag(investigating, staff, api):
    url = reverse("api-investigation-verification", args=[investigating.pk, "address"])
    client = api(staff["rm"])
    assert (
        client.put(url, {"status": "mismatch", "source": "site_visit"}, format="json").status_code
        == 400
    )
    assert (
        client.put(
            url,
            {"status": "mismatch", "source": "site_visit", "note": "Workshop is elsewhere"},
            format="json",
        ).status_code
        == 200
    )
    client.post(reverse("api-investigation-score", args=[investigating.pk]))
    flags = client.get(reverse("api-investigation-flags", args=[investigating.pk])).data
    mismatch = next(f for f in flags if f["code"] == "verification_mismatch")
    assert mismatch["severity"] == "medium" and "Workshop is elsewhere" in mismatch["message"]


def test_the_workspace_page_and_the_application_panel_render(investigating, staff, client):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    client.force_login(staff["rm"])
    response = client.get(reverse("investigation-workspace", args=[investigating.pk]))
    assert response.status_code == 200
    assert (
        "前三大客户及其销售占比是多少？" in response.content.decode()
        or "Who are the top three customers" in response.content.decode()
    )
    request = RequestFactory().get("/")
    request.user = staff["approver"]
    html = render_to_string(
        "investigation/application_panel.html",
        {"application": investigating, "user": staff["approver"], "request": request},
    )
    assert reverse("investigation-workspace", args=[investigating.pk]) in html


def test_the_queue_lists_my_investigations_without_a_query_per_row(
    investigating, staff, client, django_assert_max_num_queries
):
    from tests.factories import ApplicationFactory

    for _ in range(3):
        ApplicationFactory(
            status="investigation",
            investigator=staff["rm"],
            company__home_branch=investigating.branch,
        )
    ApplicationFactory(status="investigation", investigator=staff["rm2"])
    client.force_login(staff["rm"])
    client.get(reverse("investigation-queue"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("investigation-queue"))
    assert response.content.decode().count("/investigation/") >= 4
    assert len(response.context["applications"]) == 4


def test_the_application_page_shows_the_investigation_panel(investigating, staff, client):
    client.force_login(staff["approver"])
    response = client.get(reverse("application-detail", args=[investigating.pk]))
    assert response.status_code == 200
    assert 'id="investigation-panel"' in response.content.decode()


def test_the_investigator_sees_the_exposure_after_this_application_with_the_group(
    investigating, staff, client, company
):
    from datetime import date

    from postloan.models import Loan
    from tests.factories import CompanyFactory

    sister = CompanyFactory(
        home_branch=company.home_branch, legal_representative_id=company.legal_representative_id
    )
    disbursed = ApplicationFactory(company=sister, status="disbursed")
    Loan.objects.create(
        application=disbursed,
        **loan_terms_from(disbursed),
        branch=disbursed.branch,
        relationship_manager=staff["rm"],
        status="active",
        currency="CNY",
        principal=Decimal("500000"),
        outstanding_principal=Decimal("450000"),
        disbursed_on=date(2026, 1, 5),
    )
    client.force_login(staff["rm"])
    with translation.override(None):
        html = client.get(
            reverse("investigation-workspace", args=[investigating.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
    section = html[html.index('id="exposure-after"') :]
    assert "800,000.00 CNY" in section  # this customer: this application alone
    assert "1,250,000.00 CNY" in section  # its group, with the sister company's loan
    assert sister.name in section and "Same legal representative" in section
