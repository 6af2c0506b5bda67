from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def format_business_seconds(seconds: int, *, seconds_per_day: int = 8 * 3600) -> str:
    """'2 business days 3 h', '45 min' (absolute value; the caller says early or late)."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, seconds_per_day)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d business day", "%(n)d business days", days) % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes and not days:
        parts.append(_("%(n)d min") % {"n": minutes})
    return " ".join(parts) or _("less than a minute")


@register.inclusion_tag("sla/deadline_badge.html")
def deadline_badge(deadline):
    """Due time and remaining business time of a deadline (overdue marked); nothing if None."""
    if deadline is None:
        return {"deadline": None}
    from sla.calendar import get_calendar

    remaining = deadline.remaining_business_seconds()
    per_day = get_calendar(deadline.region).seconds_per_day
    return {
        "deadline": deadline,
        "overdue": remaining < 0,
        "paused": deadline.status == deadline.Status.PAUSED,
        "stopped": deadline.status == deadline.Status.STOPPED,
        "remaining": format_business_seconds(remaining, seconds_per_day=per_day),
    }


@register.filter
def business_duration(seconds):
    return format_business_seconds(seconds or 0)


@register.simple_tag
def calendar_coverage_notices() -> list[str]:
    """The admin's banner: the calendar regions and years in use without holiday data."""
    from sla.checks import calendar_missing_message
    from sla.selectors import calendar_years_missing

    return [calendar_missing_message(region, year) for region, year in calendar_years_missing()]
