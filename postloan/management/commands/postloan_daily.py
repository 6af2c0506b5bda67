from datetime import date

from django.core.management.base import BaseCommand

from postloan.daily import daily_job_run


class Command(BaseCommand):
    help = (
        "Recompute days past due, classification floors, due inspections and early "
        "warnings for every active loan, then send the owners' repayment reminders "
        "(idempotent; what the daily beat task runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="The business date (YYYY-MM-DD); today by default.",
        )

    def handle(self, *args, as_of=None, **options):
        counts = daily_job_run(as_of=as_of)
        self.stdout.write(", ".join(f"{key}={value}" for key, value in counts.items()))
