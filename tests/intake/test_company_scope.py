"""Staff read a company's details, and learn of its open applications, only within their
scope: another branch's customer is neither shown by its credit code nor named in a 409."""

import pytest
from django.urls import reverse

from org.roles import Role
from tests import lifecycle
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def _find(api, user, code):
    return api(user).post(
        reverse("api-company-find-or-create"), {"credit_code": code}, format="json"
    )


def _file(api, user, company, product):
    """`user` files a draft for the company (the payload lifecycle.file_draft sends)."""
    return api(user).post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "800000.00",
            "term_months": 12,
            "interest_rate": "4.350",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )


def test_another_branchs_customer_is_not_shown_by_its_credit_code(
    api, staff, company, other_branch
):
    company.contact_phone = "13800138000"
    company.save()
    shanghai_rm = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm")
    response = _find(api, shanghai_rm, company.credit_code)
    assert response.status_code == 409
    assert response.data["code"] == "company_of_another_branch"
    assert "13800138000" not in response.content.decode()
    assert company.name not in response.content.decode()
    # Its own branch sees it.
    mine = _find(api, staff["rm"], company.credit_code)
    assert mine.status_code == 200 and mine.data["company"]["contact_phone"] == "13800138000"


def test_a_company_with_an_application_in_scope_is_shown_to_that_branch(
    api, staff, company, product, other_branch
):
    shanghai_rm = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm")
    _file(api, shanghai_rm, company, product)
    assert _find(api, shanghai_rm, company.credit_code).status_code == 200


def test_a_duplicate_at_another_branch_is_refused_without_its_reference(
    api, staff, company, product, other_branch
):
    pk = lifecycle.file_draft(api, staff, company, product)
    reference = api(staff["rm"]).get(reverse("api-application", args=[pk])).data["reference"]
    shanghai_rm = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="sam_rm")
    response = _file(api, shanghai_rm, company, product)
    assert response.status_code == 409 and response.data["code"] == "duplicate_application"
    assert reference not in response.content.decode()
    assert "existing_id" not in response.content.decode()
    # Within the branch, the 409 names the application to open instead.
    again = _file(api, staff["rm2"], company, product)
    assert again.status_code == 409 and reference in again.content.decode()


def test_a_controlling_shareholder_entered_for_a_known_customer_is_recorded_and_audited(
    api, staff, company
):
    from audit.models import AuditEvent
    from tests.factories import make_resident_id

    url = reverse("api-company-find-or-create")
    holder = make_resident_id(900321)
    client = api(staff["rm"])

    missing_id = client.post(
        url,
        {"credit_code": company.credit_code, "controlling_shareholder": "Qian Qi"},
        format="json",
    )
    assert missing_id.status_code == 400
    assert "controlling_shareholder_id" in missing_id.data

    found = client.post(
        url,
        {
            "credit_code": company.credit_code,
            "controlling_shareholder": "Qian Qi",
            "controlling_shareholder_id": holder,
        },
        format="json",
    )
    assert found.status_code == 200, found.data
    assert found.data["created"] is False
    assert found.data["company"]["controlling_shareholder_id"] == holder
    company.refresh_from_db()
    assert (company.controlling_shareholder, company.controlling_shareholder_id) == (
        "Qian Qi",
        holder,
    )
    event = AuditEvent.objects.get(action="company_shareholder_update", subject_id=company.pk)
    assert event.actor == staff["rm"]
    assert event.data["before"] == {"controlling_shareholder": "", "controlling_shareholder_id": ""}
    assert event.data["after"]["controlling_shareholder_id"] == holder

    # Found again with the same shareholder, or with none given: nothing more is recorded.
    for body in ({"controlling_shareholder": "Qian Qi", "controlling_shareholder_id": holder}, {}):
        again = client.post(url, {"credit_code": company.credit_code, **body}, format="json")
        assert again.status_code == 200
    assert AuditEvent.objects.filter(action="company_shareholder_update").count() == 1
