"""Services for the loan record: filing a draft and every state transition.

`application_transition` is the only way an application changes state. It checks, in order:
scope (404), the actor's role (403), the current state (409), segregation of duties (403,
logged), the stage gates (409 with what is missing); then it runs the transition, saves, writes
the audit row and runs the transition's effects in the stages, all in one transaction. The
rules, gates and effects of every transition are listed in `applications.effects`.
"""

import copy
import logging
from decimal import Decimal

from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from applications.models import (
    INTERNAL_TRANSITIONS,
    OPEN_STATUSES,
    TRANSITION_NAMES,
    LoanApplication,
    Product,
)
from applications.selectors import application_get, application_scope_q
from audit.services import audit_record, audit_refusal
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, SegregationOfDuties
from org.permissions import has_role_perm
from org.roles import primary_role, roles_granting
from org.selectors import staff_branch

logger = logging.getLogger(__name__)


def _effects():
    """applications.effects. Imported at call time, the one import of it: it imports the stage
    services, which import this module to take transitions of their own."""
    from applications import effects

    return effects


def _transition_method(application: LoanApplication, name: str):
    if name not in TRANSITION_NAMES:
        raise NotFound(_("There is no action called '%(name)s'.") % {"name": name})
    return getattr(application, name)


def _role_for(actor, name: str, application: LoanApplication) -> str:
    return primary_role(actor, among=roles_granting(actor, _permission_of(application, name)))


def _permission_of(application: LoanApplication, name: str) -> str:
    meta = getattr(application, name)._django_fsm
    for transition in meta.transitions.values():
        permission = transition.permission
        if permission is not None:
            return f"applications.{permission.codename}"
    return ""


def application_transition(
    *,
    application_id: int,
    transition: str,
    actor,
    comment: str = "",
    data: dict | None = None,
    system: bool = False,
    locked: LoanApplication | None = None,
) -> LoanApplication:
    """Take `transition` on the application as `actor` (None with system=True: the system
    itself, e.g. a pre-screen decline or fast-track approval). `locked`: the application as
    the caller read it, in scope for `actor`, locked FOR UPDATE earlier in the transaction
    this call joins (an approval decision's task and application are locked together)."""
    if actor is None and not system:
        raise Forbidden()
    data = dict(data or {})
    refusal: SegregationOfDuties | None = None
    try:
        # Its own savepoint only when it is its own transaction: a caller that locked the
        # application (`locked`) lets any failure here roll back its whole transaction.
        with transaction.atomic(savepoint=locked is None):
            if locked is not None:
                if locked.pk != application_id or connection.get_autocommit():
                    raise ValueError("`locked` is the application, locked in this transaction")
                application = locked
            elif system:
                try:
                    application = LoanApplication.objects.select_for_update().get(pk=application_id)
                except LoanApplication.DoesNotExist:
                    raise NotFound() from None
            else:
                application = application_get(user=actor, pk=application_id, for_update=True)
            method = _transition_method(application, transition)
            if not system and not has_role_perm(actor, _permission_of(application, transition)):
                raise Forbidden(
                    _("Your role may not take the action '%(name)s'.") % {"name": transition},
                    code="role",
                )
            if not can_proceed(method, check_conditions=False):
                raise Conflict(
                    _("'%(name)s' is not allowed while the application is %(status)s.")
                    % {"name": transition, "status": application.get_status_display()},
                    code="transition_not_allowed",
                )
            effects = _effects()
            if not system:
                # The duty rules first: they say which one refuses (and it is logged); the
                # transition's rule with the application then agrees with them.
                reason = effects.duty_violation(application, transition, actor=actor, data=data)
                if reason:
                    refusal = SegregationOfDuties(reason)
                    raise refusal
                if not has_transition_perm(method, actor):
                    raise Forbidden(code="role")
            missing = effects.missing_for(application, transition, data=data)
            if missing:
                raise Conflict(
                    _("'%(name)s' cannot be taken yet: some things are missing.")
                    % {"name": transition},
                    code="incomplete",
                    missing=missing,
                )
            from_state = application.status
            before = _column_values(application)
            method(by=actor, data=data)
            application.status_changed_at = timezone.now()
            try:
                application.save(update_fields=_changed_fields(application, before))
            except ConcurrentTransition:
                raise Conflict(
                    _("The application was changed by someone else; reload and retry."),
                    code="concurrent_change",
                ) from None
            role = "system" if system else _role_for(actor, transition, application)
            event = audit_record(
                action=transition,
                actor=actor,
                actor_role=role,
                application=application,
                from_state=from_state,
                to_state=application.status,
                comment=comment,
                data=_jsonable(data),
            )
            effects.effects_run(
                application=application,
                transition=transition,
                from_state=from_state,
                to_state=application.status,
                actor=actor,
                event=event,
                data=data,
            )
    except SegregationOfDuties as exc:
        # (A caller that locked the application records its own refusals, after its rollback.)
        if exc is refusal and locked is None:
            application = LoanApplication.objects.get(pk=application_id)
            audit_refusal(
                action=transition,
                actor=actor,
                actor_role=_role_for(actor, transition, application),
                application=application,
                reason=str(exc.message),
                code=exc.code,
            )
        raise
    return application


def _column_values(application: LoanApplication) -> dict:
    """The application's column values by field name (JSON values copied: a transition may
    change them in place)."""
    return {
        field.name: (copy.deepcopy(value) if isinstance(value, dict | list) else value)
        for field in application._meta.concrete_fields
        for value in (getattr(application, field.attname),)
    }


def _changed_fields(application: LoanApplication, before: dict) -> list[str]:
    """The fields a transition changed, and those Django sets on every save (auto_now): the
    UPDATE writes these only, not all forty columns."""
    after = _column_values(application)
    return [
        field.name
        for field in application._meta.concrete_fields
        if after[field.name] != before[field.name] or getattr(field, "auto_now", False)
    ]


def _jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, list | tuple):
            out[key] = [str(v) if isinstance(v, Decimal) else v for v in value]
        elif isinstance(value, models.Model):  # e.g. the approval task: its id
            out[key] = value.pk
        elif isinstance(value, str | int | float | bool | dict) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


def application_available_actions(*, application: LoanApplication, user) -> list[str]:
    """The transitions `user` may take now (state, role and segregation; gates are checked
    when the action is taken, and answer with what is missing)."""
    effects = _effects()
    actions = []
    for name in TRANSITION_NAMES:
        if name in INTERNAL_TRANSITIONS:
            continue
        method = getattr(application, name)
        if not can_proceed(method, check_conditions=False):
            continue
        if not has_role_perm(user, _permission_of(application, name)):
            continue
        if effects.duty_violation(application, name, actor=user, data={}):
            continue
        actions.append(name)
    return actions


# --- Filing ----------------------------------------------------------------------------------


def validate_against_product(
    *,
    product: Product,
    amount: Decimal,
    term_months: int,
    interest_rate: Decimal,
    repayment_method: str,
    guarantee_type: str,
    currency: str | None = None,
) -> dict:
    """Field messages for a request outside the product's terms (empty when it fits)."""
    errors: dict[str, list[str]] = {}
    if currency and currency != product.currency:
        errors["currency"] = [_("This product lends in %(cur)s only.") % {"cur": product.currency}]
    if amount is not None and not (product.min_amount <= amount <= product.max_amount):
        errors["amount"] = [
            _("The amount must be between %(min)s and %(max)s %(cur)s for this product.")
            % {
                "min": f"{product.min_amount:,.2f}",
                "max": f"{product.max_amount:,.2f}",
                "cur": product.currency,
            }
        ]
    if term_months is not None and not (
        product.min_term_months <= term_months <= product.max_term_months
    ):
        errors["term_months"] = [
            _("The term must be between %(min)d and %(max)d months for this product.")
            % {"min": product.min_term_months, "max": product.max_term_months}
        ]
    if interest_rate is not None and not (product.min_rate <= interest_rate <= product.max_rate):
        errors["interest_rate"] = [
            _("The rate must be between %(min)s%% and %(max)s%% for this product.")
            % {"min": product.min_rate, "max": product.max_rate}
        ]
    if repayment_method and repayment_method not in product.repayment_methods:
        errors["repayment_method"] = [_("This product does not allow this repayment method.")]
    if guarantee_type and guarantee_type not in product.guarantee_types:
        errors["guarantee_type"] = [_("This product does not allow this guarantee type.")]
    return errors


def open_application_for(*, company, product) -> LoanApplication | None:
    """The company's open application for the product, that a new one would duplicate. Not a
    drawdown's loan (drawdowns under a facility never block each other nor a new facility
    application), nor a facility application whose facility is opened (it stays
    contract_signed while the facility runs; its renewal is a new application)."""
    return (
        LoanApplication.objects.filter(company=company, product=product, status__in=OPEN_STATUSES)
        .filter(drawdown__isnull=True, facility__isnull=True)
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def application_create(
    *,
    actor,
    company,
    product: Product,
    amount: Decimal,
    term_months: int,
    interest_rate: Decimal,
    repayment_method: str,
    guarantee_type: str,
    purpose: str = "",
    currency: str | None = None,
    channel: str = LoanApplication.Channel.BRANCH,
    relationship_manager=None,
    branch=None,
    language: str = "zh-hans",
) -> LoanApplication:
    """File a draft. Staff file for their branch; the online channel passes the RM and branch
    it assigned."""
    if channel == LoanApplication.Channel.BRANCH:
        if not has_role_perm(actor, "applications.create_application"):
            raise Forbidden(_("Only relationship managers file applications."))
        branch = branch or staff_branch(actor)
        relationship_manager = relationship_manager or actor
    if branch is None or relationship_manager is None:
        raise InvalidInput(_("No branch or relationship manager could be assigned."))
    if not product.is_open_on(timezone.localdate()):
        raise InvalidInput(details={"product": [_("This product is not open for applications.")]})
    errors = validate_against_product(
        product=product,
        amount=amount,
        term_months=term_months,
        interest_rate=interest_rate,
        repayment_method=repayment_method,
        guarantee_type=guarantee_type,
        currency=currency,
    )
    if errors:
        raise InvalidInput(_("The request does not fit the product."), details=errors)
    # Serialise filings for one company so two clicks cannot open two applications.
    type(company).objects.select_for_update().filter(pk=company.pk).first()
    existing = open_application_for(company=company, product=product)
    if existing:
        if not LoanApplication.objects.filter(application_scope_q(actor), pk=existing.pk).exists():
            # Another branch's application: that there is one, not which.
            raise Conflict(
                _("%(company)s already has an open application for this product at another branch.")
                % {"company": company.name},
                code="duplicate_application",
            )
        raise Conflict(
            _("%(company)s already has an open application for this product (%(ref)s).")
            % {"company": company.name, "ref": existing.reference},
            code="duplicate_application",
            details={
                "existing_id": existing.pk,
                "existing_reference": existing.reference,
                "existing_url": reverse("application-detail", args=[existing.pk]),
            },
        )
    application = LoanApplication.objects.create(
        company=company,
        branch=branch,
        product=product,
        product_snapshot=product.snapshot(),
        amount=amount,
        currency=product.currency,
        term_months=term_months,
        interest_rate=interest_rate,
        repayment_method=repayment_method,
        guarantee_type=guarantee_type,
        purpose=purpose,
        channel=channel,
        filed_by=actor,
        relationship_manager=relationship_manager,
        language=language,
    )
    audit_record(
        action="create",
        actor=actor,
        actor_role=primary_role(actor) if actor else "system",
        application=application,
        to_state=application.status,
        kind="action",
        data={"channel": channel},
    )
    return application


EDITABLE_DRAFT_FIELDS = (
    "amount",
    "term_months",
    "interest_rate",
    "repayment_method",
    "guarantee_type",
    "purpose",
    "language",
)


@transaction.atomic
def application_update_draft(*, application_id: int, actor, changes: dict) -> LoanApplication:
    application = application_get(user=actor, pk=application_id, for_update=True)
    if application.status != "draft":
        raise Conflict(_("Only a draft can be edited."), code="not_draft")
    if not (
        has_role_perm(actor, "applications.create_application")
        or has_role_perm(actor, "applications.submit_application")
    ):
        raise Forbidden()
    for field in EDITABLE_DRAFT_FIELDS:
        if field in changes:
            setattr(application, field, changes[field])
    errors = validate_against_product(
        product=application.product,
        amount=application.amount,
        term_months=application.term_months,
        interest_rate=application.interest_rate,
        repayment_method=application.repayment_method,
        guarantee_type=application.guarantee_type,
    )
    if errors:
        raise InvalidInput(_("The request does not fit the product."), details=errors)
    application.save()
    audit_record(
        action="edit_draft",
        actor=actor,
        actor_role=primary_role(actor),
        application=application,
        kind="action",
        data={"fields": sorted(k for k in changes if k in EDITABLE_DRAFT_FIELDS)},
    )
    return application
