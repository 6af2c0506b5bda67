"""Bytes PostgreSQL cannot store, or that are not text at all, are a 400 at the edge: never a
500, wherever in the request they come."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def _refused_as_api(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "invalid_characters"
    assert "cannot be accepted" in body["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/?q=%00",
        "/api/v1/approvals/queue/?q=%00",
        "/api/v1/applications/?status=%00",
        "/api/v1/applications/?%00=1",
        "/api/v1/products/%00/",
    ],
)
def test_a_nul_in_a_query_or_path_parameter_is_refused_as_json(api, staff, url):
    _refused_as_api(api(staff["approver"]).get(url))


def test_an_anonymous_request_with_a_nul_in_the_path_is_refused_before_authentication(db):
    _refused_as_api(Client().get("/api/v1/products/%00/"))


def test_a_nul_in_a_json_body_is_refused(api, staff, product, company):
    response = api(staff["rm"]).post(
        reverse("api-applications"),
        {"company": company.pk, "product": product.code, "purpose": "stock\u0000"},
        format="json",
    )
    _refused_as_api(response)


def test_a_lone_surrogate_in_a_json_body_is_refused(api, staff, company):
    response = api(staff["rm"]).post(
        reverse("api-applications"),
        b'{"purpose": "\\ud800", "company": %d}' % company.pk,
        content_type="application/json",
    )
    _refused_as_api(response)


def test_a_nul_in_a_form_field_is_refused(api, staff):
    response = api(staff["rm"]).post(
        reverse("api-applications"), {"purpose": "a\x00b"}, format="multipart"
    )
    _refused_as_api(response)


def test_a_nul_in_an_upload_field_name_is_refused(api, staff):
    upload = SimpleUploadedFile("core.csv", b"reference\n", "text/csv")
    response = api(staff["rm"]).post(
        reverse("api-postloan-repayment-import"), {"file\x00": upload}, format="multipart"
    )
    _refused_as_api(response)


def test_a_nul_in_the_token_header_is_refused(db):
    response = Client().get(reverse("api-me"), HTTP_AUTHORIZATION="Token abc\x00def")
    _refused_as_api(response)


def test_a_nul_on_an_html_page_is_a_400_page_in_the_users_language(staff):
    client = Client()
    client.force_login(staff["rm"])
    response = client.get("/applications/?q=%00", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    with translation.override("zh-hans"):
        expected = translation.gettext("Bad request")
    assert expected != "Bad request"
    assert expected in response.content.decode()


def test_a_nul_in_a_session_cookie_is_a_400_page_not_a_lookup(db):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00"
    response = client.get("/applications/")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/?q=%FF%FE",
        "/api/v1/applications/?q=%E4%B8",
        "/api/v1/applications/?q=%zz%",
        "/api/v1/products/%FF/",
        "/applications/?q=%C3%28",
    ],
)
def test_undecodable_bytes_are_never_a_500(api, staff, url):
    # Django already reads these as replacement characters or refuses them (400); this holds
    # it to that, for the path, the query, JSON, form and multipart bodies.
    client = Client()
    client.force_login(staff["approver"])
    assert client.get(url).status_code < 500
    rm = api(staff["rm"])
    target = reverse("api-applications")
    assert (
        rm.post(target, b'{"purpose": "\xff\xfe"}', content_type="application/json").status_code
        == 400
    )
    assert (
        rm.post(
            target, b"purpose=%FF%FE&company=\xff", content_type="application/x-www-form-urlencoded"
        ).status_code
        < 500
    )
    broken = b'--b\r\nContent-Disposition: form-data; name="file"'
    assert (
        rm.post(target, broken, content_type="multipart/form-data; boundary=b\xff").status_code
        < 500
    )
