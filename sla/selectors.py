from django.db.models import QuerySet

from sla.models import Deadline

OPEN = (Deadline.Status.PENDING, Deadline.Status.PAUSED)


def deadline_for(subject_type: str, subject_id: int) -> Deadline | None:
    """The subject's open deadline with the earliest due time (None if no clock runs)."""
    return (
        Deadline.objects.filter(subject_type=subject_type, subject_id=subject_id, status__in=OPEN)
        .order_by("due_at")
        .first()
    )


def deadlines_for(subject_type: str, ids) -> dict[int, Deadline]:
    """Open deadlines of many subjects in one query: {subject_id: earliest-due deadline}."""
    ids = list(ids)
    if not ids:
        return {}
    found: dict[int, Deadline] = {}
    for deadline in Deadline.objects.filter(
        subject_type=subject_type, subject_id__in=ids, status__in=OPEN
    ).order_by("-due_at"):
        found[deadline.subject_id] = deadline  # later rows have earlier due times: they win
    return found


def deadline_list_for_application(*, application) -> QuerySet[Deadline]:
    return (
        Deadline.objects.filter(application=application)
        .select_related("owner", "branch")
        .order_by("-started_at", "-id")
    )


def calendar_regions() -> list[str]:
    """The calendar regions in use: the branches' and those with business hours (CN always)."""
    from org.models import Branch
    from sla.models import BusinessHours

    return sorted(
        {"CN"}
        | set(Branch.objects.values_list("region", flat=True).distinct())
        | set(BusinessHours.objects.values_list("region", flat=True))
    )


def calendar_years_missing(*, years=None) -> list[tuple[str, int]]:
    """(region, year) for each region in use and each of `years` (default: this year and
    next) without holiday data: business time in such a year counts Monday to Friday only,
    public holidays included. A year counts as entered once it has a holiday on a weekday
    (every published year has some, the Spring Festival at least)."""
    from sla.models import CalendarDay

    years = sorted(years or _this_year_and_next())
    entered = set(
        CalendarDay.objects.filter(kind=CalendarDay.Kind.HOLIDAY, date__year__in=years)
        .values_list("region", "date__year")
        .distinct()
    )
    return [
        (region, year)
        for region in calendar_regions()
        for year in years
        if (region, year) not in entered
    ]


def _this_year_and_next() -> list[int]:
    from django.utils import timezone

    year = timezone.localdate().year
    return [year, year + 1]
