"""An administrator chooses, per product, how its repayment schedules are drawn: where due dates
on non-working days move, the interest day count and a fixed repayment day. Applications
keep the choice they were filed under (the product's terms)."""

import pytest
from django.test import Client
from django.utils import translation

from intake.admin import ProductForm
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _form_data(product, **changes) -> dict:
    data = {
        field: getattr(product, field)
        for field in ProductForm.Meta.fields
        if getattr(product, field) is not None
    }
    return {**data, **changes}


def test_the_admin_shows_the_schedule_conventions_of_a_product(staff):
    product = ProductFactory()
    client = Client()
    client.force_login(staff["admin"])
    with translation.override("en"):
        page = client.get(
            f"/admin/applications/product/{product.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("business_day_convention", "day_count", "repayment_day"):
        assert f'name="{name}"' in html
    assert "Modified following" in html and "Actual/365" in html


def test_existing_products_keep_todays_interest_and_move_due_dates_to_the_next_working_day():
    product = ProductFactory()
    assert product.business_day_convention == "following"
    assert product.day_count == "thirty_360"
    assert product.repayment_day is None


def test_choosing_conventions_is_a_new_version_of_the_products_terms():
    product = ProductFactory()
    form = ProductForm(
        data=_form_data(product, day_count="actual_360", repayment_day=20), instance=product
    )
    assert form.is_valid(), form.errors
    form.save()
    product.refresh_from_db()
    assert product.version == 2
    assert product.snapshot()["day_count"] == "actual_360"
    assert product.snapshot()["repayment_day"] == 20


@pytest.mark.parametrize("day", [0, 29, 31])
def test_a_repayment_day_outside_1_to_28_is_refused(day):
    product = ProductFactory()
    form = ProductForm(data=_form_data(product, repayment_day=day), instance=product)
    assert not form.is_valid()
    assert "repayment_day" in form.errors
