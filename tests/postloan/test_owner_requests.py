"""The owner's requests are one kind of record (OwnerRequest), a prepayment or a change: one
open a loan whatever its kind (the database decides between two at once), each filed only
as what it asks for, declined by whoever files that kind, withdrawn by the owner; both kinds
in one list on the portal and on the staff page. Migration 0012 copied the two old tables."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from notifications.models import Notification
from postloan import services
from postloan.models import OwnerRequest
from tests.migrating import migrate, migrate_to_latest
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import pay_instalments_due_by, product_with, scheduled_loan

D = Decimal


@pytest.fixture
def loan(staff, company):
    made = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="1"),
        start=TODAY - timedelta(days=100),
    )
    pay_instalments_due_by(made, TODAY, recorded_by=staff["rm"])
    return made


def _ask(api, owner, loan, **payload):
    return api(owner).post(
        reverse("api-portal-owner-requests", args=[loan.application_id]), payload, format="json"
    )


@pytest.mark.django_db
def test_a_loan_has_one_open_request_whatever_its_kind(api, staff, owner, loan):
    asked = _ask(api, owner, loan, kind="full", value_date=TODAY.isoformat())
    assert asked.status_code == 201, asked.data
    assert asked.data["is_prepayment"] is True and asked.data["status"] == "open"
    again = _ask(api, owner, loan, kind="extension", note="Harvest is late")
    assert again.status_code == 409 and again.data["code"] == "open_request"
    withdraw = reverse(
        "api-portal-owner-request-withdraw", args=[loan.application_id, asked.data["id"]]
    )
    assert api(owner).post(withdraw).data["status"] == "withdrawn"
    # A change request may now be asked, and withdrawn as a prepayment request is.
    change = _ask(api, owner, loan, kind="extension", note="Harvest is late")
    assert change.status_code == 201, change.data
    assert change.data["is_prepayment"] is False and change.data["value_date"] is None
    withdraw = reverse(
        "api-portal-owner-request-withdraw", args=[loan.application_id, change.data["id"]]
    )
    assert api(owner).post(withdraw).data["status"] == "withdrawn"
    rows = api(owner).get(reverse("api-portal-owner-requests", args=[loan.application_id])).data
    assert [(r["kind"], r["status"]) for r in rows] == [
        ("extension", "withdrawn"),
        ("full", "withdrawn"),
    ]
    assert (
        list(
            AuditEvent.objects.filter(subject_type="postloan.ownerrequest")
            .order_by("id")
            .values_list("action", flat=True)
        )
        == ["owner_request_ask", "owner_request_withdraw"] * 2
    )
    # A prepayment needs its value date; a kind that is neither is refused on the field.
    assert "value_date" in _ask(api, owner, loan, kind="full").data
    assert "kind" in _ask(api, owner, loan, kind="holiday").data


@pytest.mark.django_db
def test_each_request_is_filed_only_as_what_it_asks_for(api, staff, owner, loan):
    change = _ask(api, owner, loan, kind="top_up").data
    filed = api(staff["rm"]).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {"kind": "full", "value_date": TODAY.isoformat(), "request_id": change["id"]},
        format="json",
    )
    assert filed.status_code == 400 and "request_id" in filed.data
    assert OwnerRequest.objects.get(pk=change["id"]).status == "open"
    assert not loan.prepayments.exists()


@pytest.mark.django_db
def test_the_staff_page_lists_both_kinds_and_whoever_files_a_kind_declines_it(
    api, staff, owner, loan
):
    change = _ask(api, owner, loan, kind="top_up", note="A second lathe").data
    decline = reverse("api-postloan-owner-request-decline", args=[change["id"]])
    # A change request is the loan's relationship manager's to answer.
    assert api(staff["checker"]).post(decline, {"comment": "No"}, format="json").status_code in (
        403,
        404,
    )
    page = Client()
    page.force_login(staff["rm"])
    html = page.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert 'id="owner-request-open"' in html and "A second lathe" in html
    declined = api(staff["rm"]).post(decline, {"comment": "Turnover too low."}, format="json")
    assert declined.status_code == 200, declined.data
    assert (declined.data["status"], declined.data["answer"]) == ("declined", "Turnover too low.")
    assert declined.data["handled_by"] == staff["rm"].pk
    # The owner hears of a declined change request as of a declined prepayment request.
    assert Notification.objects.filter(user=owner, kind="decision").count() == 1
    prepay = _ask(api, owner, loan, kind="full", value_date=TODAY.isoformat()).data
    listed = (
        api(staff["rm"])
        .get(reverse("api-postloan-owner-requests", args=[loan.application_id]))
        .data
    )
    assert [(r["kind"], r["status"], r["is_prepayment"]) for r in listed] == [
        ("full", "open", True),
        ("top_up", "declined", False),
    ]
    html = page.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert f'name="request_id" value="{prepay["id"]}"' in html
    owner_page = Client()
    owner_page.force_login(owner)
    html = owner_page.get(reverse("portal-application", args=[loan.application_id])).content
    assert b'id="owner-requests"' in html and b"Turnover too low." in html
    # While one is open, the portal offers no second ask.
    assert b'id="prepay-ask-form"' not in html and b'id="loan-change-ask"' not in html


@pytest.mark.django_db(transaction=True)
def test_two_requests_asked_at_once_leave_one_open(staff, owner, loan):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    results: list = []
    barrier = threading.Barrier(2)

    def ask(kind, **extra):
        from django.db import connection as conn

        try:
            barrier.wait()
            services.owner_request_ask(
                application_id=loan.application_id, actor=owner, kind=kind, **extra
            )
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - the loser's error is what we assert
            results.append(getattr(exc, "code", type(exc).__name__))
        finally:
            conn.close()

    threads = [
        threading.Thread(target=ask, args=("extension",)),
        threading.Thread(target=ask, args=("full",), kwargs={"value_date": TODAY}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "open_request"]
    assert OwnerRequest.objects.filter(loan=loan, status="open").count() == 1


BEFORE = [("postloan", "0010_loan_changes")]
AFTER = [("postloan", "0012_owner_requests_from_both_tables")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_both_old_tables_and_closes_a_second_open_request(staff, owner, loan):
    from django.utils import timezone

    old = migrate(BEFORE)
    try:
        now = timezone.now()
        PrepaymentRequest = old.get_model("postloan", "PrepaymentRequest")
        ChangeRequest = old.get_model("postloan", "ChangeRequest")
        PrepaymentRequest.objects.create(
            loan_id=loan.pk,
            kind="full",
            status="declined",
            value_date=TODAY,
            note="first",
            asked_by_id=owner.pk,
            created_at=now - timedelta(days=3),
            decided_by_id=staff["rm"].pk,
            decided_at=now - timedelta(days=2),
            decision_comment="Not before six months.",
        )
        ChangeRequest.objects.create(
            loan_id=loan.pk,
            kind="extension",
            status="open",
            note="Harvest is late",
            requested_by_id=owner.pk,
            created_at=now - timedelta(days=1),
        )
        PrepaymentRequest.objects.create(
            loan_id=loan.pk,
            kind="lower_instalment",
            status="open",
            value_date=TODAY,
            principal=D("30000.00"),
            asked_by_id=owner.pk,
            created_at=now,
        )
    finally:
        migrate(AFTER)
        rows = list(
            migrate(AFTER)
            .get_model("postloan", "OwnerRequest")
            .objects.order_by("created_at")
            .values_list("kind", "status", "principal", "answer", "handled_by_id")
        )
        migrate_to_latest()
    assert rows[0] == ("full", "declined", None, "Not before six months.", staff["rm"].pk)
    assert rows[1] == ("extension", "open", None, "", None)
    # The later of two open requests on one loan is closed, saying why.
    kind, status, principal, answer, handled_by = rows[2]
    assert (kind, status, principal, handled_by) == (
        "lower_instalment",
        "declined",
        D("30000.00"),
        None,
    )
    assert "one request may be open at a time" in answer


@pytest.mark.django_db
def test_the_rm_declines_a_change_request_from_the_loan_page(api, staff, owner, loan):
    asked = _ask(api, owner, loan, kind="restructuring", note="Orders lost").data
    page = Client()
    page.force_login(staff["rm"])
    response = page.post(
        reverse("postloan-loan-action", args=[loan.application_id, "owner-request-decline"]),
        {"request_id": str(asked["id"]), "comment": "Paying on time: no need."},
    )
    assert response.status_code == 302
    declined = OwnerRequest.objects.get(pk=asked["id"])
    assert (declined.status, declined.answer, declined.handled_by) == (
        "declined",
        "Paying on time: no need.",
        staff["rm"],
    )
    assert AuditEvent.objects.filter(
        action="owner_request_decline", subject_id=declined.pk, actor=staff["rm"]
    ).exists()
