"""Writes of facilities: the facility opened by the approval of a facility application and
activated by its contract; freeze, unfreeze and close by a risk officer (and a freeze by an
early-warning alert); the nightly expiry; drawdowns requested, approved (automatically within
the facility's rules, or by a drawdown approver) or declined.

Every change locks the facility row first (select_for_update), so two drawdowns, or a
drawdown and a freeze, are taken one after the other: together they never exceed the limit,
and a freeze stops the next drawdown at once. Each change is audited in the facility's chain
(subject facilities.facility)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from applications.models import LoanApplication, Product
from applications.permissions import filed_it, manages_it
from applications.selectors import applicant_company_id, is_portal_user
from applications.services import application_transition
from approvals.models import ApprovalCondition
from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput
from facilities.models import Drawdown, DrawdownApproval, Facility, FacilityTerms
from facilities.selectors import (
    SUBJECT_TYPE,
    company_standings,
    drawdown_price_buildup,
    facility_availability,
    facility_get,
    facility_price_buildup,
    facility_pricing_range,
)
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify_many, with_notification_preferences
from org.permissions import has_role_perm
from org.roles import Role, primary_role, roles_granting
from org.selectors import is_staff_member, staff_serving
from postloan.models import NON_PERFORMING, Alert, Classification, Loan

FREEZE_PERMISSION = "facilities.freeze_facility"
DRAWDOWN_PERMISSION = "facilities.approve_drawdown"


def facility_terms_of(product: Product) -> FacilityTerms | None:
    """The product's facility terms: None for a loan product."""
    return FacilityTerms.objects.filter(product=product).first()


def _audit(
    facility: Facility, *, action: str, actor, role: str, from_state="", data=None, comment=""
):
    return audit_record(
        action=action,
        actor=actor,
        actor_role=role if actor is not None else "system",
        kind=AuditEvent.Kind.TRANSITION if from_state else AuditEvent.Kind.ACTION,
        subject_type=SUBJECT_TYPE,
        subject_id=facility.pk,
        from_state=from_state,
        to_state=facility.status,
        comment=comment,
        data=data or {},
    )


# --- The facility ------------------------------------------------------------------------


def facility_open(*, application: LoanApplication) -> Facility | None:
    """The approval of a facility application opens its facility (applications.effects, in
    the approval's transaction): the approved amount, currency and term, the product's
    facility terms, the approved pricing range and the approval's conditions. Expires the
    term after the approval. None for a loan application or a drawdown."""
    if not application.is_facility_application:
        return None
    terms = facility_terms_of(application.product)
    approved_on = timezone.localdate()
    min_rate, max_rate = facility_pricing_range(application=application)
    facility = Facility.objects.create(
        application=application,
        company_id=application.company_id,
        branch_id=application.branch_id,
        amount=application.amount,
        currency=application.currency,
        term_months=application.term_months,
        revolving=terms.revolving,
        max_drawdown_term_months=terms.max_drawdown_term_months,
        min_rate=min_rate,
        max_rate=max_rate,
        pricing=_approved_pricing(application),
        conditions=list(
            ApprovalCondition.objects.filter(application=application)
            .order_by("pk")
            .values_list("text", flat=True)
        ),
        drawdown_approval=terms.drawdown_approval,
        auto_approval_limit=terms.auto_approval_limit,
        approved_on=approved_on,
        expires_on=approved_on + relativedelta(months=application.term_months),
    )
    _audit(
        facility,
        action="facility_open",
        actor=None,
        role="system",
        data={
            "application_id": application.pk,
            "amount": str(facility.amount),
            "currency": facility.currency,
            "revolving": facility.revolving,
            "expires_on": facility.expires_on.isoformat(),
        },
    )
    return facility


def _approved_pricing(application: LoanApplication) -> dict:
    """What the facility keeps of the pricing it was approved on: the build-up of its range's
    lower end under the active parameters (the ones the approval checked the floor with, in
    this transaction), and the approval's reason when that end is below the floor (the
    approval step's or committee's record, approvals.services)."""
    buildup = facility_price_buildup(application=application)
    if buildup is None:
        return {}
    record = buildup.as_record()
    if buildup.below_floor:
        approved = (
            AuditEvent.objects.filter(application=application, data__pricing__below_floor=True)
            .order_by("-pk")
            .values_list("data__pricing__reason", flat=True)
            .first()
        )
        record["below_floor_reason"] = approved or ""
    return record


def _take(facility: Facility, name: str, *, actor, role: str, reason: str = "", data=None):
    method = getattr(facility, name)
    if not can_proceed(method):
        raise Conflict(
            _("'%(name)s' is not allowed while the facility is %(status)s.")
            % {"name": name, "status": facility.get_status_display()},
            code="transition_not_allowed",
        )
    from_state = facility.status
    method(reason=reason)
    facility.status_changed_at = timezone.now()
    try:
        facility.save(update_fields=["status", "status_reason", "status_changed_at"])
    except ConcurrentTransition:
        raise Conflict(
            _("The facility was changed by someone else; reload and retry."),
            code="concurrent_change",
        ) from None
    _audit(
        facility,
        action=f"facility_{name}",
        actor=actor,
        role=role,
        from_state=from_state,
        comment=reason,
        data=data,
    )
    return facility


def facility_activate_on_contract(*, application: LoanApplication, actor) -> Facility | None:
    """The signed contract of a facility application activates its facility
    (applications.effects, in the sign_contract transaction)."""
    facility = Facility.objects.select_for_update().filter(application=application).first()
    if facility is None or facility.status != Facility.Status.APPROVED:
        return None
    return _take(
        facility,
        "activate",
        actor=actor,
        role=primary_role(actor) if actor else "system",
        reason=_("Contract signed."),
    )


def facility_transition(*, facility_id, transition: str, actor, reason: str = "") -> Facility:
    """A risk officer freezes, unfreezes or closes a facility (a reason is required).
    Scope 404, role 403, state 409."""
    if transition not in ("freeze", "unfreeze", "close"):
        raise InvalidInput(details={"transition": [_("Choose freeze, unfreeze or close.")]})
    reason = str(reason or "").replace("\x00", "").strip()
    with transaction.atomic():
        facility = facility_get(user=actor, pk=facility_id, for_update=True)
        if not (is_staff_member(actor) and has_role_perm(actor, FREEZE_PERMISSION)):
            raise Forbidden(
                _("Only a risk officer freezes, unfreezes or closes a facility."), code="role"
            )
        if not reason:
            raise InvalidInput(details={"reason": [_("Give the reason.")]})
        return _take(
            facility,
            transition,
            actor=actor,
            role=primary_role(actor, among=roles_granting(actor, FREEZE_PERMISSION)),
            reason=reason,
        )


def facility_freeze(*, facility_id, actor, reason: str) -> Facility:
    return facility_transition(
        facility_id=facility_id, transition="freeze", actor=actor, reason=reason
    )


def facility_unfreeze(*, facility_id, actor, reason: str) -> Facility:
    return facility_transition(
        facility_id=facility_id, transition="unfreeze", actor=actor, reason=reason
    )


def facility_close(*, facility_id, actor, reason: str) -> Facility:
    return facility_transition(
        facility_id=facility_id, transition="close", actor=actor, reason=reason
    )


def facilities_freeze_for_alert(*, alert: Alert) -> list[Facility]:
    """An early-warning alert freezes the active facilities of its loan's company (the
    system, in the caller's transaction): no drawdown until a risk officer unfreezes."""
    company_id = Loan.objects.filter(pk=alert.loan_id).values_list(
        "application__company_id", flat=True
    )[0]
    frozen = []
    with transaction.atomic():
        for facility in Facility.objects.select_for_update().filter(
            company_id=company_id, status=Facility.Status.ACTIVE
        ):
            frozen.append(
                _take(
                    facility,
                    "freeze",
                    actor=None,
                    role="system",
                    reason=_("Early-warning alert %(id)s: %(rule)s")
                    % {"id": alert.pk, "rule": alert.rule.display_name},
                    data={"alert_id": alert.pk},
                )
            )
    return frozen


def facilities_expire(*, today: date | None = None) -> int:
    """The nightly step: facilities past their expiry (approved, active or frozen) expire.
    Their drawn loans run on; nothing more is drawn. Each claimed and locked, skipping rows
    another run holds."""
    today = today or timezone.localdate()
    count = 0
    while True:
        with transaction.atomic():
            batch = list(
                Facility.objects.select_for_update(skip_locked=True)
                .filter(
                    status__in=(
                        Facility.Status.APPROVED,
                        Facility.Status.ACTIVE,
                        Facility.Status.FROZEN,
                    ),
                    expires_on__lt=today,
                )
                .order_by("expires_on", "pk")[:500]
            )
            for facility in batch:
                _take(
                    facility,
                    "expire",
                    actor=None,
                    role="system",
                    reason=_("Expired on %(date)s.") % {"date": facility.expires_on.isoformat()},
                )
        count += len(batch)
        if len(batch) < 500:
            return count


# --- Drawdowns ---------------------------------------------------------------------------


def _decimal(value, field: str, errors: dict) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite():
        errors[field] = [_("Enter a number.")]
        return None
    return number


def _company_standing(company_id: int) -> tuple[str, int]:
    """The company's worst classification over its active loans, and its open alerts."""
    return company_standings(company_ids=[company_id])[company_id]


def _refuse_unless_drawable(facility: Facility) -> None:
    if facility.status != Facility.Status.ACTIVE:
        raise Conflict(
            _("Nothing can be drawn while the facility is %(status)s.")
            % {"status": facility.get_status_display()},
            code="facility_not_active",
        )


def drawdown_request(
    *,
    facility_id,
    actor,
    amount,
    term_months,
    repayment_method: str = "",
    interest_rate=None,
    purpose: str = "",
) -> Drawdown:
    """Draw under an active facility, by the owner on the portal or the relationship
    manager. In the facility's locked transaction: the state (409 unless active), the amount
    against what is available (limit - drawn - pending), the term against the longest
    drawdown and the facility's expiry, the rate within its pricing range, its conditions
    precedent satisfied, the company's classification (non-performing: 409). Approved at once
    within the automatic rules; otherwise it waits for a drawdown approver, its amount
    reserved."""
    if is_portal_user(actor):
        if not has_role_perm(actor, "applications.submit_application"):
            raise Forbidden(code="role")
    elif not (is_staff_member(actor) and has_role_perm(actor, "applications.create_application")):
        raise Forbidden(_("Only the owner or the relationship manager requests a drawdown."))
    errors: dict[str, list[str]] = {}
    amount = _decimal(amount, "amount", errors)
    if amount is not None and amount <= 0:
        errors["amount"] = [_("The amount must be positive.")]
    try:
        term_months = int(term_months)
        if term_months < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["term_months"] = [_("Enter a whole number of months.")]
        term_months = None
    rate = None if interest_rate in (None, "") else _decimal(interest_rate, "interest_rate", errors)
    if errors:
        raise InvalidInput(details=errors)
    with transaction.atomic():
        facility = facility_get(user=actor, pk=facility_id, for_update=True)
        if is_portal_user(actor) and facility.company_id != applicant_company_id(actor):
            raise Forbidden()
        _refuse_unless_drawable(facility)
        product = facility.application.product
        rate = facility.min_rate if rate is None else rate
        method = repayment_method or (product.repayment_methods or [""])[0]
        if amount > 0 and amount.as_tuple().exponent < -2:
            errors["amount"] = [_("At most two decimal places.")]
        available = facility_availability(facility=facility).available
        if amount > available:
            errors["amount"] = [
                _("At most %(available)s %(currency)s is available under this facility.")
                % {"available": f"{available:,.2f}", "currency": facility.currency}
            ]
        if term_months > facility.max_drawdown_term_months:
            errors["term_months"] = [
                _("A drawdown runs at most %(months)d months under this facility.")
                % {"months": facility.max_drawdown_term_months}
            ]
        elif timezone.localdate() + relativedelta(months=term_months) > facility.expires_on:
            errors["term_months"] = [
                _("A drawdown may not run past the facility's expiry on %(date)s.")
                % {"date": facility.expires_on.isoformat()}
            ]
        if not (facility.min_rate <= rate <= facility.max_rate):
            errors["interest_rate"] = [
                _("The rate must be between %(min)s and %(max)s (annual, percent).")
                % {"min": facility.min_rate, "max": facility.max_rate}
            ]
        if method not in product.repayment_methods:
            errors["repayment_method"] = [_("This facility does not allow this repayment method.")]
        if errors:
            raise InvalidInput(details=errors)
        buildup = drawdown_price_buildup(
            facility=facility, amount=amount, term_months=term_months, interest_rate=rate
        )
        unsatisfied = list(
            ApprovalCondition.objects.filter(
                application_id=facility.application_id, satisfied_at__isnull=True
            )
            .order_by("pk")
            .values_list("text", flat=True)
        )
        if unsatisfied:
            raise Conflict(
                _("The facility's conditions precedent are not all satisfied."),
                code="conditions_unsatisfied",
                missing=unsatisfied,
            )
        worst, alerts = _company_standing(facility.company_id)
        if worst in NON_PERFORMING:
            raise Conflict(
                _("Nothing can be drawn while a loan of the company is classified %(class)s.")
                % {"class": Classification(worst).label},
                code="classification",
            )
        reasons = []
        if facility.drawdown_approval == DrawdownApproval.APPROVER:
            reasons.append("facility_rule")
        if facility.auto_approval_limit is not None and amount > facility.auto_approval_limit:
            reasons.append("above_automatic_limit")
        if worst != Classification.NORMAL:
            reasons.append("classification")
        if alerts:
            reasons.append("open_alerts")
        drawdown = Drawdown.objects.create(
            facility=facility,
            amount=amount,
            currency=facility.currency,
            term_months=term_months,
            interest_rate=rate,
            repayment_method=method,
            purpose=str(purpose or "").replace("\x00", "").strip(),
            approval_reasons=reasons,
            pricing=buildup.as_record() if buildup is not None else {},
            requested_by=actor,
        )
        _audit(
            facility,
            action="drawdown_request",
            actor=actor,
            role=primary_role(actor),
            data={
                "drawdown_id": drawdown.pk,
                "amount": str(amount),
                "term_months": term_months,
                "available_before": str(available),
                "approval_reasons": reasons,
                "pricing_version": buildup.version if buildup is not None else None,
            },
        )
        if not reasons:
            _drawdown_approve(drawdown, facility=facility, actor=None)
        else:
            _drawdown_awaits_approver(drawdown, facility=facility)
    return drawdown


_AWAITS_TITLE = gettext_lazy("A drawdown waits for your approval: {company}")
_AWAITS_BODY = gettext_lazy("{amount} {currency} for {months} months under facility {reference}.")


def _drawdown_awaits_approver(drawdown: Drawdown, *, facility: Facility) -> None:
    """The approvers serving the facility's branch hear that a drawdown waits for one of
    them, with a link to it in their queue (rows in this transaction, their e-mails after
    commit)."""
    title = format_lazy(_AWAITS_TITLE, company=facility.company.name)
    body = format_lazy(
        _AWAITS_BODY,
        amount=f"{drawdown.amount:,.2f}",
        currency=drawdown.currency,
        months=drawdown.term_months,
        reference=facility.application.reference,
    )
    url = f"{reverse('drawdown-queue')}#drawdown-{drawdown.pk}"
    notify_many(
        Message(user=approver, kind=NotificationKind.AWAITING_YOU, title=title, body=body, url=url)
        for approver in with_notification_preferences(
            staff_serving(branch=facility.branch, role=Role.APPROVER).exclude(
                pk=drawdown.requested_by_id
            )
        )
    )


def _drawdown_approve(drawdown: Drawdown, *, facility: Facility, actor, comment: str = ""):
    """Approve (the facility locked, its application and product read with it; the drawdown
    read after that lock, with its requester): the drawdown's loan application is made and
    approved at once (approve_drawdown), and its offer follows as for any approved loan."""
    fa = facility.application
    requester = drawdown.requested_by
    online = not is_staff_member(requester)
    application = LoanApplication.objects.create(
        company_id=facility.company_id,
        branch=facility.branch,
        product=fa.product,
        product_snapshot=fa.product.snapshot(),
        amount=drawdown.amount,
        currency=drawdown.currency,
        term_months=drawdown.term_months,
        interest_rate=drawdown.interest_rate,
        repayment_method=drawdown.repayment_method,
        guarantee_type=fa.guarantee_type,
        purpose=drawdown.purpose or _("Drawdown under facility %(ref)s") % {"ref": fa.reference},
        channel=LoanApplication.Channel.ONLINE if online else LoanApplication.Channel.BRANCH,
        filed_by=requester,
        relationship_manager_id=fa.relationship_manager_id,
        language=fa.language,
    )
    audit_record(
        action="create",
        actor=requester,
        actor_role=primary_role(requester),
        application=application,
        to_state=application.status,
        kind="action",
        data={"channel": application.channel, "facility_id": facility.pk},
    )
    drawdown.approve(by=actor, comment=comment)
    drawdown.application = application
    drawdown.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "application"]
    )
    # Made in this transaction, the application is invisible to any other until it commits:
    # as good as locked, in the facility's scope (its branch), so it is not read again.
    application_transition(
        application_id=application.pk,
        transition="approve_drawdown",
        actor=actor,
        system=actor is None,
        comment=_("Drawdown under facility %(ref)s.") % {"ref": fa.reference},
        data={"facility_id": facility.pk, "drawdown_id": drawdown.pk},
        locked=application,
    )
    _audit(
        facility,
        action="drawdown_approve",
        actor=actor,
        role=primary_role(actor, among=roles_granting(actor, DRAWDOWN_PERMISSION))
        if actor
        else "system",
        data={
            "drawdown_id": drawdown.pk,
            "application_id": application.pk,
            "automatic": actor is None,
        },
    )
    return drawdown


def drawdown_decide(*, drawdown_id, actor, decision: str, comment: str = "") -> Drawdown:
    """A drawdown approver approves or declines a drawdown waiting for one. The approver
    never requested it nor manages the facility (审贷分离); a freeze since the request
    refuses the approval (409).

    Its statements are pinned (tests/facilities/test_drawdown_statements.py): the facility
    is found through the drawdown and locked in one statement, with its application and
    product; the drawdown is read once, after that lock, with its requester."""
    from facilities.selectors import facility_of_drawdown

    if decision not in ("approve", "decline"):
        raise InvalidInput(details={"decision": [_("Choose approve or decline.")]})
    comment = str(comment or "").replace("\x00", "").strip()
    if decision == "decline" and not comment:
        raise InvalidInput(details={"comment": [_("Give the reason for declining.")]})
    with transaction.atomic():
        # The facility's row lock first, as every change of a facility and its drawdowns
        # takes it: the drawdown read after it is the committed one (and locked too).
        facility = facility_of_drawdown(user=actor, drawdown_id=drawdown_id, for_update=True)
        drawdown = (
            Drawdown.objects.select_for_update(of=("self",))
            .select_related("requested_by__staff_profile__branch")
            .get(pk=drawdown_id, facility=facility)
        )
        if not (is_staff_member(actor) and has_role_perm(actor, DRAWDOWN_PERMISSION)):
            raise Forbidden(_("Only a drawdown approver decides a drawdown."), code="role")
        if (
            drawdown.requested_by_id == actor.pk
            or filed_it(actor, facility.application)
            or (manages_it(actor, facility.application))
        ):
            raise Forbidden(
                _("You requested this drawdown or manage the facility, so you may not decide it."),
                code="segregation_of_duties",
            )
        if drawdown.status != Drawdown.Status.REQUESTED:
            raise Conflict(_("This drawdown is already decided."), code="already_decided")
        if decision == "approve":
            _refuse_unless_drawable(facility)
            _drawdown_approve(drawdown, facility=facility, actor=actor, comment=comment)
        else:
            drawdown.decline(by=actor, comment=comment)
            drawdown.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
            _audit(
                facility,
                action="drawdown_decline",
                actor=actor,
                role=primary_role(actor, among=roles_granting(actor, DRAWDOWN_PERMISSION)),
                comment=comment,
                data={"drawdown_id": drawdown.pk},
            )
    return drawdown


def drawdown_refusal_at_payout(application: LoanApplication) -> list[str]:
    """A gate of the drawdown loan's disbursement (applications.effects): its facility must
    still be active (a freeze stops drawdowns at once, an approved one not yet paid out too)."""
    facility = Facility.objects.filter(drawdowns__application=application).only("status").first()
    if facility is None or facility.status == Facility.Status.ACTIVE:
        return []
    return [
        _("The facility is %(status)s: nothing is paid out under it.")
        % {"status": facility.get_status_display()}
    ]
