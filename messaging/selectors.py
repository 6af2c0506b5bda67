"""Reads of the thread and the survey. The application is always found through the scope of
the one who asks: staff through applications.selectors (their branch subtree), an owner
through portal.selectors (their company's applications); anyone else gets NotFound."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from applications.models import LoanApplication, Status
from applications.selectors import is_portal_user
from approvals.models import ApprovalTask
from messaging.models import Message, Side, SurveyAnswer, SurveyStage


def message_thread(*, application: LoanApplication) -> QuerySet[Message]:
    """The application's messages, oldest first, with their authors."""
    return (
        Message.objects.filter(application=application)
        .select_related("author", "application")
        .order_by("created_at", "id")
    )


def message_get(*, application: LoanApplication, pk) -> Message | None:
    try:
        return Message.objects.filter(application=application, pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def case_holders(*, application: LoanApplication) -> list:
    """Who at the bank hears of an owner's message: the relationship manager, and whoever
    holds the case now if someone else does (the investigator during the investigation,
    the claimant of the open approval task during approval), each once."""
    holders = [application.relationship_manager_id]
    status = application.status
    if status == Status.INFO_REQUESTED:
        status = application.resume_status or status
    if status == Status.INVESTIGATION and application.investigator_id:
        holders.append(application.investigator_id)
    elif status == Status.IN_APPROVAL:
        holders += list(
            ApprovalTask.objects.filter(
                application=application,
                status=ApprovalTask.Status.CLAIMED,
                claimed_by__isnull=False,
            ).values_list("claimed_by_id", flat=True)
        )
    ids = list(dict.fromkeys(holders))
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}
    return [users[pk] for pk in ids if pk in users]


def survey_stages_offered(*, application: LoanApplication) -> list[str]:
    """The survey's stages the application has reached: the decision once it was approved
    or declined (decided_at, which analytics counts too), the disbursement once the money
    was paid out (disbursed_at)."""
    stages = []
    if application.decided_at is not None:
        stages.append(SurveyStage.DECISION)
    if application.disbursed_at is not None:
        stages.append(SurveyStage.DISBURSEMENT)
    return stages


def survey_open_stages(*, application: LoanApplication) -> list[str]:
    """The stages offered and not answered yet (what the portal asks)."""
    offered = survey_stages_offered(application=application)
    if not offered:
        return []
    answered = set(
        SurveyAnswer.objects.filter(application=application).values_list("stage", flat=True)
    )
    return [stage for stage in offered if stage not in answered]


def survey_answers(*, application: LoanApplication) -> QuerySet[SurveyAnswer]:
    return SurveyAnswer.objects.filter(application=application).order_by("answered_at", "id")


def message_author_name(message: Message, *, for_owner: bool):
    """Who wrote the message, as the reader sees it. Staff see every author's name; the owner
    sees their relationship manager's name on the bank's messages, or "the bank" when other
    staff wrote (the portal names no other staff), lazily translated: a notification renders
    it in each recipient's language."""
    author = message.author
    name = author.get_full_name() or author.username
    if message.side == Side.OWNER or not for_owner:
        return name
    if author.pk == message.application.relationship_manager_id:
        return name
    return _("The bank")


def attachment_url(message: Message, *, for_owner: bool) -> str:
    name = "api-portal-message-attachment" if for_owner else "api-message-attachment"
    return reverse(name, args=[message.application_id, message.pk])


def is_owner_side(user) -> bool:
    return is_portal_user(user)
