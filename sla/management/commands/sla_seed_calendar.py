from django.core.management.base import BaseCommand
from django.utils import timezone

from sla.seeding import seed_calendar


class Command(BaseCommand):
    help = (
        "Seed holidays and make-up working days (调休) for the current and next year from "
        "the chinese_calendar package."
    )

    def add_arguments(self, parser):
        parser.add_argument("--region", default="CN")
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            help="Year(s) to seed (default: this year and next).",
        )

    def handle(self, *args, **options):
        this_year = timezone.localdate().year
        years = options["year"] or [this_year, this_year + 1]
        for year, count, note in seed_calendar(years=years, region=options["region"]):
            self.stdout.write(f"{year}: {count} days. {note}".strip())
