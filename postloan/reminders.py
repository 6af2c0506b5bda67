"""Repayment reminders to SME owners, a step of the nightly job (postloan.tasks.daily_job and
the postloan_daily command), run after the positions are recomputed (postloan.daily).

Two kinds per instalment: before its due date (LOANFLOW_REMINDER_DAYS_BEFORE calendar days
ahead, not business days: an owner pays on the due date whatever the calendar) and on its
first day overdue. Each is sent exactly once per instalment and kind: the run records its
reminders with bulk_create(ignore_conflicts=True) against the unique constraint, then
notifies only for the rows it recorded itself (found by the run's token), so a second run,
or two at once, sends nothing more.

An instalment is unpaid when its number is above the loan's `paid_instalments`: repayments
pay instalments oldest first, so the paid ones are always the first (postloan.position).
"""

import uuid
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.templatetags.loanflow_ui import money
from disbursement.models import Instalment
from notifications.models import Kind
from notifications.services import Formatted, Message, notify_many
from postloan.models import Loan, RepaymentReminder

# A night the job did not run is made up the next night, within this many days; older due
# dates are not reminded of (a loan already long overdue when reminders were switched on
# gets no stale "first day overdue" message).
CATCH_UP_DAYS = 3

TEXTS = {
    RepaymentReminder.Kind.BEFORE_DUE: (
        _("Repayment due on %(due)s"),
        _(
            "Instalment %(number)s of loan %(ref)s, %(amount)s, is due on %(due)s. Please "
            "make sure the money is in your repayment account by then."
        ),
    ),
    RepaymentReminder.Kind.FIRST_DAY_OVERDUE: (
        _("Your repayment is overdue"),
        _(
            "Instalment %(number)s of loan %(ref)s, %(amount)s, was due on %(due)s and has not "
            "been paid in full. Please pay it as soon as you can, or call your relationship "
            "manager."
        ),
    ),
}


class _Money:
    """An amount rendered when the message is (digits grouped as the recipient's language)."""

    def __init__(self, amount, currency: str):
        self.amount, self.currency = amount, currency

    def __str__(self) -> str:
        return money(self.amount, self.currency)


def reminders_due(*, as_of: date) -> list[tuple[str, Instalment]]:
    """(kind, instalment) for every unpaid instalment of an active loan that is due within
    the lead days, or whose first day overdue is today (or was, within CATCH_UP_DAYS), and
    that has no reminder of that kind yet. One query."""
    lead = settings.LOANFLOW_REMINDER_DAYS_BEFORE
    windows = {
        RepaymentReminder.Kind.BEFORE_DUE: Q(
            due_date__gt=as_of, due_date__lte=as_of + timedelta(days=lead)
        ),
        RepaymentReminder.Kind.FIRST_DAY_OVERDUE: Q(
            due_date__lt=as_of, due_date__gte=as_of - timedelta(days=CATCH_UP_DAYS)
        ),
    }
    instalments = (
        Instalment.objects.filter(
            windows[RepaymentReminder.Kind.BEFORE_DUE]
            | windows[RepaymentReminder.Kind.FIRST_DAY_OVERDUE],
            application__postloan__status=Loan.Status.ACTIVE,
            number__gt=F("application__postloan__paid_instalments"),
        )
        .select_related("application")
        .annotate(loan_id=F("application__postloan__id"))
        .order_by("application_id", "number")
    )
    instalments = list(instalments)
    sent = set(
        RepaymentReminder.objects.filter(loan_id__in={i.loan_id for i in instalments}).values_list(
            "loan_id", "instalment_number", "kind"
        )
    )
    due = []
    for instalment in instalments:
        kind = (
            RepaymentReminder.Kind.BEFORE_DUE
            if instalment.due_date > as_of
            else RepaymentReminder.Kind.FIRST_DAY_OVERDUE
        )
        if (instalment.loan_id, instalment.number, kind) not in sent:
            due.append((kind, instalment))
    return due


def repayment_reminders_send(*, as_of: date | None = None) -> int:
    """Record and send the reminders due on `as_of` (today by default): an in-app
    notification and an e-mail (after commit) to each of the company's owners, in their
    language. Returns how many reminders were recorded (one per instalment and kind)."""
    as_of = as_of or timezone.localdate()
    run = uuid.uuid4()
    with transaction.atomic():
        due = reminders_due(as_of=as_of)
        if not due:
            return 0
        RepaymentReminder.objects.bulk_create(
            [
                RepaymentReminder(
                    loan_id=instalment.loan_id,
                    instalment_number=instalment.number,
                    due_date=instalment.due_date,
                    kind=kind,
                    sent_on=as_of,
                    run=run,
                )
                for kind, instalment in due
            ],
            ignore_conflicts=True,
        )
        # Rows another run recorded first are not ours to send.
        won = set(
            RepaymentReminder.objects.filter(
                run=run, loan_id__in={i.loan_id for _k, i in due}
            ).values_list("loan_id", "instalment_number", "kind")
        )
        ours = [(k, i) for k, i in due if (i.loan_id, i.number, k) in won]
        notify_many(_messages(ours))
    return len(ours)


def _messages(reminders: list[tuple[str, Instalment]]) -> list[Message]:
    owners = defaultdict(list)
    company_ids = {instalment.application.company_id for _k, instalment in reminders}
    for user in (
        get_user_model()
        # Everyone who acts for the company (an active binding), as notifications'
        # applicant_users finds them, for many companies at once.
        .objects.filter(
            company_bindings__company_id__in=company_ids,
            company_bindings__status="active",
            is_active=True,
        )
        .annotate(company_id=F("company_bindings__company_id"))
        .order_by("company_bindings__created_at", "company_bindings__id")
    ):
        owners[user.company_id].append(user)
    messages = []
    for kind, instalment in reminders:
        application = instalment.application
        title, body = TEXTS[kind]
        params = {
            "number": instalment.number,
            "ref": application.reference,
            "amount": _Money(instalment.total, instalment.currency),
            "due": instalment.due_date.isoformat(),
        }
        url = reverse("portal-application", args=[application.pk])
        for user in owners[application.company_id]:
            messages.append(
                Message(
                    user=user,
                    kind=Kind.REPAYMENT,
                    title=Formatted(title, **params),
                    body=Formatted(body, **params),
                    url=url,
                    application=application,
                )
            )
    return messages
