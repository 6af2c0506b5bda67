from django import template

from investigation.selectors import case_summary
from org.selectors import is_staff_member

register = template.Library()


@register.simple_tag
def investigation_summary(application, user) -> dict | None:
    """What the application page shows of the investigation (staff only): the credit case
    (investigation.selectors.case_summary)."""
    if application is None or not is_staff_member(user):
        return None
    return case_summary(application=application)


@register.filter
def evidence_items(evidence) -> list[tuple[str, str]]:
    """A flag's evidence as (words, value) pairs: `bank_gap_pct` reads "Bank gap pct"."""
    if not isinstance(evidence, dict):
        return []
    return [(str(key).replace("_", " ").capitalize(), value) for key, value in evidence.items()]
