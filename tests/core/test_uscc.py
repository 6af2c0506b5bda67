import pytest
from django.core.exceptions import ValidationError

from customers.ric import validate_party_id, validate_party_id_for_kind, validate_resident_id
from customers.uscc import validate_uscc, with_check_character


@pytest.mark.parametrize(
    "code", ["91350100M000100Y43", "91110000600037341L", with_check_character("91310115MA1K3YJ12")]
)
def test_a_valid_credit_code_passes(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91350100M000100Y44", "uscc_check_digit"),
        ("91350100M000100Y4", "uscc_length"),
        ("91350100M000100YO3", "uscc_character"),
        ("A1350100M000100Y43", "uscc_character"),
    ],
)
def test_a_bad_credit_code_is_refused_with_what_is_wrong(code, error):
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert excinfo.value.code == error


@pytest.mark.parametrize("number", ["110101198001010010", "11010519491231002X"])
def test_a_valid_resident_id_number_passes(number):
    validate_resident_id(number)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("110101198001010011", "ric_check_digit"),
        ("11010119800101001", "ric_length"),
        ("1101011980010100A0", "ric_format"),
        ("11010119800230001X", "ric_component"),  # 30 February
    ],
)
def test_a_bad_resident_id_number_is_refused_with_what_is_wrong(number, error):
    with pytest.raises(ValidationError) as excinfo:
        validate_resident_id(number)
    assert excinfo.value.code == error


def test_a_guarantor_gives_an_id_number_as_a_person_and_a_credit_code_as_a_company():
    person, company = "110101198001010010", "91350100M000100Y43"
    validate_party_id(person)
    validate_party_id(company)
    validate_party_id_for_kind("person", person)
    validate_party_id_for_kind("company", company)
    with pytest.raises(ValidationError):
        validate_party_id_for_kind("person", company)
    with pytest.raises(ValidationError):
        validate_party_id_for_kind("company", person)
