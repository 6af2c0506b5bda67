from django import template

from investigation.models import CreditMemo, Flag
from investigation.selectors import score_current, score_reason_labels, score_rows
from org.selectors import is_staff_member

register = template.Library()


@register.simple_tag
def investigation_summary(application, user) -> dict | None:
    """What the application page shows of the investigation (staff only): the current score
    with its breakdown and reasons, the flags, and the ready memos."""
    if application is None or not is_staff_member(user):
        return None
    score = score_current(application=application)
    return {
        "score": score,
        "score_rows": score_rows(score),
        "reasons": score_reason_labels(score),
        "flags": list(Flag.objects.filter(application=application).order_by("id")),
        "memos": list(
            CreditMemo.objects.filter(
                application=application, status=CreditMemo.Status.READY
            ).order_by("-version")[:5]
        ),
    }
