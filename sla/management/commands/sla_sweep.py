import time

from django.core.management.base import BaseCommand

from sla.services import sla_sweep


class Command(BaseCommand):
    help = "Fire due SLA reminders and escalations (exactly once; safe to run any time)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        fired = sla_sweep()
        self.stdout.write(f"Fired {fired} SLA events in {time.perf_counter() - started:.3f} s.")
