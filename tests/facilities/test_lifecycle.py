"""A facility's life: opened by the approval of its application (intake, investigation and
approval as a loan's), activated by the signed contract, frozen and unfrozen by a risk officer
or frozen by an early-warning alert, expired by the nightly step, closed; each change audited
in the facility's chain."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from common.errors import Conflict
from facilities.models import Facility
from facilities.selectors import SUBJECT_TYPE
from facilities.services import drawdown_request, facilities_expire
from tests import lifecycle

pytestmark = pytest.mark.django_db


def _trail(facility) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(subject_type=SUBJECT_TYPE, subject_id=facility.pk)
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )


def test_a_facility_application_approved_and_contracted_opens_then_activates_the_facility(
    api, staff, company, facility_product
):
    pk = lifecycle.file_draft(
        api, staff, company, facility_product, amount="2000000.00", term_months=24
    )
    lifecycle.walk_to(api, staff, pk, "approved")

    facility = Facility.objects.get(application_id=pk)
    assert facility.status == Facility.Status.APPROVED
    assert facility.amount == Decimal("2000000.00")
    assert facility.revolving is True
    assert facility.max_drawdown_term_months == 12
    assert facility.min_rate == Decimal("4.350")
    assert facility.expires_on > timezone.localdate() + timedelta(days=700)

    lifecycle.sign_contract(api, staff, pk)
    facility.refresh_from_db()
    assert facility.status == Facility.Status.ACTIVE
    assert _trail(facility) == [
        ("facility_open", "", "approved"),
        ("facility_activate", "approved", "active"),
    ]


def test_a_risk_officer_freezes_unfreezes_and_closes_with_a_reason_and_an_audit_row(
    api, staff, make_facility
):
    facility = make_facility()
    risk = api(staff["risk"])

    assert (
        risk.post(reverse("api-facility-freeze", args=[facility.pk]), {}, format="json")
    ).status_code == 400
    frozen = risk.post(
        reverse("api-facility-freeze", args=[facility.pk]),
        {"reason": "Supplier dispute reported"},
        format="json",
    )
    assert frozen.status_code == 200, frozen.data
    assert frozen.data["status"] == "frozen"
    again = risk.post(
        reverse("api-facility-freeze", args=[facility.pk]), {"reason": "twice"}, format="json"
    )
    assert again.status_code == 409
    assert (
        risk.post(
            reverse("api-facility-unfreeze", args=[facility.pk]),
            {"reason": "Settled"},
            format="json",
        ).data["status"]
        == "active"
    )
    assert (
        risk.post(
            reverse("api-facility-close", args=[facility.pk]), {"reason": "Ended"}, format="json"
        ).data["status"]
        == "closed"
    )

    assert _trail(facility) == [
        ("facility_freeze", "active", "frozen"),
        ("facility_unfreeze", "frozen", "active"),
        ("facility_close", "active", "closed"),
    ]
    event = AuditEvent.objects.get(
        subject_type=SUBJECT_TYPE, subject_id=facility.pk, action="facility_freeze"
    )
    assert event.actor == staff["risk"]
    assert event.comment == "Supplier dispute reported"


def test_only_a_risk_officer_freezes(api, staff, make_facility):
    facility = make_facility()
    for who in ("rm", "approver"):
        response = api(staff[who]).post(
            reverse("api-facility-freeze", args=[facility.pk]), {"reason": "x"}, format="json"
        )
        assert response.status_code == 403
    facility.refresh_from_db()
    assert facility.status == Facility.Status.ACTIVE
    assert _trail(facility) == []


def test_the_nightly_step_expires_facilities_past_their_expiry_only(make_facility, company):
    past = make_facility()
    Facility.objects.filter(pk=past.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    current = make_facility()

    assert facilities_expire() == 1
    past.refresh_from_db()
    current.refresh_from_db()
    assert past.status == Facility.Status.EXPIRED
    assert current.status == Facility.Status.ACTIVE
    assert _trail(past) == [("facility_expire", "active", "expired")]
    assert facilities_expire() == 0


def test_an_alert_of_a_rule_that_freezes_freezes_the_companys_active_facilities(
    api, staff, company, product, make_facility
):
    from postloan.models import Loan, Severity, WarningRule
    from postloan.services import alert_raise

    facility = make_facility()
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "disbursed")
    loan = Loan.objects.get(application_id=pk)
    mild = WarningRule.objects.create(
        code="overdue-test", name="Overdue", kind=WarningRule.Kind.OVERDUE_INSTALMENT
    )
    alert_raise(loan=loan, rule=mild, evidence={})
    facility.refresh_from_db()
    assert facility.status == Facility.Status.ACTIVE  # a rule that does not freeze

    rule = WarningRule.objects.create(
        code="litigation-test",
        name="Litigation",
        kind=WarningRule.Kind.LITIGATION,
        severity=Severity.HIGH,
        freezes_facilities=True,
    )
    alert, _task = alert_raise(loan=loan, rule=rule, evidence={"case": "2026-001"})

    facility.refresh_from_db()
    assert facility.status == Facility.Status.FROZEN
    event = AuditEvent.objects.get(subject_type=SUBJECT_TYPE, subject_id=facility.pk)
    assert (event.action, event.actor_role, event.data["alert_id"]) == (
        "facility_freeze",
        "system",
        alert.pk,
    )
    with pytest.raises(Conflict):
        drawdown_request(
            facility_id=facility.pk, actor=staff["rm"], amount="10000.00", term_months=6
        )


def test_the_staff_pages_list_facilities_and_offer_the_risk_officer_the_freeze(
    client, staff, make_facility
):
    facility = make_facility()
    client.force_login(staff["rm"])
    listed = client.get(reverse("facility-list"))
    assert listed.status_code == 200
    assert f'id="facility-{facility.pk}"' in listed.content.decode()
    detail = client.get(reverse("facility-detail", args=[facility.pk]))
    assert 'id="facility-actions"' not in detail.content.decode()

    client.force_login(staff["risk"])
    page = client.get(reverse("facility-detail", args=[facility.pk])).content.decode()
    assert reverse("facility-transition", args=[facility.pk, "freeze"]) in page
    response = client.post(
        reverse("facility-transition", args=[facility.pk, "freeze"]), {"reason": "Alert"}
    )

    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.status == Facility.Status.FROZEN
