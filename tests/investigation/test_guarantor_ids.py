"""A guarantor's number is checked: a person's resident ID number, a company's credit code."""

import pytest
from django.urls import reverse

from intake.models import Guarantor

pytestmark = pytest.mark.django_db


def _add(api, user, application, **data):
    return api(user).post(
        reverse("api-investigation-guarantors", args=[application.pk]),
        {"name": "Zhang San", "guaranteed_amount": "500000.00", **data},
        format="json",
    )


def test_a_guarantor_with_a_valid_id_number_is_recorded(investigating, staff, api):
    response = _add(api, staff["rm"], investigating, id_number="110101198001010010")
    assert response.status_code == 201, response.data
    assert Guarantor.objects.get().id_number == "110101198001010010"


@pytest.mark.parametrize(
    ("kind", "id_number", "message"),
    [
        ("person", "110101198001010011", "check digit"),
        ("person", "1101011980", "18 characters"),
        ("company", "91350100M000100Y44", "check character"),
    ],
)
def test_a_wrong_guarantor_number_is_a_field_error(
    investigating, staff, api, kind, id_number, message
):
    response = _add(api, staff["rm"], investigating, kind=kind, id_number=id_number)
    assert response.status_code == 400
    assert message in response.data["id_number"][0]
    assert not Guarantor.objects.exists()


def test_the_guarantor_form_shows_what_is_wrong_with_the_number(investigating, staff, client):
    client.force_login(staff["rm"])
    response = client.post(
        reverse("investigation-guarantor", args=[investigating.pk]),
        {
            "kind": "person",
            "name": "Zhang San",
            "id_number": "110101198001010011",
            "guaranteed_amount": "500000.00",
            "own_exposure": "0",
        },
        follow=True,
    )
    assert "check digit" in response.content.decode()
    assert not Guarantor.objects.exists()
