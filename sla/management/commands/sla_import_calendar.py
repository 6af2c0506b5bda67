from django.core.management.base import BaseCommand, CommandError

from sla.seeding import CalendarImportError, import_calendar


class Command(BaseCommand):
    help = (
        "Import a year's public holidays and make-up working days (调休) from a CSV file with "
        "the columns date,kind,name (kind: holiday or workday; dates as YYYY-MM-DD), as the "
        "State Council publishes them. Weekday holidays and weekend working days only: the "
        "rest of the week is Monday to Friday. Every line is checked before anything is "
        "written; with --replace, the region's entries of the years in the file are replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--region", default="CN")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the region's existing entries of the file's years first.",
        )

    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                counts = import_calendar(
                    handle, region=options["region"], replace=options["replace"]
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from None
        except CalendarImportError as exc:
            raise CommandError(str(exc)) from None
        for year, count in sorted(counts.items()):
            self.stdout.write(f"{options['region']} {year}: {count} days imported.")
