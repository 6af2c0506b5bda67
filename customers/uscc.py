"""The unified social credit code (统一社会信用代码, GB 32100-2015), checked by python-stdnum:
18 characters, the first eight digits, the last a check character computed from the others."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength


def with_check_character(first17: str) -> str:
    """The full code for its first 17 characters (demo data and tests make codes with it)."""
    first17 = first17.upper()
    return first17 + uscc.calc_check_digit(first17)


def validate_uscc(value: str) -> None:
    """A model and form field validator: a Django ValidationError saying what is wrong."""
    code = (value or "").strip().upper()
    try:
        uscc.validate(code)
    except InvalidLength:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="uscc_length",
            params={"n": len(uscc.compact(code))},
        ) from None
    except InvalidFormat:
        code = uscc.compact(code)
        if not code[:8].isdigit():
            raise ValidationError(
                _("The first eight characters of a unified social credit code are digits."),
                code="uscc_character",
            ) from None
        bad = next(ch for ch in code[8:] if not (ch.isascii() and ch.isalnum()) or ch in "IOSVZ")
        raise ValidationError(
            _(
                "'%(ch)s' cannot appear in a unified social credit code (I, O, S, V and Z are "
                "never used)."
            ),
            code="uscc_character",
            params={"ch": bad},
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _(
                "The check character of this unified social credit code is wrong: please check "
                "the code for a typing mistake."
            ),
            code="uscc_check_digit",
        ) from None
