"""How a one-time code reaches a person: `send_code(channel, address, code, language)`, by
e-mail (Django's mail, through the configured EMAIL_BACKEND) or by SMS through the backend
named by LOANFLOW_SMS_BACKEND: a class path, whose class has `send(number, text)`. Here the
default writes the text to the log (`loanflow.sms`); in production it names the bank's
SMS gateway adapter (docs/operations.md). Call it after the commit of the change it belongs
to: a code sent for a row that then rolls back would be a code for nothing."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger("loanflow.sms")

EMAIL = "email"
SMS = "sms"


class LogSmsBackend:
    """Writes each text message to the log instead of sending it (development, tests)."""

    def send(self, number: str, text: str) -> None:
        logger.info("SMS to %s: %s", number, text)


def sms_backend():
    return import_string(settings.LOANFLOW_SMS_BACKEND)()


def code_text(code: str, minutes: int) -> str:
    return _(
        "Your LoanFlow verification code is %(code)s. It is valid for %(minutes)d minutes. "
        "Do not share it with anyone, bank staff included."
    ) % {"code": code, "minutes": minutes}


def send_code(channel: str, address: str, code: str, language: str, *, minutes: int) -> None:
    """Send `code` to `address` by `channel` (EMAIL or SMS), in `language`."""
    with translation.override(language):
        text = code_text(code, minutes)
        if channel == EMAIL:
            send_mail(
                subject=_("Your LoanFlow verification code"),
                message=text,
                from_email=None,
                recipient_list=[address],
            )
        elif channel == SMS:
            sms_backend().send(address, text)
        else:
            raise ValueError(f"No channel {channel!r}")
