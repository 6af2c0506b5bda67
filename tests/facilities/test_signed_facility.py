"""A facility application's signed contract activates its facility and nothing is paid out on
it: the owner reads it as a facility they can draw on (portal pages, API, timeline, the
notification), not as a loan waiting for its payout, and analytics ends its process there (no
contract_signed stage left open for the facility's life)."""

import pytest
from django.urls import reverse
from django.utils import translation

from analytics.models import StageVisit
from analytics.services import stage_visits_rebuild
from facilities.models import Facility
from notifications.models import Notification
from notifications.services import FACILITY_ACTIVE_MESSAGE
from portal.selectors import portal_application_status_text
from tests import lifecycle
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

ACTIVE = "your credit facility is active and you can draw on it"


def _in_each_language(text) -> set[str]:
    """A message in English and in Chinese (the owner's notification is in their language)."""
    out = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            out.add(str(text))
    return out


def _signed_facility_application(api, staff, company, facility_product) -> int:
    pk = lifecycle.file_draft(
        api, staff, company, facility_product, amount="2000000.00", term_months=24
    )
    lifecycle.walk_to(api, staff, pk, "approved")
    lifecycle.sign_contract(api, staff, pk)
    assert Facility.objects.get(application_id=pk).status == Facility.Status.ACTIVE
    return pk


def test_the_owner_reads_a_signed_facility_application_as_a_facility_to_draw_on(
    api, client, staff, owner, company, facility_product
):
    pk = _signed_facility_application(api, staff, company, facility_product)

    detail = api(owner).get(reverse("api-portal-application", args=[pk]))
    listed = api(owner).get(reverse("api-online-application"))
    client.force_login(owner)
    home = client.get(reverse("portal-home")).content.decode()
    page = client.get(reverse("portal-application", args=[pk])).content.decode()

    assert detail.status_code == 200, detail.data
    assert ACTIVE in detail.data["status_text"]
    assert [row["status_text"] for row in listed.data if row["id"] == pk] == [
        detail.data["status_text"]
    ]
    # Its last step is the facility, not a payout.
    assert [(s["label"], s["state"]) for s in detail.data["steps"]][-1] == (
        "Facility active",
        "current",
    )
    signed = [e for e in detail.data["events"] if e["status"] == "contract_signed"]
    assert len(signed) == 1 and ACTIVE in signed[0]["text"]
    for html in (home, page):
        assert ACTIVE in html
        assert "the money is being prepared for payment" not in html
    # The owner hears the same; the payout officers hear nothing (there is no payout).
    told = Notification.objects.filter(user=owner, application_id=pk).order_by("-id").first()
    assert told.title in _in_each_language(FACILITY_ACTIVE_MESSAGE[1])
    assert not Notification.objects.filter(
        user=staff["disburser"], application_id=pk, title__startswith="Offer accepted"
    ).exists()


def test_a_frozen_facility_reads_frozen_and_a_loan_still_waits_for_its_payout(
    api, staff, owner, company, product, make_facility
):
    facility = make_facility()
    Facility.objects.filter(pk=facility.pk).update(status=Facility.Status.FROZEN)
    loan = ApplicationFactory(
        company=company, branch=company.home_branch, product=product, status="contract_signed"
    )

    listed = {
        row["id"]: row["status_text"]
        for row in api(owner).get(reverse("api-online-application")).data
    }

    assert "frozen for now, so nothing can be drawn" in listed[facility.application_id]
    assert listed[loan.pk] == "Contract signed: the money is being prepared for payment."
    assert portal_application_status_text(loan) == listed[loan.pk]


def test_analytics_ends_a_facility_applications_process_at_its_signed_contract(
    api, staff, company, facility_product
):
    pk = _signed_facility_application(api, staff, company, facility_product)

    def stages():
        return list(
            StageVisit.objects.filter(application_id=pk)
            .order_by("entered_at", "id")
            .values_list("stage", "outcome", "left_at")
        )

    recorded = stages()
    # The approved stage ends with the signature; no contract_signed visit stays open.
    assert recorded[-1][:2] == ("approved", "contract_signed")
    assert not StageVisit.objects.filter(application_id=pk, left_at__isnull=True).exists()
    # Rebuilt from the audit trail, the same.
    stage_visits_rebuild(application_ids=[pk])
    assert stages() == recorded
