"""Beat's compose health check: healthy while beat keeps sending the every-minute SLA sweep."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def sweep_sent(ago: timedelta) -> None:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="sla-sweep",
        defaults={
            "task": "sla.tasks.sweep",
            "interval": every_minute,
            "last_run_at": timezone.now() - ago,
        },
    )


def test_beat_is_unhealthy_before_it_has_ever_sent_the_sweep():
    PeriodicTask.objects.filter(name="sla-sweep").delete()
    with pytest.raises(CommandError, match="never sent"):
        call_command("beat_health")


def test_beat_is_healthy_while_it_sent_the_sweep_recently(capsys):
    sweep_sent(timedelta(minutes=2))
    call_command("beat_health", "--max-age", "300")
    assert "Beat sent 'sla-sweep'" in capsys.readouterr().out


def test_beat_is_unhealthy_when_the_sweep_was_last_sent_too_long_ago():
    sweep_sent(timedelta(minutes=10))
    with pytest.raises(CommandError, match=r"s ago \(> 300 s\)"):
        call_command("beat_health", "--max-age", "300")
