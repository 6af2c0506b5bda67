"""Offer, contract, conditions precedent, maker-checker disbursement and the fixed schedule."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from applications.models import LoanApplication
from applications.services import application_transition
from approvals.models import ApprovalCondition
from audit.models import AuditEvent
from disbursement import services
from disbursement.models import Contract, Disbursement, Instalment, Offer
from disbursement.pdf import BundledOnlyFetcher, offer_html, render_html
from tests import lifecycle
from tests.factories import (
    ApplicationFactory,
    CompanyFactory,
    make_applicant,
    make_signed_contracts,
)
from tests.second_factor import age_step_up, api_with_old_code, code_of, enrol

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery():
    """Run tasks enqueued after commit in-process, as a worker would."""
    from loanflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def approved(staff, company, django_capture_on_commit_callbacks):
    """An application approved by the system (fast track): the offer is made in the approval's
    transaction and its PDF rendered after commit."""
    application = ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        interest_rate=Decimal("6.000"),
        repayment_method="equal_principal",
        language="en",
    )
    ApprovalCondition.objects.create(
        application=application, text="Pledge of receivables", created_by=staff["approver"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="approve", actor=None, system=True
        )
    return LoanApplication.objects.get(pk=application.pk)


def _record(api, staff, pk, **overrides):
    payload = {
        "account_number": "6222020200112233",
        "amount": "120000.00",
        "value_date": "2026-12-01",
        **overrides,
    }
    return api(staff["disburser"]).post(
        reverse("api-disbursement-record", args=[pk]), payload, format="json"
    )


def _signed(api, staff, application):
    response = api(staff["rm"]).post(
        reverse("api-disbursement-contract", args=[application.pk]),
        {"number": "HT-2026-001", "signed_on": "2026-11-01"},
        format="json",
    )
    assert response.status_code == 201, response.data
    lifecycle.sign_contracts(api, staff, application.pk)
    return application


def _satisfy_all(api, staff, application):
    for condition in ApprovalCondition.objects.filter(application=application):
        response = api(staff["disburser"]).post(
            reverse("api-disbursement-condition-satisfy", args=[application.pk, condition.pk]),
            {},
            format="json",
        )
        assert response.status_code == 200, response.data


# --- Offer -----------------------------------------------------------------------------------


def test_approval_makes_an_offer_with_the_terms_conditions_and_a_rendered_pdf(approved, api, staff):
    offer = Offer.objects.get(application=approved)
    assert offer.amount == Decimal("120000.00") and offer.currency == "CNY"
    assert offer.interest_rate == Decimal("6.000") and offer.term_months == 12
    assert offer.conditions == [{"id": offer.conditions[0]["id"], "text": "Pledge of receivables"}]
    assert len(offer.schedule) == 12
    assert offer.schedule[0]["total"] == "10600.00"
    assert offer.status == Offer.Status.READY
    assert bytes(offer.pdf).startswith(b"%PDF")
    assert offer.render_seconds is not None and offer.render_seconds < 10

    response = api(staff["rm"]).get(reverse("api-disbursement-offer-pdf", args=[approved.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_application_has_one_offer_and_its_making_is_recorded_once(
    staff, company, django_capture_on_commit_callbacks
):
    from django.db import IntegrityError, transaction

    from audit.models import AuditEvent

    application = ApplicationFactory(company=company, status="approved", filed_by=staff["rm"])
    with django_capture_on_commit_callbacks() as render:
        offer = services.offer_create(application=application)
    assert offer.pk and offer.created_at and offer.status == Offer.Status.PENDING
    with pytest.raises(IntegrityError), transaction.atomic():
        services.offer_create(application=application)
    assert Offer.objects.filter(application=application).count() == 1
    assert AuditEvent.objects.filter(application=application, action="offer_created").count() == 1
    assert len(render) == 1


def test_a_chinese_offer_renders_with_the_cjk_font(staff, company):
    application = ApplicationFactory(
        company=company, status="approved", filed_by=staff["rm"], language="zh-hans"
    )
    offer = services.offer_create(application=application)
    services.offer_render(offer_id=offer.pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY
    assert bytes(offer.pdf).startswith(b"%PDF")
    html = offer_html(offer)
    assert "贷款要约" in html and "WenQuanYi Micro Hei" in html
    pdf = render_html(html, uncompressed_pdf=True)
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([^\s/>]+)", pdf))
    assert b"WenQuanYi-Micro-Hei" in fonts


def test_the_pdf_renderer_refuses_local_files_and_the_network():
    fetcher = BundledOnlyFetcher()
    html = (
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://example.com/x.css">'
        '<img src="https://169.254.169.254/latest">hello'
    )
    pdf = render_html(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert sorted(fetcher.refused) == [
        "file:///etc/passwd",
        "http://example.com/x.css",
        "https://169.254.169.254/latest",
    ]


def test_the_pdf_renderer_still_draws_inline_data_images():
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    fetcher = BundledOnlyFetcher()
    pdf = render_html(f'<img src="{pixel}">hello', fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert fetcher.served == [pixel] and fetcher.refused == []


def test_an_owner_of_another_company_gets_404_on_offer_schedule_and_accept(approved, api):
    stranger = make_applicant(CompanyFactory(home_branch=approved.branch), username="mallory")
    client = api(stranger)
    for name in (
        "api-portal-application",
        "api-portal-offer-pdf",
        "api-portal-schedule-pdf",
    ):
        assert client.get(reverse(name, args=[approved.pk])).status_code == 404, name
    for name in ("api-portal-offer-code", "api-portal-offer-accept"):
        assert client.post(reverse(name, args=[approved.pk])).status_code == 404, name
    # The stage's own endpoints are the bank's: refused to any owner.
    for name in ("api-disbursement-schedule", "api-disbursement"):
        assert client.get(reverse(name, args=[approved.pk])).status_code == 403, name
    assert not Contract.objects.filter(application=approved).exists()
    approved.refresh_from_db()
    assert approved.status == "approved"


# --- Contract --------------------------------------------------------------------------------


def test_the_owner_accepts_the_offer_and_the_contract_is_signed(approved, api, owner):
    response = lifecycle.accept_offer(api, owner, approved.pk)
    assert response.data["status"] == "contract_signed"
    assert response.data["offer"]["can_accept"] is False
    assert response.data["contract"]["number"]
    approved.refresh_from_db()
    assert approved.status == "contract_signed"
    contract = Contract.objects.get(application=approved)
    assert contract.channel == Contract.Channel.PORTAL and contract.recorded_by == owner
    offer = Offer.objects.get(application=approved)
    assert offer.accepted_by == owner and offer.accepted_at is not None
    event = AuditEvent.objects.get(application=approved, kind="transition", action="sign_contract")
    assert event.actor == owner
    again = api(owner).post(
        reverse("api-portal-offer-accept", args=[approved.pk]),
        {"read_confirmed": True, "otp": "123456"},
        format="json",
    )
    assert again.status_code == 409


def test_the_generic_endpoint_refuses_sign_contract_and_disburse(approved, api, staff):
    response = api(staff["rm"]).post(
        reverse("api-application-sign-contract", args=[approved.pk]), {}, format="json"
    )
    assert response.status_code == 403
    assert response.data["code"] == "use_stage_endpoint"
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_signing_without_a_contract_row_is_blocked_by_the_gate(approved, staff):
    from common.errors import Conflict

    with pytest.raises(Conflict) as caught:
        application_transition(
            application_id=approved.pk, transition="sign_contract", actor=staff["rm"]
        )
    assert caught.value.missing
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_an_applicant_cannot_record_a_paper_contract_and_staff_cannot_accept(
    approved, api, owner, staff
):
    response = api(owner).post(
        reverse("api-disbursement-contract", args=[approved.pk]),
        {"number": "X-1", "signed_on": "2026-11-01"},
        format="json",
    )
    assert response.status_code == 403
    response = api(staff["rm"]).post(reverse("api-portal-offer-accept", args=[approved.pk]))
    assert response.status_code == 403
    assert not Contract.objects.filter(application=approved).exists()


# --- Conditions precedent and the maker ------------------------------------------------------


def test_conditions_precedent_must_be_satisfied_before_recording(approved, api, staff):
    _signed(api, staff, approved)
    response = _record(api, staff, approved.pk)
    assert response.status_code == 409
    assert response.data["code"] == "conditions_unsatisfied"
    assert response.data["missing"] == ["Pledge of receivables"]
    assert not Disbursement.objects.exists()

    _satisfy_all(api, staff, approved)
    condition = ApprovalCondition.objects.get(application=approved)
    assert condition.satisfied_by == staff["disburser"] and condition.satisfied_at
    assert AuditEvent.objects.filter(
        application=approved, action="condition_satisfied", actor=staff["disburser"]
    ).exists()
    response = _record(api, staff, approved.pk)
    assert response.status_code == 201, response.data
    assert response.data["status"] == "recorded"


def test_only_a_disbursement_officer_satisfies_conditions(approved, api, staff):
    _signed(api, staff, approved)
    condition = ApprovalCondition.objects.get(application=approved)
    response = api(staff["checker"]).post(
        reverse("api-disbursement-condition-satisfy", args=[approved.pk, condition.pk]),
        {},
        format="json",
    )
    assert response.status_code == 403
    condition.refresh_from_db()
    assert condition.satisfied_at is None


def test_the_amount_may_not_exceed_the_approved_amount(approved, api, staff):
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    response = _record(api, staff, approved.pk, amount="120000.01")
    assert response.status_code == 400
    assert "amount" in response.data
    response = _record(api, staff, approved.pk, amount="0")
    assert response.status_code == 400
    assert not Disbursement.objects.exists()


def test_a_disbursement_is_recorded_only_after_the_contract(approved, api, staff):
    _satisfy_all(api, staff, approved)
    response = _record(api, staff, approved.pk)
    assert response.status_code == 409
    assert not Disbursement.objects.exists()


# --- Maker-checker ---------------------------------------------------------------------------


def test_maker_and_checker_must_differ_403_logged_nothing_changed(approved, api, staff):
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    # One person holding both roles records, then tries to confirm.
    from django.contrib.auth.models import Group

    staff["disburser"].groups.add(Group.objects.get_or_create(name="disbursement_checker")[0])
    both = type(staff["disburser"]).objects.get(pk=staff["disburser"].pk)  # fresh role cache
    assert _record(api, {"disburser": both}, approved.pk).status_code == 201
    transitions_before = AuditEvent.objects.filter(kind="transition").count()

    response = api(both).post(
        reverse("api-disbursement-confirm", args=[approved.pk]), {}, format="json"
    )
    assert response.status_code == 403
    assert response.data["code"] == "segregation_of_duties"
    approved.refresh_from_db()
    assert approved.status == "contract_signed"
    disbursement = Disbursement.objects.get(application=approved)
    assert disbursement.status == "recorded" and disbursement.checker is None
    assert not Instalment.objects.filter(application=approved).exists()
    assert AuditEvent.objects.filter(kind="transition").count() == transitions_before
    refusal = AuditEvent.objects.get(application=approved, kind="refusal", action="disburse")
    assert refusal.actor == both
    assert refusal.data["code"] == "segregation_of_duties"


def test_the_maker_cannot_disburse_through_the_transition_service_either(approved, api, staff):
    from django.contrib.auth.models import Group

    from common.errors import SegregationOfDuties

    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk).status_code == 201
    staff["disburser"].groups.add(Group.objects.get_or_create(name="disbursement_checker")[0])
    both = type(staff["disburser"]).objects.get(pk=staff["disburser"].pk)  # fresh role cache
    with pytest.raises(SegregationOfDuties):
        application_transition(application_id=approved.pk, transition="disburse", actor=both)
    approved.refresh_from_db()
    assert approved.status == "contract_signed"


def test_disbursing_without_a_recorded_disbursement_is_blocked(approved, api, staff):
    from common.errors import Conflict

    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    response = api(staff["checker"]).post(
        reverse("api-disbursement-confirm", args=[approved.pk]), {}, format="json"
    )
    assert response.status_code == 409
    with pytest.raises(Conflict):
        application_transition(
            application_id=approved.pk, transition="disburse", actor=staff["checker"]
        )
    approved.refresh_from_db()
    assert approved.status == "contract_signed"


def test_a_different_checker_confirms_and_the_schedule_is_fixed_from_the_value_date(
    approved, api, staff
):
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk, value_date="2026-01-31").status_code == 201
    response = api(staff["checker"]).post(
        reverse("api-disbursement-confirm", args=[approved.pk]), {}, format="json"
    )
    assert response.status_code == 200, response.data
    approved.refresh_from_db()
    assert approved.status == "disbursed" and approved.disbursed_at
    disbursement = Disbursement.objects.get(application=approved)
    assert disbursement.status == "confirmed" and disbursement.checker == staff["checker"]
    instalments = list(Instalment.objects.filter(application=approved).order_by("number"))
    assert len(instalments) == 12
    # A month after 31 January is Saturday 28 February (a working day in no calendar here):
    # due the next working day.
    assert instalments[0].due_date.isoformat() == "2026-03-02"
    assert instalments[0].total == Decimal("10600.00")
    assert instalments[-1].total == Decimal("10050.00")
    assert sum(i.principal for i in instalments) == Decimal("120000.00")
    assert {i.currency for i in instalments} == {"CNY"}
    event = AuditEvent.objects.get(application=approved, kind="transition", action="disburse")
    assert event.actor == staff["checker"]

    schedule = api(staff["rm"]).get(reverse("api-disbursement-schedule", args=[approved.pk]))
    assert schedule.status_code == 200
    assert schedule.data["fixed"] is True
    assert schedule.data["total_principal"] == "120000.00"
    again = api(staff["checker"]).post(
        reverse("api-disbursement-confirm", args=[approved.pk]), {}, format="json"
    )
    assert again.status_code == 409
    assert Instalment.objects.filter(application=approved).count() == 12


def test_a_partial_disbursement_fixes_the_schedule_on_the_disbursed_amount(approved, api, staff):
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk, amount="100000.00").status_code == 201
    assert (
        api(staff["checker"])
        .post(reverse("api-disbursement-confirm", args=[approved.pk]), {}, format="json")
        .status_code
        == 200
    )
    total = sum(i.principal for i in Instalment.objects.filter(application=approved))
    assert total == Decimal("100000.00")


def test_the_owner_downloads_the_schedule_pdf_as_an_attachment(approved, api, owner):
    response = api(owner).get(reverse("api-portal-schedule-pdf", args=[approved.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="schedule-{approved.reference}.pdf"'
    )
    assert response.content.startswith(b"%PDF")


def test_the_owner_sees_no_disbursement_account_details(approved, api, staff, owner):
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk).status_code == 201
    assert api(owner).get(reverse("api-disbursement", args=[approved.pk])).status_code == 403
    response = api(owner).get(reverse("api-portal-application", args=[approved.pk]))
    assert response.status_code == 200
    assert "6222020200112233" not in response.content.decode()
    assert "disbursement" not in response.data
    staff_view = api(staff["checker"]).get(reverse("api-disbursement", args=[approved.pk]))
    assert staff_view.data["disbursement"]["account_number"] == "6222020200112233"


def test_the_queue_lists_what_awaits_disbursement_or_confirmation_without_per_row_queries(
    api, staff, company, django_assert_max_num_queries
):
    for n in range(4):
        application = ApplicationFactory(
            company=CompanyFactory(home_branch=company.home_branch),
            status="contract_signed",
            filed_by=staff["rm"],
        )
        if n % 2:
            Disbursement.objects.create(
                application=application,
                account_number="1",
                amount=application.amount,
                currency="CNY",
                value_date="2026-12-01",
                maker=staff["disburser"],
            )
    ApplicationFactory(company=company, status="approved", filed_by=staff["rm"])
    client = api(staff["checker"])
    client.get(reverse("api-disbursement-queue"))  # warm the user caches
    with django_assert_max_num_queries(6):
        response = client.get(reverse("api-disbursement-queue"))
    assert response.status_code == 200
    assert len(response.data) == 4
    assert sorted(item["awaiting_confirmation"] for item in response.data) == [
        False,
        False,
        True,
        True,
    ]


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_checkers_confirming_at_once_disburse_exactly_once(staff, company):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from tests.factories import make_staff

    second = make_staff("disbursement_checker", company.home_branch, username="checker_two")
    application = ApplicationFactory(
        company=company, status="contract_signed", filed_by=staff["rm"]
    )
    make_signed_contracts(application, prepared_by=staff["rm"], bank_signer=staff["head"])
    Disbursement.objects.create(
        application=application,
        account_number="1",
        amount=application.amount,
        currency="CNY",
        value_date="2026-12-01",
        maker=staff["disburser"],
    )
    results: list = []
    barrier = threading.Barrier(2)

    def confirm(user):
        from django.db import connection as conn

        try:
            barrier.wait()
            services.disbursement_confirm(application_id=application.pk, actor=user)
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - the loser's error is what we assert
            results.append(type(exc).__name__)
        finally:
            conn.close()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in (staff["checker"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["Conflict", "ok"]
    assert Instalment.objects.filter(application=application).count() == 12
    assert (
        AuditEvent.objects.filter(
            application=application, kind="transition", action="disburse"
        ).count()
        == 1
    )


# --- The shared walk ---------------------------------------------------------------------------


def test_the_shared_lifecycle_walk_disburses_through_maker_and_checker(
    api, staff, company, product
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "disbursed")
    disbursement = Disbursement.objects.get(application_id=pk)
    assert disbursement.maker == staff["disburser"] and disbursement.checker == staff["checker"]
    assert Offer.objects.filter(application_id=pk).exists()
    assert Contract.objects.get(application_id=pk).number == f"HT-{pk}"
    assert Instalment.objects.filter(application_id=pk).count() == 12


# --- Offer rendering robustness --------------------------------------------------------------


def test_a_broker_outage_leaves_the_offer_pending_and_the_sweep_renders_it(
    staff, company, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from disbursement import tasks
    from loanflow.celery import app

    app.conf.task_always_eager = False  # restored by the autouse fixture

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis: Connection refused")

    monkeypatch.setattr(tasks.render_offer_pdf, "apply_async", broker_down)
    monkeypatch.setattr(tasks.render_offer_pdf, "delay", broker_down)
    application = ApplicationFactory(
        company=company, status="in_approval", filed_by=staff["rm"], language="en"
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="approve", actor=None, system=True
        )
    offer = Offer.objects.get(application=application)
    assert offer.status == Offer.Status.PENDING and not offer.pdf

    assert services.offer_render_pending(older_than_seconds=0) == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY and bytes(offer.pdf).startswith(b"%PDF")
    assert services.offer_render_pending(older_than_seconds=0) == 0


def test_a_failed_render_is_recorded_and_staff_can_retry(
    staff, company, api, monkeypatch, django_capture_on_commit_callbacks
):
    import disbursement.pdf

    application = ApplicationFactory(
        company=company, status="approved", filed_by=staff["rm"], language="en"
    )
    offer = services.offer_create(application=application)

    def broken(offer):
        raise RuntimeError("font cache unavailable")

    monkeypatch.setattr(disbursement.pdf, "render_offer", broken)
    services.offer_render(offer_id=offer.pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.FAILED and "font cache" in offer.error
    assert (
        api(staff["rm"])
        .get(reverse("api-disbursement-offer-pdf", args=[application.pk]))
        .status_code
        == 404
    )

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff["rm"]).post(
            reverse("api-disbursement-offer-retry", args=[application.pk]), {}, format="json"
        )
    assert response.status_code == 200
    assert response.data["status"] == "pending"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY and offer.error == ""


def test_staff_of_another_branch_get_404(approved, api, other_branch):
    from tests.factories import make_staff

    outsider = make_staff("disbursement_officer", other_branch, username="sh_officer")
    for name in ("api-disbursement", "api-disbursement-schedule", "api-disbursement-conditions"):
        assert api(outsider).get(reverse(name, args=[approved.pk])).status_code == 404
    assert _record(api, {"disburser": outsider}, approved.pk).status_code == 404


# --- Step-up: a confirmation needs a fresh second factor ----------------------------------------


@pytest.fixture
def recorded(approved, api, staff):
    """A disbursement recorded by the maker, waiting for the checker."""
    _signed(api, staff, approved)
    _satisfy_all(api, staff, approved)
    assert _record(api, staff, approved.pk).status_code == 201
    return approved


def test_a_disbursement_confirmation_through_the_api_needs_a_fresh_code(recorded, staff):
    checker = staff["checker"]
    client = api_with_old_code(checker, minutes=6)
    url = reverse("api-disbursement-confirm", args=[recorded.pk])
    refused = client.post(url, {}, format="json")
    assert refused.status_code == 403 and refused.data["code"] == "step_up_required"
    assert LoanApplication.objects.get(pk=recorded.pk).status == "contract_signed"
    done = client.post(url, {"otp": code_of(enrol(checker))}, format="json")
    assert done.status_code == 200, done.data
    assert LoanApplication.objects.get(pk=recorded.pk).status == "disbursed"


def test_a_disbursement_confirmation_on_its_page_needs_a_fresh_code(recorded, staff, client):
    checker = staff["checker"]
    client.force_login(checker)
    age_step_up(client, checker, minutes=6)
    url = reverse("disbursement-confirm", args=[recorded.pk])
    asked = client.post(url, {})
    page = reverse("disbursement-page", args=[recorded.pk])
    assert asked.status_code == 302
    assert asked.url == f"{reverse('second-factor-verify')}?next=%2Fdisbursement%2F{recorded.pk}%2F"
    assert LoanApplication.objects.get(pk=recorded.pk).status == "contract_signed"
    verified = client.post(
        reverse("second-factor-verify"), {"otp": code_of(enrol(checker)), "next": page}
    )
    assert verified.url == page
    done = client.post(url, {})
    assert done.status_code == 302
    assert LoanApplication.objects.get(pk=recorded.pk).status == "disbursed"


def test_the_confirmation_form_asks_for_a_code_when_the_last_is_too_old(recorded, staff, client):
    checker = staff["checker"]
    client.force_login(checker)
    page = reverse("disbursement-page", args=[recorded.pk])
    assert 'name="otp"' not in client.get(page).content.decode()
    age_step_up(client, checker, minutes=6)
    assert 'name="otp"' in client.get(page).content.decode()


def test_the_home_cards_count_what_the_disbursement_queue_holds_for_each_role(
    client, staff, company
):
    import re

    for n in range(3):
        application = ApplicationFactory(
            company=CompanyFactory(home_branch=company.home_branch),
            status="contract_signed",
            filed_by=staff["rm"],
        )
        if n:
            Disbursement.objects.create(
                application=application,
                account_number="1",
                amount=application.amount,
                currency="CNY",
                value_date="2026-12-01",
                maker=staff["disburser"] if n == 1 else staff["checker"],
            )

    def card(user, title):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        return int(re.search(rf'<strong>{title}</strong>\s*<span class="num">(\d+)', page)[1])

    # The officer: one contract with nothing recorded yet. The checker: the disbursement
    # another person recorded, not the one he recorded himself (maker-checker).
    assert card(staff["disburser"], "Ready to disburse") == 1
    assert card(staff["checker"], "To confirm") == 1
