from django.db.models import QuerySet

from audit.models import AuditEvent


def application_timeline(*, application, include_refusals: bool = False) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(application=application).select_related("actor")
    if not include_refusals:
        events = events.exclude(kind=AuditEvent.Kind.REFUSAL)
    return events.order_by("at", "id")
