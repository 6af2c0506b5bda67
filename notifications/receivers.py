"""Applicants hear, in plain language, when their application changes status."""

import functools

from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from applications.models import Status
from applications.signals import application_transitioned

# What an SME owner is told, per new status (plain language, no internal jargon).
APPLICANT_MESSAGES = {
    Status.SUBMITTED: ("status_change", _("We have received your application"),
                       _("Your application %(ref)s has been received. We will check it and "
                         "let you know what happens next.")),
    Status.INVESTIGATION: ("status_change", _("We are looking at your application"),
                           _("A relationship manager is now looking into application %(ref)s. "
                             "They may visit you or ask for documents.")),
    Status.IN_APPROVAL: ("status_change", _("Your application is being decided"),
                         _("Application %(ref)s is now with the people who decide on loans.")),
    Status.INFO_REQUESTED: ("info_request", _("We need something from you"),
                            _("To continue with application %(ref)s we need more information "
                              "from you. Please sign in to see what is missing.")),
    Status.APPROVED: ("decision", _("Good news: your loan was approved"),
                      _("Application %(ref)s was approved. We will send you the contract to "
                        "sign.")),
    Status.DECLINED: ("decision", _("Your application was not approved"),
                      _("We are sorry: application %(ref)s was not approved. Sign in to see "
                        "the reasons, or talk to your relationship manager.")),
    Status.CONTRACT_SIGNED: ("status_change", _("Your contract is signed"),
                             _("The contract for application %(ref)s is signed. We are "
                               "preparing the payment.")),
    Status.DISBURSED: ("status_change", _("Your loan has been paid out"),
                       _("The money for application %(ref)s has been paid into your account. "
                         "Sign in to see your repayment schedule.")),
    Status.CLOSED: ("status_change", _("Your loan is fully repaid"),
                    _("Loan %(ref)s is fully repaid and closed. Thank you.")),
    Status.WITHDRAWN: ("status_change", _("Your application was withdrawn"),
                       _("Application %(ref)s was withdrawn.")),
}


class _Formatted:
    """A lazy message formatted when rendered (so in the recipient's language)."""

    def __init__(self, message, **params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params


@receiver(application_transitioned, dispatch_uid="notifications_applicant_status")
def tell_applicants(sender, application, transition, from_state, to_state, **kwargs):
    from notifications.services import Message, notify_many

    entry = APPLICANT_MESSAGES.get(to_state)
    if entry is None:
        return
    kind, title, body = entry
    text = _Formatted(body, ref=application.reference)
    notify_many([Message(user=user, kind=kind, title=title, body=text,
                         url=f"/portal/applications/{application.pk}/",
                         application=application)
                 for user in _applicant_users(application.company_id)])


def _applicant_users(company_id: int) -> list:
    """The company's active applicant logins: one plain SELECT (every transition reads it,
    and composing it through the ORM cost more than running it)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from loanflow.rawsql import instance

    sql, columns = _applicant_users_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id])
        return [instance(get_user_model(), columns.convert(row)) for row in cursor.fetchall()]


@functools.cache
def _applicant_users_sql() -> tuple:
    from django.contrib.auth import get_user_model

    from customers.models import ApplicantProfile
    from loanflow.rawsql import Columns, model_columns, quote, table

    user_model = get_user_model()
    columns = Columns(model_columns(user_model, "u"))
    return (f"SELECT {columns.sql} FROM {table(user_model)} u "
            f"JOIN {table(ApplicantProfile)} p ON p.{quote('user_id')} = u.{quote('id')} "
            f"WHERE p.{quote('company_id')} = %s AND u.{quote('is_active')} "
            f"ORDER BY p.{quote('id')}"), columns
