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
