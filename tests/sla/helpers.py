from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sla import services
from sla.models import Deadline, SlaPolicy

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def one_day_policy(step: str = "investigation") -> SlaPolicy:
    """1 business day, reminder at 75% (6 h), second escalation 4 business hours late."""
    return SlaPolicy.objects.create(
        step=step, target=1, unit="days", reminder_percent=75, escalation2_after_hours=4
    )


def overdue_deadline(
    *, owner, branch, step="investigation", subject_id=1, hours_ago: int = 400, application=None
) -> Deadline:
    """A deadline started long ago: reminder, escalation 1 and 2 are all due now."""
    from django.utils import timezone

    return services.clock_start(
        subject_type="tests.task",
        subject_id=subject_id,
        step=step,
        owner=owner,
        role="relationship_manager",
        branch=branch,
        application=application,
        started_at=timezone.now() - timedelta(hours=hours_ago),
    )
