"""Core-banking CSV import: all or nothing, with line numbers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from postloan.daily import daily_run
from postloan.models import Repayment
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def _upload(api, user, text: str):
    return api(user).post(
        reverse("api-postloan-repayment-import"),
        {"file": SimpleUploadedFile("core.csv", text.encode(), "text/csv")},
        format="multipart",
    )


def _loans(make_loan):
    dues = [
        (TODAY - timedelta(days=10), D("1000.00"), D("100.00")),
        (TODAY + timedelta(days=20), D("1000.00"), D("100.00")),
    ]
    return make_loan(dues), make_loan(dues)


def test_a_good_file_applies_every_row(api, staff, make_loan):
    a, b = _loans(make_loan)
    day = TODAY.isoformat()
    text = (
        "reference,value_date,amount,currency,external_id\n"
        f"{a.application.reference},{day},1100.00,CNY,CB-1\n"
        f"{b.application.reference},{day},500.00,CNY,CB-2\n"
    )
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 201, response.data
    assert response.data["row_count"] == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.days_past_due, a.paid_instalments) == (0, 1)
    assert (b.days_past_due, b.paid_total) == (10, D("500.00"))


def test_one_bad_row_rejects_the_file_with_its_line_number_and_applies_nothing(
    api, staff, make_loan
):
    a, b = _loans(make_loan)
    daily_run()
    day = TODAY.isoformat()
    text = (
        "reference,value_date,amount,currency,external_id\n"
        f"{a.application.reference},{day},1100.00,CNY,CB-1\n"
        f"{b.application.reference},{day},12x.00,CNY,CB-2\n"
        f"{b.application.reference},{day},100.00,CNY,CB-3\n"
    )
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["code"] == "import_rejected"
    assert len(response.data["rows"]) == 1
    assert response.data["rows"][0].startswith("Line 3:")
    assert "amount" in response.data["rows"][0]
    assert not Repayment.objects.exists()
    a.refresh_from_db()
    assert a.paid_total == 0 and a.days_past_due == 10


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("LF-NOPE,{day},100.00,CNY,CB-9", "unknown loan reference"),
        ("{ref},2026-13-01,100.00,CNY,CB-9", "value_date"),
        ("{ref},{day},100.00,USD,CB-9", "CNY"),
        ("{ref},{day},100.00,CNY,", "external_id"),
        ("{ref},{day},99999.00,CNY,CB-9", "exceeds"),
        ("{ref},{day},100.00,CNY,CB-1", "twice"),
    ],
)
def test_each_kind_of_bad_row_is_reported_with_its_line(api, staff, make_loan, row, problem):
    a, _b = _loans(make_loan)
    day = TODAY.isoformat()
    text = (
        "reference,value_date,amount,currency,external_id\n"
        f"{a.application.reference},{day},10.00,CNY,CB-1\n"
        + row.format(ref=a.application.reference, day=day)
        + "\n"
    )
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["rows"][0].startswith("Line 3:"), response.data
    assert problem in response.data["rows"][0]
    assert not Repayment.objects.exists()


def test_a_file_imported_twice_is_refused_the_second_time(api, staff, make_loan):
    a, _b = _loans(make_loan)
    text = (
        "reference,value_date,amount,currency,external_id\n"
        f"{a.application.reference},{TODAY.isoformat()},100.00,CNY,CB-1\n"
    )
    assert _upload(api, staff["rm"], text).status_code == 201
    again = _upload(api, staff["rm"], text)
    assert again.status_code == 400
    assert "already imported" in again.data["rows"][0]
    assert Repayment.objects.count() == 1


def test_a_missing_column_is_reported_on_line_1(api, staff, make_loan):
    response = _upload(api, staff["rm"], "reference,amount\nX,1\n")
    assert response.status_code == 400
    assert response.data["rows"][0].startswith("Line 1:")


def _good_header_and_row(a) -> str:
    return (
        "reference,value_date,amount,currency,external_id\n"
        f"{a.application.reference},{TODAY.isoformat()},10.00,CNY,CB-1\n"
    )


def test_line_numbers_are_file_lines_after_a_blank_line_and_a_quoted_newline(api, staff, make_loan):
    a, _b = _loans(make_loan)
    ref, day = a.application.reference, TODAY.isoformat()
    text = (
        "reference,value_date,amount,currency,external_id\n"
        "\n"
        f'{ref},{day},10.00,CNY,"CB-\n1"\n'
        f"{ref},{day},12x.00,CNY,CB-2\n"
    )
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert len(response.data["rows"]) == 1
    assert response.data["rows"][0].startswith("Line 5:"), response.data


def test_a_field_over_the_csv_limit_is_a_400_with_its_line(api, staff, make_loan):
    a, _b = _loans(make_loan)
    text = _good_header_and_row(a) + f"{a.application.reference},{'x' * 131_073},1,CNY,CB-2\n"
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["rows"][0].startswith("Line 3:"), response.data
    assert "longer than 131,072 characters" in response.data["rows"][0]
    assert not Repayment.objects.exists()


def test_a_nul_in_a_cell_is_a_400_with_its_line(api, staff, make_loan):
    a, _b = _loans(make_loan)
    text = _good_header_and_row(a) + f"{a.application.reference},{TODAY},1.00,CNY,CB\x00-2\n"
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["rows"][0].startswith("Line 3:"), response.data
    assert "NUL" in response.data["rows"][0]
    assert not Repayment.objects.exists()


def test_an_extra_sixth_field_is_refused_with_its_line(api, staff, make_loan):
    a, _b = _loans(make_loan)
    text = _good_header_and_row(a) + f"{a.application.reference},{TODAY},1.00,CNY,CB-2,extra\n"
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["rows"][0] == "Line 3: 6 fields, but the header has 5"
    assert not Repayment.objects.exists()


@pytest.mark.parametrize("amount", ["1e3", "NaN", "+5.00", "1_000", "0x10", "10.001", "1,00"])
def test_an_amount_that_is_not_a_plain_decimal_number_is_refused(api, staff, make_loan, amount):
    a, _b = _loans(make_loan)
    text = _good_header_and_row(a) + f'{a.application.reference},{TODAY},"{amount}",CNY,CB-2\n'
    response = _upload(api, staff["rm"], text)
    assert response.status_code == 400
    assert response.data["rows"][0].startswith("Line 3:"), response.data
    assert "plain positive decimal number" in response.data["rows"][0]
    assert not Repayment.objects.exists()
