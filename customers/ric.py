"""Resident identity card numbers (居民身份证号码, GB 11643-1999), checked by python-stdnum:
18 characters, the region and the birth date in the first 14, the last a check digit (0-9 or
X). Legal representatives and guarantors give theirs."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from customers.uscc import validate_uscc


def with_check_digit(first17: str) -> str:
    """The full number for its first 17 digits (demo data and tests make numbers with it)."""
    return first17 + ric.calc_check_digit(first17 + "0")


def validate_resident_id(value: str) -> None:
    """A model and form field validator: a Django ValidationError saying what is wrong."""
    number = ric.compact(value or "")
    try:
        ric.validate(number)
    except InvalidLength:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(n)d."),
            code="ric_length",
            params={"n": len(number)},
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _("A resident ID number is 17 digits followed by a digit or X."),
            code="ric_format",
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _(
                "The check digit of this resident ID number is wrong: please check the number "
                "for a typing mistake."
            ),
            code="ric_check_digit",
        ) from None
    except InvalidComponent:
        raise ValidationError(
            _("This resident ID number has no valid region code or birth date."),
            code="ric_component",
        ) from None


def validate_party_id(value: str) -> None:
    """A guarantor's number: a person's resident ID number or a company's credit code."""
    number = ric.compact(value or "")
    if ric.is_valid(number) or uscc.is_valid(number):
        return
    if number[:17].isdigit():
        validate_resident_id(number)
    validate_uscc(number)


def validate_party_id_for_kind(kind: str, value: str) -> None:
    """A person guarantor gives a resident ID number, a company its credit code."""
    if kind == "company":
        validate_uscc(value)
    else:
        validate_resident_id(value)
