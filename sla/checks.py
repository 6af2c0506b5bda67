"""System checks of the SLA engine (run by `manage.py check --database default` and by
`migrate`): business time needs the holiday calendar of this year and the next."""

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from django.utils.translation import gettext as _

from sla.selectors import calendar_years_missing


def calendar_missing_message(region: str, year: int) -> str:
    return _(
        "No holiday data for calendar region %(region)s in %(year)s: business time in "
        "%(year)s counts Monday to Friday only, public holidays included."
    ) % {"region": region, "year": year}


def calendar_missing_hint() -> str:
    return _(
        "Import the State Council's schedule when it is published (manage.py "
        "sla_import_calendar FILE), or enter the year's holidays and make-up working days in "
        "the admin (SLA engine > Calendar days)."
    )


@register(Tags.database)
def calendar_covers_this_year_and_next(app_configs, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    try:
        missing = calendar_years_missing()
    except DatabaseError:  # not migrated yet: migrate runs the checks before it migrates
        return []
    return [
        Warning(calendar_missing_message(region, year), hint=calendar_missing_hint(), id="sla.W001")
        for region, year in missing
    ]


@register(Tags.caches, deploy=True)
def cache_shared_between_processes(app_configs, **kwargs):
    """Business time, the API's rate limits and head office's queue counts rely on one cache
    for every web process and worker: a per-process cache keeps a calendar edit from the
    other processes for up to sla.calendar.CACHE_SECONDS, and multiplies every rate limit."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            Warning(
                _("The cache is kept in each process (CACHE_URL is not set)."),
                hint=_(
                    "Set CACHE_URL to a Redis database of its own (not the broker's), so "
                    "every web process and worker shares the holiday calendar and the rate "
                    "limits."
                ),
                id="sla.W002",
            )
        ]
    return []
