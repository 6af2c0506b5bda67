"""Writes of the thread and the survey: each a named action, checked against the actor's
scope, atomic and audited. Notifications are rows made in the same transaction; their
e-mails go after commit (notifications.services.notify_many)."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import LoanApplication
from applications.selectors import application_get, is_portal_user
from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput
from intake.services import upload_sha256, validate_upload
from messaging.models import (
    BODY_MAX_LENGTH,
    SURVEY_COMMENT_MAX_LENGTH,
    Message,
    Side,
    SurveyAnswer,
    SurveyStage,
)
from messaging.selectors import case_holders, message_author_name, survey_stages_offered
from notifications.models import Kind
from notifications.services import Formatted, applicant_users, notify_many
from notifications.services import Message as Notice
from org.roles import primary_role
from org.selectors import is_staff_member
from portal.selectors import portal_application_get

# How much of a message the notification (and its e-mail) quotes.
EXCERPT_LENGTH = 200


def _side(actor) -> str:
    if is_portal_user(actor):
        return Side.OWNER
    if is_staff_member(actor):
        return Side.BANK
    raise Forbidden()


def thread_application(*, actor, application_id) -> LoanApplication:
    """The application whose thread `actor` may read and write: an owner's company's (through
    the portal's scope), or one a staff member may see (their branch subtree). NotFound
    otherwise, as for no such application."""
    if _side(actor) == Side.OWNER:
        return portal_application_get(user=actor, pk=application_id)
    return application_get(user=actor, pk=application_id)


def _body_clean(body) -> str:
    body = str(body or "").replace("\x00", "").strip()
    if not body:
        raise InvalidInput(details={"body": [_("Write a message.")]})
    if len(body) > BODY_MAX_LENGTH:
        raise InvalidInput(
            details={
                "body": [
                    _("The message is too long (%(limit)s characters at most).")
                    % {"limit": BODY_MAX_LENGTH}
                ]
            }
        )
    return body


NEW_MESSAGE_TITLE = gettext_lazy("New message about application %(ref)s")
NEW_MESSAGE_BODY = gettext_lazy("%(author)s wrote: %(excerpt)s")


def message_post(*, actor, application_id, body, file=None) -> Message:
    """Post a message to the application's thread, as the owner (from the portal) or as the
    bank (from the application page), with an optional attachment checked like every upload
    (size, type by content). The other side hears of it: the company's owners when the bank
    writes; the relationship manager and whoever holds the case when the owner does."""
    side = _side(actor)
    # The scope first: another company's application is a 404 whatever was sent.
    application = thread_application(actor=actor, application_id=application_id)
    body = _body_clean(body)
    kind = display = None
    if file is not None:
        kind, display = validate_upload(file)
    with transaction.atomic():
        message = Message(application=application, author=actor, side=side, body=body)
        if file is not None:
            message.attachment_name = display
            message.attachment_content_type = kind.content_type
            message.attachment_extension = kind.extension
            message.attachment_size = file.size
            message.attachment_sha256 = upload_sha256(file)
            message.attachment.save("upload", file, save=False)
        message.save()
        audit_record(
            action="message_post",
            actor=actor,
            actor_role=primary_role(actor),
            application=application,
            kind=AuditEvent.Kind.ACTION,
            subject_type="messaging.message",
            subject_id=message.pk,
            data={
                "side": side,
                "length": len(body),
                "attachment_sha256": message.attachment_sha256,
            },
        )
        _notify_other_side(message, application=application)
    return message


def _notify_other_side(message: Message, *, application: LoanApplication) -> None:
    excerpt = (
        message.body
        if len(message.body) <= EXCERPT_LENGTH
        else (message.body[: EXCERPT_LENGTH - 1] + "…")
    )
    if message.side == Side.OWNER:
        recipients = case_holders(application=application)
        url = reverse("application-detail", args=[application.pk]) + "#panel-messaging"
        author = application.company.name
    else:
        recipients = list(applicant_users(company_id=application.company_id))
        url = reverse("portal-application", args=[application.pk]) + "#messages"
        # Signed as on the portal: their relationship manager by name, other staff as the bank.
        author = message_author_name(message, for_owner=True)
    title = Formatted(NEW_MESSAGE_TITLE, ref=application.reference)
    text = Formatted(NEW_MESSAGE_BODY, author=author, excerpt=excerpt)
    notify_many(
        [
            Notice(
                user=user,
                kind=Kind.MESSAGE,
                title=title,
                body=text,
                url=url,
                application=application,
            )
            for user in recipients
            if user.pk != message.author_id
        ]
    )


def message_thread_read(*, actor, application: LoanApplication) -> int:
    """Mark the other side's messages read by `actor`'s side (when they open the thread).
    Returns how many were marked."""
    side = _side(actor)
    return (
        Message.objects.filter(application=application, read_at__isnull=True)
        .exclude(side=side)
        .update(read_at=timezone.now())
    )


# --- The satisfaction survey ----------------------------------------------------------------


def _score_clean(score) -> int:
    """A whole number from 1 to 5 (the API's and the page form's input alike)."""
    if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
        return score
    text = str(score if score is not None else "").strip()
    if text in {"1", "2", "3", "4", "5"}:
        return int(text)
    raise InvalidInput(details={"score": [_("Give a score from 1 to 5.")]})


def survey_answer(*, actor, application_id, stage: str, score, comment: str = "") -> SurveyAnswer:
    """The owner's answer to the satisfaction survey of one stage (after the decision, after
    the disbursement): a score from 1 to 5 and an optional comment, once per application and
    stage (a second answer is a 409)."""
    if not is_portal_user(actor):
        raise Forbidden()
    if stage not in SurveyStage.values:
        raise InvalidInput(details={"stage": [_("Unknown survey stage.")]})
    value = _score_clean(score)
    comment = str(comment or "").replace("\x00", "").strip()
    if len(comment) > SURVEY_COMMENT_MAX_LENGTH:
        raise InvalidInput(
            details={
                "comment": [
                    _("The comment is too long (%(limit)s characters at most).")
                    % {"limit": SURVEY_COMMENT_MAX_LENGTH}
                ]
            }
        )
    application = portal_application_get(user=actor, pk=application_id)
    if stage not in survey_stages_offered(application=application):
        raise Conflict(
            _("This survey is not open yet for this application."), code="survey_not_offered"
        )
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(
                application=application,
                stage=stage,
                score=value,
                comment=comment,
                answered_by=actor,
            )
            audit_record(
                action="survey_answer",
                actor=actor,
                actor_role=primary_role(actor),
                application=application,
                kind=AuditEvent.Kind.ACTION,
                subject_type="messaging.surveyanswer",
                subject_id=answer.pk,
                data={"stage": stage, "score": value},
            )
    except IntegrityError:
        raise Conflict(
            _("This survey was already answered for this application."),
            code="survey_already_answered",
        ) from None
    return answer
