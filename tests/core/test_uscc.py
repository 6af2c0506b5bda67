import pytest
from django.core.exceptions import ValidationError

from customers.uscc import validate_uscc, with_check_character


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L",
                                  with_check_character("91310115MA1K3YJ12")])
def test_a_valid_credit_code_passes(code):
    validate_uscc(code)


@pytest.mark.parametrize(("code", "error"), [
    ("91350100M000100Y44", "uscc_check_digit"),
    ("91350100M000100Y4", "uscc_length"),
    ("91350100M000100YO3", "uscc_character"),
])
def test_a_bad_credit_code_is_refused_with_what_is_wrong(code, error):
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert excinfo.value.code == error
