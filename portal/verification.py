"""One-time codes that prove a person holds a mobile number or an e-mail address: six random
digits, sent after the commit (common.messaging), stored as a keyed hash, valid for
LOANFLOW_CODE_MINUTES, locked after LOANFLOW_CODE_ATTEMPTS wrong tries, used once; a new one
at most every LOANFLOW_CODE_RESEND_SECONDS, and it replaces the earlier ones."""

import re
import secrets
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import DomainError, InvalidInput
from common.messaging import send_code
from portal.models import OneTimeCode

SIGN_UP = "sign_up"
# A mainland mobile number, with or without +86 / 0086 and spaces or dashes.
_MOBILE = re.compile(r"1[3-9]\d{9}")


class TooSoon(DomainError):
    """429: a code was sent to this address moments ago."""

    status_code = 429
    code = "code_too_soon"
    default_message = gettext_lazy(
        "A code was sent to this address a moment ago. Wait a minute before asking again."
    )


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    NONE = "none"


def address_parse(value: str) -> tuple[str, str]:
    """(channel, address) for what the person typed: an e-mail address (lower case) or a
    mainland mobile number (its 11 digits). InvalidInput on `address` otherwise."""
    value = (value or "").strip()
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            raise _bad_address(_("Enter a valid e-mail address.")) from None
        return OneTimeCode.Channel.EMAIL, value.lower()
    digits = re.sub(r"[\s\-()]", "", value)
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise _bad_address(
            _("Enter a mainland mobile number (11 digits, starting with 1) or an e-mail address.")
        )
    return OneTimeCode.Channel.SMS, digits


def _bad_address(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_address", details={"address": [message]})


def _digest(purpose: str, address: str, code: str) -> str:
    return salted_hmac(
        "loanflow.portal.one-time-code", f"{purpose}:{address}:{code}", algorithm="sha256"
    ).hexdigest()


def code_send(*, purpose: str, channel: str, address: str, language: str) -> OneTimeCode:
    """Send a new code to `address` (after the commit), replacing any earlier one; TooSoon
    if the last one went out less than LOANFLOW_CODE_RESEND_SECONDS ago."""
    now = timezone.now()
    with transaction.atomic():
        earlier = OneTimeCode.objects.select_for_update().filter(purpose=purpose, address=address)
        last = earlier.order_by("-created_at", "-id").first()
        if last and now - last.created_at < timedelta(
            seconds=settings.LOANFLOW_CODE_RESEND_SECONDS
        ):
            raise TooSoon()
        earlier.filter(closed_at=None).update(closed_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        minutes = settings.LOANFLOW_CODE_MINUTES
        row = OneTimeCode.objects.create(
            purpose=purpose,
            channel=channel,
            address=address,
            code_hash=_digest(purpose, address, code),
            expires_at=now + timedelta(minutes=minutes),
        )
        audit_record(
            action="one_time_code_send",
            kind=AuditEvent.Kind.ACTION,
            subject_type="portal.onetimecode",
            subject_id=row.pk,
            data={"purpose": purpose, "channel": channel},
        )
        transaction.on_commit(lambda: send_code(channel, address, code, language, minutes=minutes))
    return row


def code_use(*, purpose: str, address: str, code: str) -> Outcome:
    """Check `code` against the address's open code and, if right, close it (used once).
    Call inside the transaction of what the code allows, and raise `code_refusal` after it:
    a wrong try is counted in its own row, so the caller's rollback must not undo it (see
    portal.services.owner_sign_up)."""
    now = timezone.now()
    row = (
        OneTimeCode.objects.select_for_update()
        .filter(purpose=purpose, address=address, closed_at=None)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        return Outcome.NONE
    if row.expires_at <= now:
        return Outcome.EXPIRED
    if constant_time_compare(row.code_hash, _digest(purpose, address, (code or "").strip())):
        row.closed_at = now
        row.save(update_fields=["closed_at"])
        return Outcome.OK
    row.attempts += 1
    outcome = Outcome.WRONG
    if row.attempts >= settings.LOANFLOW_CODE_ATTEMPTS:
        row.closed_at = now
        outcome = Outcome.LOCKED
        audit_record(
            action="one_time_code_lock",
            kind=AuditEvent.Kind.REFUSAL,
            subject_type="portal.onetimecode",
            subject_id=row.pk,
            data={"purpose": purpose, "attempts": row.attempts},
        )
    row.save(update_fields=["attempts", "closed_at"])
    return outcome


def code_refusal(outcome: Outcome) -> InvalidInput:
    """The 400 for a code that did not work, on the `code` field."""
    message = {
        Outcome.WRONG: _("That code is wrong. Check the latest message we sent you."),
        Outcome.LOCKED: _("Too many wrong codes: this code no longer works. Ask for a new one."),
        Outcome.EXPIRED: _("This code has expired. Ask for a new one."),
        Outcome.NONE: _(
            "There is no valid code for this address: it was used or replaced. Ask for a new one."
        ),
    }[outcome]
    return InvalidInput(message, code=f"code_{outcome}", details={"code": [message]})
