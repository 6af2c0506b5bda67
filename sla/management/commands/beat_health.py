from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

# Beat's heartbeat: the SLA sweep it sends every minute (CELERY_BEAT_SCHEDULE).
HEARTBEAT = "sla-sweep"


class Command(BaseCommand):
    help = (
        "Exit 0 while Celery beat is sending the every-minute SLA sweep, 1 when it has not "
        "for --max-age seconds (beat's compose health check). Beat records a send in the "
        "database within about three minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=300, help="seconds (default 300)")

    def handle(self, *args, max_age, **options):
        last = (
            PeriodicTask.objects.filter(name=HEARTBEAT)
            .values_list("last_run_at", flat=True)
            .first()
        )
        if last is None:
            raise CommandError(f"Beat has never sent {HEARTBEAT!r}.")
        age = (timezone.now() - last).total_seconds()
        if age > max_age:
            raise CommandError(f"Beat last sent {HEARTBEAT!r} {age:.0f} s ago (> {max_age} s).")
        self.stdout.write(f"Beat sent {HEARTBEAT!r} {age:.0f} s ago.")
