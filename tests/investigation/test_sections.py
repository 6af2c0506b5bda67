"""The workspace is in sections the investigator moves between; a section's form saves in
place (htmx gets the section back) and, without JavaScript, returns to the section's anchor."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from investigation.models import FinancialPeriod
from tests.investigation.conftest import FIGURES

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SECTIONS = [
    "questionnaire",
    "site-visits",
    "financials",
    "guarantors",
    "sources",
    "verification",
    "assessment",
    "score",
    "memos",
]


@pytest.fixture
def rm(staff):
    client = Client()
    client.force_login(staff["rm"])
    return client


def _figures(period="last_year", **changes):
    return {"period": period, **{k: str(v) for k, v in FIGURES.items()}, **changes}


def test_the_workspace_has_a_navigation_to_each_section(investigating, rm):
    page = rm.get(reverse("investigation-workspace", args=[investigating.pk])).content.decode()
    nav = re.search(r'<nav class="ws-nav".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="#([\w-]+)"', nav) == SECTIONS
    for anchor in SECTIONS:
        assert f'<section id="{anchor}" class="ws-section"' in page
    # the script that shows one section at a time is a static file (the CSP allows no other)
    assert 'src="/static/investigation/workspace.js"' in page
    assert "<script>" not in page and " onclick=" not in page


def test_saving_a_section_returns_that_section_alone_with_a_saved_message(investigating, rm):
    response = rm.post(
        reverse("investigation-financials", args=[investigating.pk]), _figures(), **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section id="financials" class="ws-section"')
    assert "Financial figures saved." in body
    assert 'id="questionnaire"' not in body and 'id="verification"' not in body
    # what is still missing comes along, out of band
    assert '<section id="missing" hx-swap-oob="true"' in body
    assert FinancialPeriod.objects.filter(
        investigation__application=investigating, period="last_year"
    ).exists()


def test_every_form_of_a_section_posts_in_place_into_its_own_section(investigating, rm):
    page = rm.get(reverse("investigation-workspace", args=[investigating.pk])).content.decode()
    for anchor in SECTIONS:
        section = re.search(rf'<section id="{anchor}".*?</section>', page, re.S).group(0)
        for form in re.findall(r"<form [^>]*>", section):
            action = re.search(r'action="([^"]+)"', form).group(1)
            if action.endswith("/send-to-approval/"):
                continue  # the whole page changes: a plain post
            assert f'hx-post="{action}"' in form, form
            assert 'hx-target="closest section"' in form and 'hx-swap="outerHTML"' in form


def test_a_section_with_a_wrong_figure_comes_back_as_a_400_with_the_field_message(
    investigating, rm
):
    response = rm.post(
        reverse("investigation-financials", args=[investigating.pk]),
        _figures(revenue="lots", net_profit="123"),
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.startswith('<section id="financials"')
    assert "Please correct the form." in body and "Enter a number." in body
    assert 'value="123"' in body  # the other figures typed stay
    assert not FinancialPeriod.objects.exists()


def test_a_figure_the_service_refuses_comes_back_on_the_form_with_what_was_typed(investigating, rm):
    response = rm.post(
        reverse("investigation-financials", args=[investigating.pk]),
        _figures(revenue="-1", net_profit="4321"),
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'<ul class="errorlist" id="id_revenue_error">(.*?)</ul>', body, re.S)
    assert error and "This figure cannot be negative." in error.group(1)
    assert re.search(r'name="revenue" value="-1"', body)
    assert 'value="4321"' in body
    assert not FinancialPeriod.objects.exists()


def test_a_section_saved_without_javascript_returns_to_its_anchor(investigating, rm):
    response = rm.post(reverse("investigation-financials", args=[investigating.pk]), _figures())
    assert response.status_code == 302
    assert response["Location"].endswith(f"/investigation/{investigating.pk}/#financials")
    page = rm.get(response["Location"]).content.decode()
    assert "Financial figures saved." in page


def test_an_error_without_javascript_returns_to_the_section_with_the_message(investigating, rm):
    response = rm.post(
        reverse("investigation-financials", args=[investigating.pk]),
        _figures(revenue="lots"),
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#financials")
    assert "revenue: Enter a number." in response.content.decode()


def test_a_section_saved_by_someone_who_is_not_the_investigator_is_refused_in_place(
    investigating, staff
):
    other = Client()
    other.force_login(staff["rm2"])
    response = other.post(
        reverse("investigation-financials", args=[investigating.pk]), _figures(), **HTMX
    )
    assert response.status_code in (403, 404)
    assert not FinancialPeriod.objects.exists()


def test_a_section_saved_after_the_investigation_is_over_is_a_409_in_place(investigating, rm):
    type(investigating).objects.filter(pk=investigating.pk).update(status="in_approval")
    response = rm.post(
        reverse("investigation-financials", args=[investigating.pk]), _figures(), **HTMX
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert body.startswith('<section id="financials"')
    assert "can only be changed while the application is under investigation" in body
