"""Writes of complaints: an owner files one on the portal, staff record one received by
telephone, letter or in the branch, and a handler (the company's relationship manager or the
head of its branch) acknowledges it, then resolves it with a response or rejects it with a
reason. Each is a named action, checked against the actor's scope and role, atomic and
audited (one audit chain per complaint). Notifications are rows made in the same transaction,
in each recipient's language; their e-mails go after commit (notifications.services)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from applications.models import LoanApplication
from applications.selectors import applicant_company_id, is_portal_user
from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from complaints.models import (
    RESPONSE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TRANSITION_NAMES,
    Complaint,
    ComplaintCategory,
)
from complaints.selectors import (
    SUBJECT_TYPE,
    complaint_company_get,
    complaint_get,
    complaint_handlers,
)
from customers.models import Company
from notifications.models import Kind
from notifications.services import Formatted, applicant_users, notify_many
from notifications.services import Message as Notice
from org.permissions import has_role_perm
from org.roles import Role, primary_role, roles_granting
from portal.selectors import portal_application_get
from sla import services as sla_services
from sla.models import Step

# How much of a complaint or a response the notification (and its e-mail) quotes.
EXCERPT_LENGTH = 200
# How far back staff may date a complaint they record (received by telephone or letter some
# days before): far enough for the post, not so far that a closed period's figure moves.
RECORD_BACKDATE_DAYS = 30

STAFF_CHANNELS = (Complaint.Channel.PHONE, Complaint.Channel.BRANCH, Complaint.Channel.LETTER)


def _text_clean(value, *, field: str, limit: int, missing: str) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if not text:
        raise InvalidInput(details={field: [missing]})
    if len(text) > limit:
        raise InvalidInput(
            details={
                field: [
                    _("The text is too long (%(limit)s characters at most).") % {"limit": limit}
                ]
            }
        )
    return text


def _category_get(code) -> ComplaintCategory:
    category = ComplaintCategory.objects.filter(code=str(code or ""), is_active=True).first()
    if category is None:
        raise InvalidInput(details={"category": [_("Choose one of the complaint categories.")]})
    return category


def _manager_for(company: Company, application: LoanApplication | None):
    """The relationship manager who handles the complaint: the application's, else the one of
    the company's latest application (none for a company that never applied)."""
    if application is not None:
        return application.relationship_manager
    latest = (
        LoanApplication.objects.filter(company=company)
        .select_related("relationship_manager")
        .order_by("-created_at", "-id")
        .first()
    )
    return latest.relationship_manager if latest else None


def _create(
    *,
    actor,
    company: Company,
    application: LoanApplication | None,
    category: ComplaintCategory,
    channel: str,
    text: str,
    received_at: datetime,
    action: str,
) -> Complaint:
    with transaction.atomic():
        complaint = Complaint.objects.create(
            company=company,
            branch=company.home_branch,
            application=application,
            category=category,
            channel=channel,
            text=text,
            filed_by=actor,
            received_at=received_at,
            relationship_manager=_manager_for(company, application),
        )
        # The answer's clock runs from receipt (the complaint_answer SLA policy; the
        # regulator expects an answer within 15 days). It names no application, so the
        # process figures and the application's page leave it out.
        sla_services.clock_start(
            subject_type=SUBJECT_TYPE,
            subject_id=complaint.pk,
            step=Step.COMPLAINT_ANSWER,
            owner=complaint.relationship_manager,
            role=Role.RELATIONSHIP_MANAGER,
            branch=complaint.branch,
            started_at=received_at,
        )
        audit_record(
            action=action,
            actor=actor,
            actor_role=primary_role(actor),
            kind=AuditEvent.Kind.ACTION,
            subject_type=SUBJECT_TYPE,
            subject_id=complaint.pk,
            to_state=complaint.status,
            data={
                "company_id": company.pk,
                "application_id": application.pk if application else None,
                "category": category.code,
                "channel": channel,
                "received_at": received_at.isoformat(),
                "length": len(text),
            },
        )
        _notify_handlers(complaint, actor=actor)
    return complaint


def complaint_file(*, actor, category, text, application_id=None) -> Complaint:
    """An owner files a complaint on the portal for the company they act for: about one of
    its applications (or the loan it became) or about the bank in general. Another company's
    application is a 404, as for no such application."""
    if not is_portal_user(actor):
        raise Forbidden()
    if not has_role_perm(actor, "complaints.file_complaint"):
        raise Forbidden(code="role")
    application = None
    if application_id not in (None, ""):
        application = portal_application_get(user=actor, pk=application_id)
    category = _category_get(category)
    text = _text_clean(
        text, field="text", limit=TEXT_MAX_LENGTH, missing=_("Tell us what went wrong.")
    )
    company = Company.objects.select_related("home_branch").get(pk=applicant_company_id(actor))
    return _create(
        actor=actor,
        company=company,
        application=application,
        category=category,
        channel=Complaint.Channel.PORTAL,
        text=text,
        received_at=timezone.now(),
        action="complaint_file",
    )


def complaint_record(
    *,
    actor,
    company_id=None,
    credit_code: str = "",
    category,
    text,
    channel: str,
    application_id=None,
    application_reference: str = "",
    received_at: datetime | None = None,
) -> Complaint:
    """Staff record a complaint received by telephone, letter or in the branch, on the
    company's behalf (by its id or its unified social credit code): a company outside their
    branch subtree is a 404. The application it is about, if any, by id or reference, must
    be the company's. `received_at`: when it was received, up to RECORD_BACKDATE_DAYS before
    now (default: now)."""
    if not has_role_perm(actor, "complaints.record_complaint"):
        raise Forbidden(code="role")
    company = complaint_company_get(user=actor, company_id=company_id, credit_code=credit_code)
    application = None
    reference = str(application_reference or "").strip().upper()
    if application_id not in (None, "") or reference:
        found = LoanApplication.objects.filter(company=company)
        found = found.filter(pk=application_id) if application_id not in (None, "") else found
        found = found.filter(reference=reference) if reference else found
        application = found.select_related("relationship_manager").first()
        if application is None:
            raise InvalidInput(
                details={"application": [_("This is not an application of the company.")]}
            )
    if channel not in STAFF_CHANNELS:
        raise InvalidInput(
            details={
                "channel": [
                    _("Choose how the complaint was received: telephone, letter or in the branch.")
                ]
            }
        )
    category = _category_get(category)
    text = _text_clean(
        text, field="text", limit=TEXT_MAX_LENGTH, missing=_("Write down the complaint.")
    )
    now = timezone.now()
    received_at = received_at or now
    if received_at > now:
        raise InvalidInput(
            details={"received_at": [_("A complaint cannot be received later than now.")]}
        )
    if received_at < now - timedelta(days=RECORD_BACKDATE_DAYS):
        raise InvalidInput(
            details={
                "received_at": [
                    _("A complaint may be dated at most %(days)s days back.")
                    % {"days": RECORD_BACKDATE_DAYS}
                ]
            }
        )
    return _create(
        actor=actor,
        company=company,
        application=application,
        category=category,
        channel=channel,
        text=text,
        received_at=received_at,
        action="complaint_record",
    )


# What each handling transition needs from the handler: (field, missing message).
TRANSITION_TEXT = {
    "acknowledge": ("note", None),
    "resolve": ("response", gettext_lazy("Write the response the customer will read.")),
    "reject": ("reason", gettext_lazy("Give the reason the customer will read.")),
}


def complaint_transition(*, actor, complaint_id, transition: str, text: str = "") -> Complaint:
    """Take a handling transition (acknowledge, resolve, reject) on the complaint as `actor`.
    In order: scope (404), the role (403), the state (409), that the actor handles this one,
    its relationship manager or a branch head over its branch (403), the text (400: a
    resolution's response and a rejection's reason are required, the owner reads them); then
    the transition, the save and the audit row in one transaction, and the owner hears of an
    answer."""
    if transition not in TRANSITION_NAMES:
        raise NotFound(_("There is no action called '%(name)s'.") % {"name": transition})
    field, missing = TRANSITION_TEXT[transition]
    with transaction.atomic():
        complaint = complaint_get(user=actor, pk=complaint_id, for_update=True)
        if not has_role_perm(actor, "complaints.handle_complaint"):
            raise Forbidden(
                _("Your role may not take the action '%(name)s'.") % {"name": transition},
                code="role",
            )
        method = getattr(complaint, transition)
        if not can_proceed(method, check_conditions=False):
            raise Conflict(
                _("'%(name)s' is not allowed while the complaint is %(status)s.")
                % {"name": transition, "status": complaint.get_status_display()},
                code="transition_not_allowed",
            )
        if not has_transition_perm(method, actor):
            raise Forbidden(
                _(
                    "This complaint is handled by the company's relationship manager or the "
                    "head of its branch."
                ),
                code="not_handler",
            )
        if missing is None:
            text = str(text or "").replace("\x00", "").strip()[:RESPONSE_MAX_LENGTH]
        else:
            text = _text_clean(text, field=field, limit=RESPONSE_MAX_LENGTH, missing=str(missing))
        from_state = complaint.status
        method(by=actor, text=text)
        try:
            complaint.save()
        except ConcurrentTransition:
            raise Conflict(
                _("The complaint was changed by someone else; reload and retry."),
                code="concurrent_change",
            ) from None
        audit_record(
            action=f"complaint_{transition}",
            actor=actor,
            actor_role=primary_role(
                actor, among=roles_granting(actor, "complaints.handle_complaint")
            ),
            kind=AuditEvent.Kind.TRANSITION,
            subject_type=SUBJECT_TYPE,
            subject_id=complaint.pk,
            from_state=from_state,
            to_state=complaint.status,
            comment=text,
        )
        if complaint.status in (Complaint.Status.RESOLVED, Complaint.Status.REJECTED):
            sla_services.clock_stop(
                subject_type=SUBJECT_TYPE,
                subject_id=complaint.pk,
                step=Step.COMPLAINT_ANSWER,
                stopped_at=complaint.answered_at,
            )
            _notify_owners(complaint)
    return complaint


def complaint_acknowledge(*, actor, complaint_id, note: str = "") -> Complaint:
    """The handler tells the bank's side they have taken the complaint up (the owner sees
    it being handled); the note stays in the audit trail."""
    return complaint_transition(
        actor=actor, complaint_id=complaint_id, transition="acknowledge", text=note
    )


def complaint_resolve(*, actor, complaint_id, response: str) -> Complaint:
    """The complaint is resolved: the response is what the owner reads."""
    return complaint_transition(
        actor=actor, complaint_id=complaint_id, transition="resolve", text=response
    )


def complaint_reject(*, actor, complaint_id, reason: str) -> Complaint:
    """The complaint is rejected (unfounded, not the bank's to answer): the reason is what
    the owner reads."""
    return complaint_transition(
        actor=actor, complaint_id=complaint_id, transition="reject", text=reason
    )


# --- Who hears of it ------------------------------------------------------------------------

NEW_COMPLAINT_TITLE = gettext_lazy("New complaint %(ref)s from %(company)s")
NEW_COMPLAINT_BODY = gettext_lazy("%(category)s: %(excerpt)s")
ANSWERED_TITLE = {
    Complaint.Status.RESOLVED: gettext_lazy("Your complaint %(ref)s was resolved"),
    Complaint.Status.REJECTED: gettext_lazy("Your complaint %(ref)s was answered"),
}


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _notify_handlers(complaint: Complaint, *, actor) -> None:
    category = complaint.category
    notify_many(
        [
            Notice(
                user=user,
                kind=Kind.COMPLAINT,
                title=Formatted(
                    NEW_COMPLAINT_TITLE, ref=complaint.reference, company=complaint.company.name
                ),
                # The category's name in the recipient's language, rendered with the text.
                body=Formatted(
                    NEW_COMPLAINT_BODY,
                    category=lazy(lambda: category.display_name, str)(),
                    excerpt=_excerpt(complaint.text),
                ),
                url=reverse("complaint-detail", args=[complaint.pk]),
                application=complaint.application,
            )
            for user in complaint_handlers(complaint=complaint)
            if user.pk != actor.pk
        ]
    )


def _notify_owners(complaint: Complaint) -> None:
    notify_many(
        [
            Notice(
                user=user,
                kind=Kind.COMPLAINT,
                title=Formatted(ANSWERED_TITLE[complaint.status], ref=complaint.reference),
                body=_excerpt(complaint.response),
                url=reverse("portal-complaint", args=[complaint.pk]),
                application=complaint.application,
            )
            for user in applicant_users(company_id=complaint.company_id)
        ]
    )
