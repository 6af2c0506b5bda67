"""manage.py analytics_backfill: fill in business time of visits recorded while no business
calendar was available; with --rebuild, first rebuild every application's stage visits from the
audit trail (for records that predate the analytics app)."""

from django.core.management.base import BaseCommand

from analytics.services import stage_visits_rebuild, stage_visits_recompute_business_time
from applications.models import LoanApplication


class Command(BaseCommand):
    help = "Rebuild stage visits from the audit trail and recompute business time."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Rebuild every application's visits from its audit trail.",
        )
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, rebuild: bool = False, batch_size: int = 1000, **options):
        if rebuild:
            written = 0
            ids = LoanApplication.objects.order_by("pk").values_list("pk", flat=True)
            batch: list[int] = []
            for pk in ids.iterator(chunk_size=batch_size):
                batch.append(pk)
                if len(batch) >= batch_size:
                    written += stage_visits_rebuild(application_ids=batch)
                    batch = []
            if batch:
                written += stage_visits_rebuild(application_ids=batch)
            self.stdout.write(f"Rebuilt {written} stage visits.")
        updated = stage_visits_recompute_business_time(batch_size=batch_size)
        self.stdout.write(f"Recomputed business time of {updated} stage visits.")
