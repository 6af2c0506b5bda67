from django import template

from messaging import selectors, services
from messaging.models import BODY_MAX_LENGTH, Side, SurveyStage

register = template.Library()


@register.simple_tag
def message_panel(application, user):
    """The thread for a panel, oldest first. Opening the page is opening the thread: the
    other side's messages are marked read (those unread until now are flagged `is_new`)."""
    side = Side.OWNER if selectors.is_owner_side(user) else Side.BANK
    thread = list(selectors.message_thread(application=application))
    for message in thread:
        message.is_new = message.side != side and message.read_at is None
        message.author_name = selectors.message_author_name(message, for_owner=side == Side.OWNER)
    services.message_thread_read(actor=user, application=application)
    context = {
        "thread": thread,
        "side": side,
        "max_length": BODY_MAX_LENGTH,
    }
    if side == Side.OWNER:
        labels = dict(SurveyStage.choices)
        context["survey_stages"] = [
            (stage, labels[stage])
            for stage in selectors.survey_open_stages(application=application)
        ]
        context["survey_answers"] = list(selectors.survey_answers(application=application))
    return context
