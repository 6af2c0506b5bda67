"""manage.py analytics_vintage_backfill --since YYYY-MM: record every loan's position at each
month end from that month to the last one (the vintage curves' history; the monthly job
records each new month end)."""

from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from analytics.services import loan_month_ends_backfill


class Command(BaseCommand):
    help = "Record loans' positions at past month ends, for the vintage curves."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="The first month, YYYY-MM.")

    def handle(self, *args, since: str, **options):
        try:
            start: date = datetime.strptime(since, "%Y-%m").date()
        except ValueError:
            raise CommandError("--since must be a month such as 2024-01.") from None
        written = loan_month_ends_backfill(since=start)
        self.stdout.write(f"Recorded {written} loan positions at month ends.")
