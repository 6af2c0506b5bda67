from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sla.seeding import seed_calendar


class Command(BaseCommand):
    help = (
        "Seed holidays and make-up working days (调休) for the current and next year from "
        "the chinese_calendar package. Years it has no data for are named on stderr; the "
        "command fails when the current year is one of them."
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
        missing = []
        for year, count, note in seed_calendar(years=years, region=options["region"]):
            if note:
                missing.append(year)
                self.stderr.write(self.style.WARNING(f"{year}: not seeded. {note}"))
            else:
                self.stdout.write(f"{year}: {count} days.")
        if this_year in missing:
            raise CommandError(
                f"The calendar of the current year ({this_year}) could not be seeded: "
                "business time would count public holidays as working days. Import the "
                "year with `manage.py sla_import_calendar FILE` or enter it in the admin."
            )
