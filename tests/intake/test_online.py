import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from intake.services import relationship_manager_pick
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_an_owner_applies_online_and_the_least_busy_rm_of_the_branch_gets_it(
    api, staff, owner, company, product, branch, django_assert_num_queries
):
    ApplicationFactory(
        company=company,
        branch=branch,
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        product=product,
    )
    LoanApplication.objects.update(status="submitted")
    with django_assert_num_queries(1):
        assert relationship_manager_pick(branch=branch) == staff["rm2"]
    other_product = type(product).objects.create(
        code="SME-FT",
        name="Fast",
        min_amount=10000,
        max_amount=500000,
        min_term_months=3,
        max_term_months=12,
        min_rate=4,
        max_rate=12,
        repayment_methods=["equal_instalments"],
        guarantee_types=["credit"],
    )
    response = api(owner).post(
        reverse("api-online-application"),
        {
            "product": "SME-FT",
            "amount": "200000.00",
            "term_months": 6,
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
            "purpose": "Stock for the spring season",
            "contact_phone": "13800000000",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    application = LoanApplication.objects.get(pk=response.data["id"])
    assert application.channel == "online" and application.status == "draft"
    assert application.relationship_manager == staff["rm2"]
    assert application.product == other_product
    assert application.interest_rate == other_product.min_rate
    company.refresh_from_db()
    assert company.contact_phone == "13800000000"
    assert AuditEvent.objects.filter(
        application=application, action="assign_relationship_manager"
    ).exists()
    from notifications.models import Notification

    assert Notification.objects.filter(
        user=staff["rm2"], kind="assignment", application=application
    ).exists()


def test_an_online_request_outside_the_product_gets_field_messages(api, staff, owner, product):
    response = api(owner).post(
        reverse("api-online-application"),
        {
            "product": product.code,
            "amount": "10.00",
            "term_months": 99,
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "amount" in response.data and "term_months" in response.data
    assert not LoanApplication.objects.exists()


def test_staff_cannot_use_the_online_channel(api, staff, product):
    response = api(staff["rm"]).post(
        reverse("api-online-application"),
        {
            "product": product.code,
            "amount": "100000.00",
            "term_months": 12,
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert response.status_code == 403


def test_a_second_online_application_links_to_the_first(client, staff, owner, product):
    client.force_login(owner)
    data = {
        "product": product.code,
        "amount": "100000.00",
        "term_months": 12,
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
    }
    response = client.post(reverse("portal-apply"), data)
    assert response.status_code == 302
    first = LoanApplication.objects.get()
    response = client.post(reverse("portal-apply"), data)
    assert response.status_code == 200
    assert reverse("portal-apply-application", args=[first.pk]) in response.content.decode()
    assert LoanApplication.objects.count() == 1
