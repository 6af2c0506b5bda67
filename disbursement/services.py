"""Writes of the last stage: the offer, the contract, the conditions precedent, the
disbursement (maker-checker) and the repayment schedule fixed at disbursement."""

import logging
import time
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import LoanApplication
from applications.selectors import application_get
from applications.services import application_transition
from approvals.models import ApprovalCondition
from approvals.selectors import concerns_open
from audit.services import audit_record, audit_refusal
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, SegregationOfDuties
from common.queue import enqueue_on_commit
from contracts.selectors import contracts_unsigned
from disbursement.models import Contract, Disbursement, Instalment, Offer
from disbursement.schedule import build_schedule
from disbursement.selectors import offer_shown_sha256, schedule_conventions
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify_many, with_notification_preferences
from org.permissions import has_role_perm
from org.roles import Role, has_role, primary_role
from org.selectors import is_staff_member, staff_serving
from portal.verification import (
    Outcome,
    address_masked,
    code_refusal,
    code_send,
    code_use,
    offer_accept_purpose,
    owner_code_address,
)

logger = logging.getLogger(__name__)


def _conditions_of(application) -> list[dict]:
    """The application's approval conditions, as an offer lists them."""
    return [
        {"id": pk, "text": text}
        for pk, text in ApprovalCondition.objects.filter(application=application)
        .order_by("pk")
        .values_list("pk", "text")
    ]


# --- Offer -----------------------------------------------------------------------------------


def offer_create(*, application: LoanApplication) -> Offer:
    """Snapshot the approved terms into an offer (inside the approval's transaction, the
    application locked) and render its PDF after commit. An application is approved once (no
    transition leads back into approval), so it has no offer yet: its one-to-one key refuses
    a second one (IntegrityError)."""
    try:
        rows = build_schedule(
            amount=application.amount,
            annual_rate=application.interest_rate,
            term_months=application.term_months,
            method=application.repayment_method,
            start=timezone.localdate(),
            conventions=schedule_conventions(application),
        )
    except ValueError:  # never let odd terms block the approval itself
        logger.warning("No indicative schedule for %s", application.reference)
        rows = []
    offer = Offer.objects.create(
        application=application,
        amount=application.amount,
        currency=application.currency,
        interest_rate=application.interest_rate,
        term_months=application.term_months,
        repayment_method=application.repayment_method,
        language=application.language or "zh-hans",
        conditions=_conditions_of(application),
        schedule=[row.as_dict() for row in rows],
    )
    audit_record(
        action="offer_created",
        actor=None,
        actor_role="system",
        application=application,
        kind="action",
        subject_type="disbursement.offer",
        subject_id=offer.pk,
        data={"amount": str(offer.amount), "currency": offer.currency},
    )
    offer_enqueue_render(offer_id=offer.pk)
    return offer


def offer_enqueue_render(*, offer_id: int) -> None:
    from disbursement.tasks import render_offer_pdf

    enqueue_on_commit(render_offer_pdf, offer_id)


def offer_render(*, offer_id: int) -> Offer | None:
    """Render the offer letter PDF (Celery task body). Failures leave status 'failed' with
    the error; a later sweep or a staff retry renders it again."""
    from disbursement.pdf import render_offer

    offer = (
        Offer.objects.select_related("application", "application__company", "application__product")
        .filter(pk=offer_id)
        .first()
    )
    if offer is None:
        return None
    started = time.perf_counter()
    try:
        pdf = render_offer(offer)
    except Exception as exc:  # noqa: BLE001 - any rendering failure is recorded, not raised
        logger.exception("Offer %s failed to render", offer_id)
        Offer.objects.filter(pk=offer_id).exclude(status=Offer.Status.READY).update(
            status=Offer.Status.FAILED, error=str(exc)[:2000]
        )
        return Offer.objects.get(pk=offer_id)
    elapsed = time.perf_counter() - started
    Offer.objects.filter(pk=offer_id).update(
        status=Offer.Status.READY,
        pdf=pdf,
        render_seconds=elapsed,
        error="",
        rendered_at=timezone.now(),
    )
    return Offer.objects.get(pk=offer_id)


def offer_retry_render(*, application_id: int, actor) -> Offer:
    application = application_get(user=actor, pk=application_id)
    if not is_staff_member(actor):
        raise Forbidden()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().filter(application=application).first()
        if offer is None:
            raise NotFound(_("There is no offer for this application."))
        if offer.status == Offer.Status.READY:
            return offer
        offer.status = Offer.Status.PENDING
        offer.save(update_fields=["status"])
        offer_enqueue_render(offer_id=offer.pk)
    return offer


# --- Contract --------------------------------------------------------------------------------


def _next_contract_number(application: LoanApplication) -> str:
    return f"C-{application.reference}"


def _offer_to_accept(application, actor) -> Offer:
    """The application's offer, locked, if the owner may accept it now: 409 otherwise."""
    if not has_role(actor, Role.APPLICANT):
        raise Forbidden(_("Only the applicant accepts the offer."))
    offer = Offer.objects.defer("pdf").select_for_update().filter(application=application).first()
    if offer is None:
        raise NotFound(_("There is no offer for this application."))
    if offer.accepted_at is not None:
        raise Conflict(_("The offer has already been accepted."), code="already_accepted")
    if application.status != "approved":
        raise Conflict(_("This offer can no longer be accepted."), code="transition_not_allowed")
    return offer


def _owner_address(actor) -> tuple[str, str]:
    address = owner_code_address(actor)
    if address is None:
        raise Conflict(
            _(
                "We have no mobile number or e-mail address of yours to send a code to. "
                "Please call your relationship manager."
            ),
            code="no_code_address",
        )
    return address


def offer_acceptance_code_send(*, application_id: int, actor, language: str) -> tuple[str, str]:
    """Send the owner a one-time code that confirms accepting this offer (portal.verification,
    bound to the offer), to the address they proved at sign-up or their account's e-mail.
    Returns (channel, the address masked). 409 if the offer cannot be accepted now; TooSoon
    (429) within a minute of the last code."""
    application = application_get(user=actor, pk=application_id)
    with transaction.atomic():
        offer = _offer_to_accept(application, actor)
        channel, address = _owner_address(actor)
        code_send(
            purpose=offer_accept_purpose(offer.pk),
            channel=channel,
            address=address,
            language=language,
            actor=actor,
            application=application,
        )
    return channel, address_masked(channel, address)


def offer_accept(
    *,
    application_id: int,
    actor,
    read_confirmed: bool,
    otp: str,
    documents_sha256: str = "",
    client_ip: str | None = None,
    user_agent: str = "",
) -> Contract:
    """The owner accepts the offer on the portal, knowingly: they confirm they have read the
    offer, its terms and the schedule (`read_confirmed`), and give the one-time code sent to
    them (`otp`). The contract is signed electronically and the application becomes
    contract_signed; the offer records who, when, from which address and browser, and the
    SHA-256 of what they were shown (selectors.offer_shown_sha256), all in one transaction.

    `documents_sha256`, when given (the page always sends what it showed), must be the
    digest of what is shown now: if the letter or the terms changed since, 409 and the code
    is kept for the owner's second look. Refusals: 404 outside the owner's company, 409 when
    the offer cannot be accepted, 400 on `read_confirmed` / `otp`, 429 when too many wrong
    codes locked the code (counted even though nothing else changes)."""
    application = application_get(user=actor, pk=application_id)
    outcome = None
    with transaction.atomic():
        offer = _offer_to_accept(application, actor)
        errors: dict[str, list[str]] = {}
        if read_confirmed is not True:
            errors["read_confirmed"] = [
                _("Confirm that you have read the offer, its terms and the schedule.")
            ]
        otp = (otp or "").strip()
        if not otp:
            errors["otp"] = [_("Enter the code we sent you.")]
        if errors:
            raise InvalidInput(next(iter(errors.values()))[0], details=errors)
        shown = offer_shown_sha256(application, offer)
        if documents_sha256 and documents_sha256 != shown:
            raise Conflict(
                _(
                    "The offer letter or its terms changed since you opened the page. Read "
                    "them again before accepting; your code still works."
                ),
                code="offer_changed",
            )
        _channel, address = _owner_address(actor)
        outcome = code_use(purpose=offer_accept_purpose(offer.pk), address=address, code=otp)
        if outcome == Outcome.OK:
            contract = _offer_accepted(
                application=application,
                offer=offer,
                actor=actor,
                documents_sha256=shown,
                client_ip=client_ip,
                user_agent=user_agent,
            )
    # A wrong code is counted (its own row) though nothing else changes: the refusal is
    # raised after the commit.
    if outcome != Outcome.OK:
        raise code_refusal(outcome, field="otp")
    return contract


def _offer_accepted(
    *, application, offer: Offer, actor, documents_sha256: str, client_ip, user_agent: str
) -> Contract:
    offer.accepted_at = timezone.now()
    offer.accepted_by = actor
    offer.accepted_from = client_ip
    offer.accepted_user_agent = (user_agent or "")[:500]
    offer.accepted_documents_sha256 = documents_sha256
    offer.save(
        update_fields=[
            "accepted_at",
            "accepted_by",
            "accepted_from",
            "accepted_user_agent",
            "accepted_documents_sha256",
        ]
    )
    contract = _contract_create(
        application=application,
        actor=actor,
        number=_next_contract_number(application),
        signed_on=timezone.localdate(),
        channel=Contract.Channel.PORTAL,
    )
    audit_record(
        action="offer_accepted",
        actor=actor,
        actor_role=Role.APPLICANT,
        application=application,
        kind="action",
        subject_type="disbursement.offer",
        subject_id=offer.pk,
        data={
            "accepted_at": offer.accepted_at.isoformat(),
            "accepted_from": client_ip,
            "user_agent": offer.accepted_user_agent,
            "documents_sha256": documents_sha256,
            "read_confirmed": True,
            "confirmed_with": "one_time_code",
        },
    )
    application_transition(
        application_id=application.pk,
        transition="sign_contract",
        actor=actor,
        comment=_("Offer accepted on the portal."),
        data={
            "contract_number": contract.number,
            "documents_sha256": documents_sha256,
            "note": "offer_accepted_on_portal",
        },
    )
    return contract


def contract_record(*, application_id: int, actor, number: str, signed_on: date) -> Contract:
    """The relationship manager records the contract signed on paper."""
    application = application_get(user=actor, pk=application_id)
    if not (is_staff_member(actor) and has_role_perm(actor, "applications.record_contract")):
        raise Forbidden(_("Only the relationship manager records the signed contract."))
    number = (number or "").strip()
    if not number:
        raise InvalidInput(details={"number": [_("Enter the contract number.")]})
    if signed_on > timezone.localdate():
        raise InvalidInput(details={"signed_on": [_("The signing date is in the future.")]})
    with transaction.atomic():
        contract = _contract_create(
            application=application,
            actor=actor,
            number=number,
            signed_on=signed_on,
            channel=Contract.Channel.STAFF,
        )
        application_transition(
            application_id=application.pk,
            transition="sign_contract",
            actor=actor,
            comment=_("Signed contract recorded."),
            data={
                "contract_number": number,
                "signed_on": signed_on.isoformat(),
                "note": "signed_contract_recorded",
            },
        )
    return contract


def _contract_create(*, application, actor, number: str, signed_on: date, channel: str) -> Contract:
    if application.status != "approved":
        raise Conflict(
            _("A contract is signed only for an approved application."),
            code="transition_not_allowed",
        )
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                application=application,
                number=number,
                signed_on=signed_on,
                channel=channel,
                recorded_by=actor,
            )
    except IntegrityError:
        raise Conflict(
            _("A contract is already recorded, or this contract number is in use."),
            code="contract_exists",
        ) from None
    audit_record(
        action="contract_recorded",
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        subject_type="disbursement.contract",
        subject_id=contract.pk,
        data={"number": number, "channel": channel, "signed_on": signed_on.isoformat()},
    )
    return contract


# --- Conditions precedent --------------------------------------------------------------------


def _require_role(actor, role: str, message: str) -> None:
    if not (is_staff_member(actor) and has_role(actor, role)):
        raise Forbidden(message, code="role")


def condition_satisfy(*, application_id: int, condition_id: int, actor, comment: str = ""):
    """The disbursement officer marks one condition precedent satisfied (who and when)."""
    application = application_get(user=actor, pk=application_id)
    _require_role(
        actor,
        Role.DISBURSEMENT_OFFICER,
        _("Only a disbursement officer checks conditions precedent."),
    )
    with transaction.atomic():
        condition = (
            ApprovalCondition.objects.select_for_update()
            .filter(pk=condition_id, application=application)
            .first()
        )
        if condition is None:
            raise NotFound()
        if condition.satisfied_at is not None:
            raise Conflict(_("This condition is already satisfied."), code="already_satisfied")
        condition.satisfied_at = timezone.now()
        condition.satisfied_by = actor
        condition.save(update_fields=["satisfied_at", "satisfied_by"])
        audit_record(
            action="condition_satisfied",
            actor=actor,
            actor_role=Role.DISBURSEMENT_OFFICER,
            application=application,
            kind="action",
            subject_type="approvals.approvalcondition",
            subject_id=condition.pk,
            comment=comment,
            data={"text": condition.text},
        )
    return condition


def unsatisfied_conditions(application) -> list[str]:
    return list(
        ApprovalCondition.objects.filter(application=application, satisfied_at__isnull=True)
        .order_by("pk")
        .values_list("text", flat=True)
    )


# --- Disbursement (maker-checker) ------------------------------------------------------------


def value_date_window() -> tuple[date, date]:
    """The earliest and the latest value date a payout may have today: a loan back-dated by
    years would be overdue, even classified, on the day it is confirmed. The bank sets how far
    (LOANFLOW_VALUE_DATE_MAX_PAST_DAYS, LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS)."""
    today = timezone.localdate()
    return (
        today - timedelta(days=settings.LOANFLOW_VALUE_DATE_MAX_PAST_DAYS),
        today + timedelta(days=settings.LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS),
    )


def value_date_refusal(value_date: date) -> str | None:
    """Why the value date is refused, or None when it is inside the window."""
    earliest, latest = value_date_window()
    if value_date < earliest:
        return _("The value date is too far in the past: the earliest accepted is %(date)s.") % {
            "date": earliest.isoformat()
        }
    if value_date > latest:
        return _("The value date is too far ahead: the latest accepted is %(date)s.") % {
            "date": latest.isoformat()
        }
    return None


def _payout_gates(application) -> None:
    """What holds a payout back, checked when it is recorded and again when it is confirmed:
    409 while a required contract (the loan contract, each guarantee and pledge contract:
    contracts.selectors) is not signed by every party and the bank, or while a
    post-reviewer's concern about the automatic approval is open (approvals.selectors)."""
    unsigned = contracts_unsigned(application)
    if unsigned:
        raise Conflict(
            _(
                "The money is paid out only once every required contract is signed by every "
                "party and the bank."
            ),
            code="contracts_unsigned",
            missing=unsigned,
        )
    concerns = concerns_open(application=application)
    if concerns:
        raise Conflict(
            _(
                "A reviewer raised a concern about the automatic approval: nothing is paid out "
                "until a branch head or a credit reviewer clears it."
            ),
            code="post_review_concern",
            missing=[
                _("Concern of %(name)s on %(date)s: %(comment)s")
                % {
                    "name": concern.raised_by.get_full_name() or concern.raised_by.username,
                    "date": timezone.localtime(concern.raised_at).date().isoformat(),
                    "comment": concern.comment,
                }
                for concern in concerns
            ],
        )


def disbursement_record(
    *, application_id: int, actor, account_number: str, amount: Decimal, value_date: date
) -> Disbursement:
    """The maker: a disbursement officer records the payout once every condition precedent
    is satisfied; the amount is at most the approved amount."""
    application = application_get(user=actor, pk=application_id)
    _require_role(
        actor, Role.DISBURSEMENT_OFFICER, _("Only a disbursement officer records a disbursement.")
    )
    errors: dict[str, list[str]] = {}
    account_number = (account_number or "").strip()
    if not account_number:
        errors["account_number"] = [_("Enter the account number.")]
    amount = Decimal(amount)
    if amount <= 0:
        errors["amount"] = [_("The amount must be positive.")]
    elif amount > application.amount:
        errors["amount"] = [
            _("The amount may not exceed the approved amount of %(amount)s %(currency)s.")
            % {"amount": f"{application.amount:,.2f}", "currency": application.currency}
        ]
    value_date_error = value_date_refusal(value_date)
    if value_date_error:
        errors["value_date"] = [value_date_error]
    if errors:
        raise InvalidInput(details=errors)
    with transaction.atomic():
        application = application_get(user=actor, pk=application_id, for_update=True)
        if application.status != "contract_signed":
            raise Conflict(
                _("A disbursement is recorded only once the contract is signed."),
                code="transition_not_allowed",
            )
        missing = unsatisfied_conditions(application)
        if missing:
            raise Conflict(
                _("Some conditions precedent are not satisfied yet."),
                code="conditions_unsatisfied",
                missing=missing,
            )
        _payout_gates(application)
        if Disbursement.objects.filter(application=application).exists():
            raise Conflict(_("A disbursement is already recorded."), code="already_recorded")
        disbursement = Disbursement.objects.create(
            application=application,
            account_number=account_number,
            amount=amount,
            currency=application.currency,
            value_date=value_date,
            maker=actor,
        )
        audit_record(
            action="disbursement_recorded",
            actor=actor,
            actor_role=Role.DISBURSEMENT_OFFICER,
            application=application,
            kind="action",
            subject_type="disbursement.disbursement",
            subject_id=disbursement.pk,
            data={
                "amount": str(amount),
                "currency": application.currency,
                "value_date": value_date.isoformat(),
                "account_number": account_number,
            },
        )
        _payout_awaits_confirmation(application=application, disbursement=disbursement)
    return disbursement


_CONFIRM_TITLE = gettext_lazy("Waiting for your confirmation: the payout of {reference}")
_CONFIRM_BODY = gettext_lazy(
    "{maker} recorded a payout of {amount} {currency} to account {account}. Another person "
    "must confirm it (maker-checker)."
)


def _payout_awaits_confirmation(*, application, disbursement: Disbursement) -> None:
    """The disbursement checkers serving the application's branch hear that a payout waits
    for one of them (the maker never confirms their own)."""
    maker = disbursement.maker
    title = format_lazy(_CONFIRM_TITLE, reference=application.reference)
    body = format_lazy(
        _CONFIRM_BODY,
        maker=maker.get_full_name() or maker.username,
        amount=f"{disbursement.amount:,.2f}",
        currency=disbursement.currency,
        account=disbursement.account_number,
    )
    url = reverse("disbursement-page", args=[application.pk])
    notify_many(
        Message(
            user=checker,
            kind=NotificationKind.AWAITING_YOU,
            title=title,
            body=body,
            url=url,
            application=application,
        )
        for checker in with_notification_preferences(
            staff_serving(branch=application.branch, role=Role.DISBURSEMENT_CHECKER).exclude(
                pk=maker.pk
            )
        )
    )


def disbursement_confirm(*, application_id: int, actor, comment: str = "") -> Disbursement:
    """The checker: a DIFFERENT user with the checker role confirms; the application becomes
    disbursed and the repayment schedule is fixed, all in one transaction."""
    application = application_get(user=actor, pk=application_id)
    _require_role(
        actor, Role.DISBURSEMENT_CHECKER, _("Only a disbursement checker confirms a disbursement.")
    )
    refusal = None
    try:
        with transaction.atomic():
            disbursement = (
                Disbursement.objects.select_for_update().filter(application=application).first()
            )
            if disbursement is None:
                raise Conflict(
                    _("No disbursement has been recorded."),
                    code="not_recorded",
                    missing=[_("A recorded disbursement")],
                )
            if disbursement.status != Disbursement.Status.RECORDED:
                raise Conflict(
                    _("This disbursement is already confirmed."), code="already_confirmed"
                )
            _payout_gates(application)
            if disbursement.maker_id == actor.pk:
                refusal = SegregationOfDuties(
                    _(
                        "You recorded this disbursement, so another "
                        "person must confirm it (maker-checker)."
                    )
                )
                raise refusal
            # The window is today's: a payout recorded in it weeks ago may have left it.
            # The checker does not change the maker's record; the maker corrects it
            # (disbursement_value_date_correct).
            outside = value_date_refusal(disbursement.value_date)
            if outside:
                raise Conflict(
                    _(
                        "The payout's value date %(date)s is no longer accepted today. "
                        "%(reason)s The officer who recorded the payout corrects its value "
                        "date before it is confirmed."
                    )
                    % {"date": disbursement.value_date.isoformat(), "reason": outside},
                    code="value_date_outside_window",
                )
            disbursement.status = Disbursement.Status.CONFIRMED
            disbursement.checker = actor
            disbursement.checked_at = timezone.now()
            disbursement.save(update_fields=["status", "checker", "checked_at"])
            application_transition(
                application_id=application.pk,
                transition="disburse",
                actor=actor,
                comment=comment,
                data={
                    "disbursement_id": disbursement.pk,
                    "amount": disbursement.amount,
                    "currency": disbursement.currency,
                    "value_date": disbursement.value_date.isoformat(),
                    "maker_id": disbursement.maker_id,
                },
            )
            instalments_fix(application=application, disbursement=disbursement)
    except SegregationOfDuties as exc:
        audit_refusal(
            action="disburse",
            actor=actor,
            actor_role=Role.DISBURSEMENT_CHECKER,
            application=LoanApplication.objects.get(pk=application.pk),
            reason=str(exc.message),
            code=exc.code,
        )
        raise
    return disbursement


def disbursement_value_date_correct(
    *, application_id: int, actor, value_date: date, comment: str
) -> Disbursement:
    """The maker corrects the value date of a payout not yet confirmed (one whose date left
    the window while it waited, or was wrong): inside today's window (400), with a reason
    (400), audited with the date it replaces; the checkers hear the payout waits again. Only
    the officer who recorded it (403): a record is corrected by whoever answers for it, and
    the checker still is someone else."""
    application = application_get(user=actor, pk=application_id)
    _require_role(
        actor, Role.DISBURSEMENT_OFFICER, _("Only a disbursement officer records a disbursement.")
    )
    errors: dict[str, list[str]] = {}
    value_date_error = value_date_refusal(value_date)
    if value_date_error:
        errors["value_date"] = [value_date_error]
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = [_("Say why the value date changes.")]
    if errors:
        raise InvalidInput(details=errors)
    with transaction.atomic():
        disbursement = (
            Disbursement.objects.select_for_update()
            .select_related("maker")
            .filter(application=application)
            .first()
        )
        if disbursement is None:
            raise Conflict(_("No disbursement has been recorded."), code="not_recorded")
        if disbursement.status != Disbursement.Status.RECORDED:
            raise Conflict(_("This disbursement is already confirmed."), code="already_confirmed")
        if disbursement.maker_id != actor.pk:
            raise Forbidden(
                _("Only the officer who recorded the payout corrects its value date."),
                code="not_maker",
            )
        previous = disbursement.value_date
        if previous == value_date:
            raise InvalidInput(
                details={"value_date": [_("This is the value date already recorded.")]}
            )
        disbursement.value_date = value_date
        disbursement.save(update_fields=["value_date"])
        audit_record(
            action="disbursement_value_date_corrected",
            actor=actor,
            actor_role=Role.DISBURSEMENT_OFFICER,
            application=application,
            kind="action",
            subject_type="disbursement.disbursement",
            subject_id=disbursement.pk,
            comment=comment,
            data={"from": previous.isoformat(), "to": value_date.isoformat()},
        )
        _payout_awaits_confirmation(application=application, disbursement=disbursement)
    return disbursement


def instalments_fix(*, application, disbursement: Disbursement) -> list[Instalment]:
    """Fix the repayment schedule from the disbursed amount, starting at the value date."""
    if Instalment.objects.filter(application=application).exists():
        raise Conflict(_("The repayment schedule is already fixed."), code="schedule_fixed")
    rows = build_schedule(
        amount=disbursement.amount,
        annual_rate=application.interest_rate,
        term_months=application.term_months,
        method=application.repayment_method,
        start=disbursement.value_date,
        conventions=schedule_conventions(application),
    )
    instalments = Instalment.objects.bulk_create(
        [
            Instalment(
                application=application,
                number=row.number,
                due_date=row.due_date,
                principal=row.principal,
                interest=row.interest,
                total=row.total,
                currency=disbursement.currency,
            )
            for row in rows
        ]
    )
    audit_record(
        action="schedule_fixed",
        actor=None,
        actor_role="system",
        application=application,
        kind="action",
        subject_type="disbursement.disbursement",
        subject_id=disbursement.pk,
        data={
            "instalments": len(rows),
            "method": application.repayment_method,
            "first_due": rows[0].due_date.isoformat(),
        },
    )
    return instalments


def offer_render_pending(*, older_than_seconds: int = 120, limit: int = 50) -> int:
    """Render offers left pending for a while (the enqueue after commit was lost)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Offer.objects.filter(status=Offer.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for offer_id in ids:
        offer_render(offer_id=offer_id)
    return len(ids)
