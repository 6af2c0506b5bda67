from datetime import date

from django.core.management.base import BaseCommand

from datasources.services import loans_requery


class Command(BaseCommand):
    help = (
        "Ask the sources again about the active loans due by their class's interval, under a "
        "consent in force (idempotent; what the nightly beat task runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="The business date (YYYY-MM-DD); today by default.",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="At most this many calls (the setting's)."
        )

    def handle(self, *args, as_of=None, limit=None, **options):
        counts = loans_requery(today=as_of, limit=limit)
        self.stdout.write(", ".join(f"{key}={value}" for key, value in counts.items()))
